//! `GET /service/v1/balance` and `POST /service/v1/balance/add`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::content_type;
use crate::errors::{ApiError, json_response};
use crate::state::{Shared, lock};
use crate::validation::{IntRules, StrRules, body_object, decode_body, required_int, required_str};

/// Documented: `exclusiveMinimum: 0`, `maximum: 10000` ($100.00).
const AMOUNT_RULES: IntRules = IntRules {
    gt: Some(0),
    le: Some(10_000),
};

/// Documented: `minLength: 8`, `maxLength: 128`.
const IDEMPOTENCY_KEY_RULES: StrRules = StrRules {
    min_length: Some(8),
    max_length: Some(128),
};

pub async fn get(State(shared): State<Arc<Shared>>) -> Response {
    let balance = lock(&shared.store).balance();
    json_response(StatusCode::OK, &balance)
}

pub async fn add(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = decode_body(content_type(&headers), &body)?;
    let mut issues = Vec::new();
    let mut request = (None, None);
    if let Some(fields) = body_object(&body, &mut issues) {
        request = (
            required_int(fields, "amount_cents", AMOUNT_RULES, &mut issues),
            required_str(
                fields,
                "idempotency_key",
                IDEMPOTENCY_KEY_RULES,
                &mut issues,
            ),
        );
    }
    let (Some(amount_cents), Some(idempotency_key)) = request else {
        return Err(ApiError::Validation(issues));
    };
    let balance = lock(&shared.store).add_balance(amount_cents, idempotency_key)?;
    Ok(json_response(StatusCode::OK, &balance))
}
