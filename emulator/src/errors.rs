//! Error responses shaped exactly like FastAPI's, because the real Account API
//! is a FastAPI service and clients parse these bodies.
//!
//! * validation failures: `422 {"detail": [{"type", "loc", "msg", "input", "ctx"?}, ...]}`
//!   (pydantic v2 error dicts, without the `url` key that FastAPI strips)
//! * everything else: `{"detail": "<text>"}` with the matching status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// One element of a pydantic error location: field names are strings,
/// list indexes and JSON error positions are integers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LocPart {
    Name(String),
    Index(usize),
}

impl From<&str> for LocPart {
    fn from(name: &str) -> Self {
        LocPart::Name(name.to_owned())
    }
}

impl From<usize> for LocPart {
    fn from(index: usize) -> Self {
        LocPart::Index(index)
    }
}

/// A single pydantic v2 validation error. Field order matters for byte-exact
/// output, so it follows pydantic's `errors()` order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationIssue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub loc: Vec<LocPart>,
    pub msg: String,
    pub input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
}

impl ValidationIssue {
    pub fn new(
        kind: &'static str,
        loc: Vec<LocPart>,
        msg: impl Into<String>,
        input: Value,
    ) -> Self {
        ValidationIssue {
            kind,
            loc,
            msg: msg.into(),
            input,
            ctx: None,
        }
    }

    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(ctx);
        self
    }
}

/// Everything a route can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("{} validation issue(s)", .0.len())]
    Validation(Vec<ValidationIssue>),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// Serialised from a struct, not a `Value`, so the pydantic key order of
/// each issue survives (a `Value` map would sort the keys).
#[derive(Serialize)]
struct ValidationBody<'a> {
    detail: &'a [ValidationIssue],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match &self {
            ApiError::Validation(issues) => {
                json_response(self.status(), &ValidationBody { detail: issues })
            }
            ApiError::BadRequest(text)
            | ApiError::Unauthorized(text)
            | ApiError::NotFound(text)
            | ApiError::Conflict(text) => detail_response(self.status(), text),
        };
        if matches!(self, ApiError::Unauthorized(_)) {
            // FastAPI's HTTPBearer sends this challenge with every 401.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// `{"detail": "<text>"}`, the shape of every non-validation FastAPI error.
pub fn detail_response(status: StatusCode, text: &str) -> Response {
    json_response(status, &serde_json::json!({ "detail": text }))
}

/// Serialises compactly, like Starlette's `JSONResponse`.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validation_issue_serialises_in_pydantic_key_order() {
        let issue = ValidationIssue::new(
            "uuid_parsing",
            vec!["path".into(), "app_id".into()],
            "Input should be a valid UUID, x",
            json!("nope"),
        )
        .with_ctx(json!({"error": "x"}));
        let text = serde_json::to_string(&issue).unwrap();
        assert_eq!(
            text,
            r#"{"type":"uuid_parsing","loc":["path","app_id"],"msg":"Input should be a valid UUID, x","input":"nope","ctx":{"error":"x"}}"#
        );
    }

    #[test]
    fn ctx_is_omitted_when_absent_and_integer_locs_stay_integers() {
        let issue = ValidationIssue::new(
            "json_invalid",
            vec!["body".into(), 3.into()],
            "m",
            json!({}),
        );
        let value = serde_json::to_value(&issue).unwrap();
        assert_eq!(value["loc"], json!(["body", 3]));
        assert!(value.get("ctx").is_none());
    }

    #[tokio::test]
    async fn validation_response_keeps_key_order() {
        let issue = ValidationIssue::new(
            "missing",
            vec!["body".into()],
            "Field required",
            Value::Null,
        );
        let response = ApiError::Validation(vec![issue]).into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            r#"{"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}"#
        );
    }

    #[test]
    fn unauthorized_carries_bearer_challenge() {
        let response = ApiError::Unauthorized("Not authenticated").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
