//! The app calls: create and delete (listing lives in `mod.rs`, beside the
//! key calls that rely on it).

use reqwest::Method;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::models::parse_apps;
use super::redact::success_excerpt;
use super::retry::Idempotency;
use super::transport::{self, Call};
use super::{AccountClient, ApiError, App, Deletion};

/// Why an app could not be created, and whether it may exist anyway.
#[derive(Debug)]
pub struct CreateAppError {
    pub error: ApiError,
    /// The API may have created the app although no answer said so (the
    /// connection broke after the request was sent).
    pub may_have_created: bool,
}

#[derive(Deserialize)]
struct CreatedApp {
    app_id: Uuid,
}

impl AccountClient {
    /// Lists the apps of the token's organization.
    pub async fn list_apps(&self, cancel: &CancellationToken) -> Result<Vec<App>, ApiError> {
        let answer = self.get(&["service", "v1", "apps"], cancel).await?;
        parse_apps(
            &answer,
            &transport::as_strs(&self.inner.transport.secrets()),
        )
    }

    /// Creates an app named `app_name` and returns its ID.
    ///
    /// Not idempotent (two calls make two apps): retried only when the API
    /// certainly did not act.
    pub async fn create_app(
        &self,
        app_name: &str,
        cancel: &CancellationToken,
    ) -> Result<Uuid, CreateAppError> {
        let not_created = |error| CreateAppError {
            error,
            may_have_created: false,
        };
        let url = self.url(&["service", "v1", "apps"]).map_err(not_created)?;
        let body = serde_json::json!({ "app_name": app_name }).to_string();
        let call = Call {
            method: Method::POST,
            url: &url,
            json_body: Some(body.into_bytes()),
            idempotency: Idempotency::NotIdempotent,
        };
        let answer = self
            .inner
            .transport
            .call(&call, cancel)
            .await
            .map_err(|f| CreateAppError {
                error: f.error,
                may_have_created: f.may_have_acted,
            })?;
        serde_json::from_slice::<CreatedApp>(&answer.body)
            .map(|created| created.app_id)
            .map_err(|e| CreateAppError {
                // A 2xx answer: the app exists, but its ID is unreadable.
                may_have_created: true,
                error: ApiError::Undecodable {
                    status: answer.status,
                    problem: format!("no readable app_id in the answer ({e})"),
                    excerpt: success_excerpt(
                        &answer.body,
                        &super::transport::as_strs(&self.inner.transport.secrets()),
                    ),
                },
            })
    }

    /// Deletes app `app_id`. Idempotent: an app the API says does not exist
    /// counts as deleted (a bare 404 page, which means base_url points
    /// elsewhere, does not).
    ///
    /// Unlike `delete_key`, FastAPI's bare `{"detail":"Not Found"}` is an
    /// error here even when the API answers other calls: it is also what
    /// FastAPI says for a route it does not have, and this route is the one
    /// the API's published description is least sure of. Counting it as
    /// gone could end a destroy with the app, and its keys, still live.
    pub async fn delete_app(
        &self,
        app_id: Uuid,
        cancel: &CancellationToken,
    ) -> Result<Deletion, ApiError> {
        let app_id = app_id.to_string();
        let url = self.url(&["service", "v1", "apps", &app_id])?;
        let call = Call {
            method: Method::DELETE,
            url: &url,
            json_body: None,
            idempotency: Idempotency::Idempotent,
        };
        match self.inner.transport.call(&call, cancel).await {
            Ok(_) => Ok(Deletion::Revoked),
            Err(failure) if failure.error.is_object_not_found() => Ok(Deletion::AlreadyGone),
            Err(failure) => Err(failure.error),
        }
    }
}
