//! `POST /getServiceKeys/token`, the platform's OAuth token endpoint (served
//! by `https://platform.parallel.ai`; here on the same port as the API).
//! Only the refresh grant is emulated, with rotation: each refresh token
//! works once. Errors are OAuth-shaped (`{"error": "invalid_grant", …}`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use crate::errors::json_response;
use crate::logins::unix_now;
use crate::state::{Shared, lock};

pub async fn grant(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form_encoded = super::content_type(&headers).is_some_and(|value| {
        value.split(';').next().is_some_and(|kind| {
            kind.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    });
    if !form_encoded {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "error": "invalid_request",
                "error_description": "the body must be application/x-www-form-urlencoded",
            }),
        );
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let answer = lock(&shared.logins).token_request(&form, unix_now());
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, &answer.body);
    // RFC 6749 §5.1: token answers must not be cached.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
