//! The Parallel platform's OAuth token endpoint,
//! `POST {PARALLEL_PLATFORM_URL}/getServiceKeys/token`: the refresh grant
//! that keeps a saved Parallel CLI login's access token fresh.
//!
//! Refresh tokens rotate: once the platform has answered, the refresh token
//! sent is spent. So a refresh is retried only when the platform certainly
//! did not see it (no connection, 429, 503), like a key creation; a lost
//! answer leaves a login that only `parallel-cli login` mends.
//!
//! Nothing about a token request is logged beyond its status and the OAuth
//! error code: the request carries the refresh token and the answer two
//! fresh secrets.

use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::error::{ApiError, ConfigError};
use super::lazy_http::LazyHttp;
use super::problem::error_for_status;
use super::redact::{scrub, shorten};
use super::retry::{
    Idempotency, delay_before_retry, is_retryable, parse_retry_after, server_may_have_acted,
};
use super::{endpoint, http_builder};
use crate::secret::Secret;

pub const DEFAULT_PLATFORM_URL: &str = "https://platform.parallel.ai";
/// Largest token answer read: a real one is well under 4 KiB.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// At most this many retries of a refresh, whatever `max_retries` says:
/// a login waiting on the platform holds every other request of the run.
const MAX_REFRESH_RETRIES: u32 = 2;

/// Everything needed to build a [`PlatformClient`].
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// The platform's root, `https://platform.parallel.ai` by default.
    pub platform_url: String,
    pub max_retries: u32,
    pub request_timeout: Duration,
    pub ca_cert_pem: Option<String>,
    pub user_agent: String,
}

/// A successful refresh. Lifetimes are in seconds from now; the platform
/// sends them all, but a missing one is `None` rather than a failure.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: Secret,
    /// The rotated refresh token; `None` when the platform kept the old one.
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<i64>,
    pub refresh_token_expires_in: Option<i64>,
    pub authorization_expires_in: Option<i64>,
    /// Space-separated scopes of the new access token.
    pub scope: Option<String>,
    pub org_id: Option<String>,
}

/// Why a refresh failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    /// The platform refused the grant (`invalid_grant`: the refresh token
    /// is spent, expired or revoked; `invalid_client`: the client_id is
    /// unknown). Only a new login helps.
    #[error("the platform refused to refresh the login ({})", refused_text(.error, .description))]
    Refused {
        error: String,
        description: Option<String>,
    },
    /// The platform could not be reached or answered something else.
    #[error("{0}")]
    Failed(ApiError),
}

impl RefreshError {
    /// Asking again later may help (the login itself is not to blame).
    pub fn is_transient(&self) -> bool {
        match self {
            RefreshError::Refused { .. } => false,
            RefreshError::Failed(error) => !matches!(error, ApiError::Undecodable { .. }),
        }
    }

    /// Whether the platform may have taken the grant, and so spent the
    /// refresh token sent, before the answer was lost. A refusal took
    /// nothing; a cancellation comes before a request is sent (see
    /// [`PlatformClient::refresh`]).
    pub fn may_have_rotated(&self) -> bool {
        match self {
            RefreshError::Refused { .. } | RefreshError::Failed(ApiError::Cancelled) => false,
            RefreshError::Failed(error) => server_may_have_acted(error),
        }
    }
}

fn refused_text(error: &str, description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!("{error}: {d}"),
        _ => error.to_owned(),
    }
}

/// Client for the token endpoint. Built at configuration, but it opens no
/// connection (and loads no certificates) until a refresh is needed.
pub struct PlatformClient {
    token_url: Url,
    http: LazyHttp,
    max_retries: u32,
    request_timeout: Duration,
}

impl std::fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformClient")
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

impl PlatformClient {
    pub fn new(config: PlatformConfig) -> Result<Self, ConfigError> {
        let platform_error = |e: ConfigError| ConfigError::PlatformUrl {
            reason: e.to_string().replace("base_url", "the URL"),
        };
        let base = endpoint::parse_base_url(&config.platform_url).map_err(platform_error)?;
        let token_url =
            endpoint::endpoint(&base, &["getServiceKeys", "token"]).ok_or_else(|| {
                ConfigError::PlatformUrl {
                    reason: "no token endpoint can be built below it".to_owned(),
                }
            })?;
        let builder = http_builder(
            &base,
            &config.user_agent,
            config.request_timeout,
            config.ca_cert_pem.as_deref(),
        )?;
        Ok(Self {
            token_url,
            http: LazyHttp::new(builder),
            max_retries: config.max_retries.min(MAX_REFRESH_RETRIES),
            request_timeout: config.request_timeout,
        })
    }

