//! `POST /service/v1/apps/{app_id}/keys` and
//! `DELETE /service/v1/apps/{app_id}/keys/{api_key_id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::content_type;
use crate::errors::{ApiError, json_response};
use crate::state::{Shared, lock};
use crate::validation::{StrRules, body_object, decode_body, path_uuid, required_str};

/// The schema documents `api_key_name` as a plain required string, with no
/// length limits. Whether the service accepts "" is undocumented, so the
/// emulator is strict and answers pydantic's `min_length=1` error.
const KEY_NAME_RULES: StrRules = StrRules {
    min_length: Some(1),
    max_length: None,
};

pub async fn create(
    State(shared): State<Arc<Shared>>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = decode_body(content_type(&headers), &body)?;
    let mut issues = Vec::new();
    let app_id = path_uuid("app_id", &app_id, &mut issues);
    let api_key_name = body_object(&body, &mut issues)
        .and_then(|fields| required_str(fields, "api_key_name", KEY_NAME_RULES, &mut issues));
    let (Some(app_id), Some(api_key_name)) = (app_id, api_key_name) else {
        return Err(ApiError::Validation(issues));
    };
    let key = lock(&shared.store).create_key(app_id, api_key_name)?;
    Ok(json_response(StatusCode::OK, &key))
}

/// `api_key_id` is a plain string in the schema (only `app_id` is a UUID),
/// so any id is accepted and unknown ones are simply not found.
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((app_id, api_key_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let mut issues = Vec::new();
    let Some(app_id) = path_uuid("app_id", &app_id, &mut issues) else {
        return Err(ApiError::Validation(issues));
    };
    lock(&shared.store).delete_key(app_id, &api_key_id)?;
    Ok(json_response(StatusCode::OK, &json!({})))
}
