//! `GET/POST /service/v1/apps` and `DELETE /service/v1/apps/{app_id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::content_type;
use crate::errors::{ApiError, json_response};
use crate::state::{Shared, lock};
use crate::store::App;
use crate::validation::{
    StrRules, body_object, decode_body, optional_bool, path_uuid, required_str,
};

/// `app_name` has a documented `maxLength` of 200 and no documented minimum;
/// an empty name is refused anyway (as for key names) because an app nobody
/// can tell apart is never what a caller meant.
const APP_NAME_RULES: StrRules = StrRules {
    min_length: Some(1),
    max_length: Some(200),
};

/// A struct rather than `json!` so each `AppItem` keeps its documented
/// field order on the wire.
#[derive(Serialize)]
struct AppsResponse {
    apps: Vec<App>,
}

pub async fn list(State(shared): State<Arc<Shared>>) -> Response {
    let apps = lock(&shared.store).apps();
    json_response(StatusCode::OK, &AppsResponse { apps })
}

pub async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = decode_body(content_type(&headers), &body)?;
    let mut issues = Vec::new();
    let mut app_name = None;
    if let Some(fields) = body_object(&body, &mut issues) {
        app_name = required_str(fields, "app_name", APP_NAME_RULES, &mut issues);
        // Validated for its type only: the docs say the service API ignores it.
        let _ = optional_bool(fields, "allow_oauth_app_names", false, &mut issues);
    }
    let Some(app_name) = app_name.filter(|_| issues.is_empty()) else {
        return Err(ApiError::Validation(issues));
    };
    let app = lock(&shared.store).create_app(app_name);
    Ok(json_response(
        StatusCode::OK,
        &json!({ "app_id": app.app_id }),
    ))
}

/// The documented 200 schema is empty (`{}`), so an empty object is sent.
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(app_id): Path<String>,
) -> Result<Response, ApiError> {
    let mut issues = Vec::new();
    let Some(app_id) = path_uuid("app_id", &app_id, &mut issues) else {
        return Err(ApiError::Validation(issues));
    };
    lock(&shared.store).delete_app(app_id)?;
    Ok(json_response(StatusCode::OK, &json!({})))
}