    /// Exchanges `refresh_token` for a new access token (and, usually, a
    /// new refresh token: the one sent is then spent). `cancel` stops it
    /// before a request is sent, never during one.
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        client_id: &str,
        cancel: &CancellationToken,
    ) -> Result<Grant, RefreshError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", refresh_token.expose())
            .append_pair("client_id", client_id)
            .finish();
        let secrets = [refresh_token.expose()];
        let mut retry = 0;
        loop {
            // Before a request only: one sent runs to its answer (bounded
            // by request_timeout), since the platform may spend the
            // refresh token whether or not anyone waits for the new one.
            if cancel.is_cancelled() {
                return Err(RefreshError::Failed(ApiError::Cancelled));
            }
            let started = Instant::now();
            let outcome =
                tokio::time::timeout(self.request_timeout, self.exchange(&body, &secrets))
                    .await
                    .unwrap_or(Err(RefreshError::Failed(ApiError::Timeout {
                        after: self.request_timeout,
                    })));
            debug!(
                path = self.token_url.path(),
                outcome = %outcome_label(&outcome),
                attempt = retry + 1,
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "Parallel platform token request (refresh grant)"
            );
            let error = match outcome {
                Ok(grant) => return Ok(grant),
                Err(RefreshError::Failed(error)) => error,
                Err(refused) => return Err(refused),
            };
            if retry >= self.max_retries || !is_retryable(&error, Idempotency::NotIdempotent) {
                return Err(RefreshError::Failed(error));
            }
            let delay = delay_before_retry(retry, error.retry_after(), &mut rand::rng());
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(RefreshError::Failed(ApiError::Cancelled)),
                () = tokio::time::sleep(delay) => {}
            }
            retry += 1;
        }
    }

    async fn exchange(&self, body: &str, secrets: &[&str]) -> Result<Grant, RefreshError> {
        let failed = RefreshError::Failed;
        let request = self
            .http
            .get()
            .map_err(failed)?
            .post(self.token_url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body.to_owned());
        let mut response = request.send().await.map_err(|e| {
            failed(ApiError::Connection {
                sent: !e.is_connect(),
                reason: shorten(&scrub(&super::error::error_chain(&e), secrets), 300),
            })
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_ANSWER_BYTES => {
                    bytes.extend_from_slice(&chunk);
                }
                Ok(Some(_)) => {
                    return Err(failed(ApiError::Undecodable {
                        status,
                        problem: format!(
                            "the answer is larger than {} KiB",
                            MAX_ANSWER_BYTES / 1024
                        ),
                        excerpt: String::new(),
                    }));
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(failed(ApiError::Connection {
                        sent: true,
                        reason: format!(
                            "the answer was cut off: {}",
                            super::error::error_chain(&e)
                        ),
                    }));
                }
            }
        }
        if (200..300).contains(&status) {
            return parse_grant(status, &bytes);
        }
        if let Some(refused) = oauth_error(&bytes, secrets) {
            debug!(status, error = %refused_code(&refused), "the platform refused the refresh grant");
            return Err(refused);
        }
        Err(failed(error_for_status(
            status,
            self.token_url.as_str(),
            &bytes,
            retry_after,
            secrets,
        )))
    }
}

fn refused_code(error: &RefreshError) -> &str {
    match error {
        RefreshError::Refused { error, .. } => error,
        RefreshError::Failed(_) => "",
    }
}

fn outcome_label(outcome: &Result<Grant, RefreshError>) -> String {
    match outcome {
        Ok(_) => "granted".to_owned(),
        Err(RefreshError::Refused { error, .. }) => format!("refused ({error})"),
        Err(RefreshError::Failed(error)) => match error {
            ApiError::Status { status, .. } | ApiError::Undecodable { status, .. } => {
                status.to_string()
            }
            ApiError::RateLimited { .. } => "429".to_owned(),
            ApiError::Timeout { .. } => "timeout".to_owned(),
            ApiError::Connection { sent: false, .. } => "connect failed".to_owned(),
            ApiError::Connection { sent: true, .. } => "connection lost".to_owned(),
            ApiError::Cancelled => "cancelled".to_owned(),
            _ => "failed".to_owned(),
        },
    }
}

