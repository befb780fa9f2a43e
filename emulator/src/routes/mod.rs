//! The HTTP surface: the seven Account API endpoints under `/service/v1`
//! (bearer-protected, logged, fault-injectable), the platform's token
//! endpoint `/getServiceKeys/token` (logged, fault-injectable) and the
//! unauthenticated `/_emulator` admin routes used by test tooling.

mod admin;
mod apps;
mod auth;
mod balance;
mod keys;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

use crate::errors::{ApiError, detail_response};
use crate::intercept::intercept;
use crate::state::Shared;
use crate::store::StoreError;

pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/service/v1/apps", get(apps::list).post(apps::create))
        .route("/service/v1/apps/{app_id}", delete(apps::delete))
        .route("/service/v1/apps/{app_id}/keys", post(keys::create))
        .route(
            "/service/v1/apps/{app_id}/keys/{api_key_id}",
            delete(keys::delete),
        )
        .route("/service/v1/balance", get(balance::get))
        .route("/service/v1/balance/add", post(balance::add))
        // Only matched routes need a token: unknown paths are 404 and wrong
        // methods 405 whoever asks, as in FastAPI.
        .route_layer(from_fn_with_state(
            Arc::clone(&shared),
            auth::require_bearer,
        ))
        // The platform's token endpoint needs no bearer token; it is logged
        // and fault-injectable like the API routes.
        .route("/getServiceKeys/token", post(token::grant))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(from_fn_with_state(Arc::clone(&shared), intercept))
        .with_state(Arc::clone(&shared));
    api.merge(admin::router(shared))
}

/// Starlette's `redirect_slashes`: `/service/v1/apps/` is answered with a
/// 307 to `/service/v1/apps`. Starlette only redirects when the slash-less
/// path exists; redirecting every such path differs only in that an unknown
/// one costs the client one more hop before its 404.
async fn not_found(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path.len() > 1 && path.ends_with('/') {
        let mut target = path.trim_end_matches('/').to_owned();
        if target.is_empty() {
            target.push('/');
        }
        if let Some(query) = uri.query() {
            target = format!("{target}?{query}");
        }
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok());
        let location = match host {
            Some(host) => format!("http://{host}{target}"),
            None => target,
        };
        if let Ok(location) = HeaderValue::from_str(&location) {
            return (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, location)],
            )
                .into_response();
        }
    }
    detail_response(StatusCode::NOT_FOUND, "Not Found")
}

async fn method_not_allowed() -> Response {
    detail_response(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    // A header that is not visible ASCII cannot name JSON; treating it as
    // "some other type" makes pydantic reject the body, as FastAPI would.
    headers
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap_or("application/octet-stream"))
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::AppNotFound | StoreError::KeyNotFound => ApiError::NotFound(error.detail()),
            StoreError::IdempotencyKeyReused => ApiError::Conflict(error.detail()),
            // The API documents no answer for an invoice-billed organization
            // adding balance. Our choice: 400 with a `detail`, FastAPI's
            // usual `HTTPException` for a request that is well formed but
            // not allowed for this organization; 402 would suggest a failed
            // payment and 409 a conflict with other requests. Either way it
            // is a 4xx, which tells a client that nothing was charged.
            StoreError::BilledByInvoice => ApiError::BadRequest(error.detail()),
        }
    }
}
