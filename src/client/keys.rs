//! The key calls of the Account API: create a key (its secret is in this
//! answer only) and revoke one. The API has no call that lists or reads
//! keys.

use reqwest::Method;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::models::parse_created_key;
use super::retry::Idempotency;
use super::transport::{self, Call};
use super::{AccountClient, ApiError, CreateKeyError, Deletion, NewKey, endpoint};

/// Whether `api_key_id` can address a key in a request (a delete).
pub fn is_usable_key_id(api_key_id: &str) -> bool {
    endpoint::is_usable_segment(api_key_id)
}

/// Longer than any ID an API hands out.
const MAX_KEY_ID_BYTES: usize = 256;

/// Whether `api_key_id` could be an ID Parallel gave: usable in a request,
/// not too long, and free of what no ID holds (spaces, control characters,
/// slashes, quotes, `?#%`, non-ASCII). A value that fails this came from
/// somewhere else (a state edited by hand); a delete by it would be
/// answered 404, which reads as "already revoked" while the real key lives.
pub fn is_plausible_key_id(api_key_id: &str) -> bool {
    is_usable_key_id(api_key_id)
        && api_key_id.len() <= MAX_KEY_ID_BYTES
        && api_key_id
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"/\\?#%\"'<>`".contains(&b))
}

impl AccountClient {
    /// Creates an API key named `api_key_name` in app `app_id`.
    ///
    /// Not idempotent: retried only when the API certainly did not act
    /// (429, 503, connection not established). The error says whether a key
    /// may nevertheless exist.
    #[allow(clippy::result_large_err)] // see `CreateKeyError`
    pub async fn create_key(
        &self,
        app_id: Uuid,
        api_key_name: &str,
        cancel: &CancellationToken,
    ) -> Result<NewKey, CreateKeyError> {
        let app_id = app_id.to_string();
        let url = self
            .url(&["service", "v1", "apps", &app_id, "keys"])
            .map_err(CreateKeyError::NotCreated)?;
        let body = serde_json::to_vec(&serde_json::json!({ "api_key_name": api_key_name }))
            .map_err(|e| {
                CreateKeyError::NotCreated(ApiError::InvalidInput {
                    problem: format!("the key name could not be encoded: {e}"),
                })
            })?;
        let call = Call {
            method: Method::POST,
            url: &url,
            json_body: Some(body),
            idempotency: Idempotency::NotIdempotent,
        };
        let answer = self
            .inner
            .transport
            .call(&call, cancel)
            .await
            .map_err(|f| CreateKeyError::from_failure(f.error, f.may_have_acted))?;
        parse_created_key(
            answer.status,
            &answer.body,
            answer.truncated,
            &transport::as_strs(&self.inner.transport.secrets()),
        )
    }

    /// Deletes key `api_key_id` of app `app_id`. Idempotent: a key that does
    /// not exist counts as deleted.
    ///
    /// A 404 counts as [`Deletion::AlreadyGone`] only when the API itself
    /// says the key or its app does not exist. A bare 404 page means
    /// base_url points somewhere else, and reporting the key as gone would
    /// leave a live key behind; FastAPI's ambiguous `{"detail":"Not Found"}`
    /// counts only once listing the apps proves base_url right.
    pub async fn delete_key(
        &self,
        app_id: Uuid,
        api_key_id: &str,
        cancel: &CancellationToken,
    ) -> Result<Deletion, ApiError> {
        let app_id = app_id.to_string();
        let url = self.url(&["service", "v1", "apps", &app_id, "keys", api_key_id])?;
        let call = Call {
            method: Method::DELETE,
            url: &url,
            json_body: None,
            idempotency: Idempotency::Idempotent,
        };
        match self.inner.transport.call(&call, cancel).await {
            Ok(_) => Ok(Deletion::Revoked),
            Err(failure) => match failure.error {
                error if error.is_object_not_found() => Ok(Deletion::AlreadyGone),
                // FastAPI's bare "Not Found" can mean a missing key as well
                // as a wrong base_url; an answer from the list of apps
                // proves base_url is the Account API, so the key is gone.
                error @ ApiError::NotFound {
                    detail: Some(_), ..
                } => match self.list_apps(cancel).await {
                    Ok(_) => Ok(Deletion::AlreadyGone),
                    Err(_) => Err(error),
                },
                error => Err(error),
            },
        }
    }

    /// Where one key lives (the URL a DELETE revokes it at), for telling a
    /// person how to revoke a key by hand; `None` for an unusable ID.
    pub fn key_url(&self, app_id: Uuid, api_key_id: &str) -> Option<String> {
        let app_id = app_id.to_string();
        let segments = ["service", "v1", "apps", &app_id, "keys", api_key_id];
        self.url(&segments).ok().map(String::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_that_no_api_gives_are_told_apart() {
        for id in ["key_123", "3c90c3cc-0d44-4b50-8888-8dd25736052a", "k.1:a~b"] {
            assert!(is_plausible_key_id(id), "{id}");
        }
        let long = "k".repeat(300);
        for id in [
            "",
            "..",
            "not an id",
            "a/b",
            "caf\u{e9}",
            "x?y",
            "\"k\"",
            long.as_str(),
        ] {
            assert!(!is_plausible_key_id(id), "{id}");
        }
    }
}