/// An OAuth error answer (RFC 6749 §5.2): `{"error": "invalid_grant", …}`.
fn oauth_error(body: &[u8], secrets: &[&str]) -> Option<RefreshError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let code = value.get("error")?.as_str()?;
    // The code is one of a few fixed words; anything else is not shown.
    let code = if code.len() <= 40 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        code.to_owned()
    } else {
        "unrecognized_error".to_owned()
    };
    let description = value
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| shorten(&scrub(d, secrets), 200));
    Some(RefreshError::Refused {
        error: code,
        description,
    })
}

/// Reads a token answer. Its values are secrets, so a problem names fields
/// and JSON types only.
fn parse_grant(status: u16, body: &[u8]) -> Result<Grant, RefreshError> {
    let undecodable = |problem: &str| {
        RefreshError::Failed(ApiError::Undecodable {
            status,
            problem: problem.to_owned(),
            // Every value may be a secret: none is shown.
            excerpt: String::new(),
        })
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|_| undecodable("the token answer is not JSON"))?;
    let object = value
        .as_object()
        .ok_or_else(|| undecodable("the token answer is not a JSON object"))?;
    let secret = |name: &str| match object.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(Secret::new(s.clone()))),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(undecodable(&format!("`{name}` is not a non-empty string"))),
    };
    let seconds = |name: &str| {
        object
            .get(name)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    };
    let text = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
    let access_token =
        secret("access_token")?.ok_or_else(|| undecodable("`access_token` is missing"))?;
    Ok(Grant {
        access_token,
        refresh_token: secret("refresh_token")?,
        expires_in: seconds("expires_in"),
        refresh_token_expires_in: seconds("refresh_token_expires_in"),
        authorization_expires_in: seconds("authorization_expires_in"),
        scope: text("scope"),
        org_id: text("org_id"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_read_without_showing_values() {
        let body = br#"{"access_token":"at-1","refresh_token":"rt-2","token_type":"Bearer",
            "expires_in":600,"refresh_token_expires_in":2592000.0,"scope":"apps:read",
            "org_id":"org-1"}"#;
        let grant = parse_grant(200, body).unwrap();
        assert_eq!(grant.access_token.expose(), "at-1");
        assert_eq!(
            grant.refresh_token.as_ref().map(Secret::expose),
            Some("rt-2")
        );
        assert_eq!(grant.expires_in, Some(600));
        assert_eq!(grant.refresh_token_expires_in, Some(2_592_000));
        assert_eq!(grant.authorization_expires_in, None);
        assert!(!format!("{grant:?}").contains("at-1"));

        for bad in [
            &b"not json"[..],
            b"[]",
            br#"{"refresh_token":"rt-2"}"#,
            br#"{"access_token":7}"#,
        ] {
            let err = parse_grant(200, bad).unwrap_err().to_string();
            assert!(!err.contains("rt-2"), "{err}");
        }
    }

    #[test]
    fn oauth_errors_keep_their_code_and_lose_secrets() {
        let body = br#"{"error":"invalid_grant","error_description":"token rt-secret was used"}"#;
        let Some(RefreshError::Refused { error, description }) = oauth_error(body, &["rt-secret"])
        else {
            panic!("not an OAuth error");
        };
        assert_eq!(error, "invalid_grant");
        assert_eq!(description.as_deref(), Some("token <redacted> was used"));
        assert!(oauth_error(br#"{"detail":"x"}"#, &[]).is_none());
        let odd = oauth_error(br#"{"error":"<script>"}"#, &[])
            .unwrap()
            .to_string();
        assert!(odd.contains("unrecognized_error"), "{odd}");
    }

    #[test]
    fn the_platform_url_must_be_safe_for_a_refresh_token() {
        let config = |url: &str| PlatformConfig {
            platform_url: url.to_owned(),
            max_retries: 4,
            request_timeout: Duration::from_secs(5),
            ca_cert_pem: None,
            user_agent: "t".into(),
        };
        let client = PlatformClient::new(config("https://platform.parallel.ai")).unwrap();
        assert_eq!(
            client.token_url.as_str(),
            "https://platform.parallel.ai/getServiceKeys/token"
        );
        assert_eq!(client.max_retries, MAX_REFRESH_RETRIES);
        assert!(PlatformClient::new(config("http://127.0.0.1:9")).is_ok());
        let err = PlatformClient::new(config("http://platform.example.com")).unwrap_err();
        assert!(
            err.to_string().starts_with("PARALLEL_PLATFORM_URL"),
            "{err}"
        );
    }
}
