//! One Account API call: attempts, retries, timeouts, cancellation, capped
//! body reading and logging. Knows nothing about keys or apps.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use tokio_util::sync::CancellationToken;
use tracing::{debug, trace};

use super::credentials::{Credentials, TokenOrigin, bearer};
use super::error::{ApiError, ConfigError};
use super::lazy_http::LazyHttp;
use super::problem::error_for_status;
use super::redact::{mask_json_values, scrub, shorten};
use super::retry::{
    Idempotency, delay_before_retry, is_retryable, parse_retry_after, server_may_have_acted,
};
use crate::secret::Secret;

/// Largest response body read; an API answer is a few hundred bytes, so
/// anything bigger is a misdirected request, not data to buffer.
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;
/// Longest (scrubbed) body written to TRACE logs, in characters.
const LOGGED_BODY_CHARS: usize = 4096;
/// Longest transport error description kept in an error, in characters.
const REASON_CHARS: usize = 300;

/// A request to make, possibly several times.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub url: &'a Url,
    pub json_body: Option<Vec<u8>>,
    pub idempotency: Idempotency,
}

/// A 2xx answer and its body.
pub(crate) struct Answer {
    pub status: u16,
    /// The whole body, or its first [`MAX_BODY_BYTES`] when `truncated`.
    pub body: Vec<u8>,
    /// The body was larger than [`MAX_BODY_BYTES`]: the caller decides
    /// whether a beginning is worth reading (a create's answer is).
    pub truncated: bool,
}

/// The body of a create's answer holds the raw key: never print it.
impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// A call that ended without a 2xx answer.
#[derive(Debug)]
pub(crate) struct Failure {
    pub error: ApiError,
    /// Whether some attempt may have been carried out by the server.
    pub may_have_acted: bool,
}

/// The shared HTTP machinery of an `AccountClient`.
pub(crate) struct Transport {
    http: LazyHttp,
    credentials: Credentials,
    max_retries: u32,
    request_timeout: Duration,
}

/// `&str` views of owned secrets, for the scrubbing functions.
pub(crate) fn as_strs(secrets: &[String]) -> Vec<&str> {
    secrets.iter().map(String::as_str).collect()
}

impl Transport {
    pub(crate) fn new(
        http: LazyHttp,
        credentials: Credentials,
        max_retries: u32,
        request_timeout: Duration,
    ) -> Result<Self, ConfigError> {
        credentials.0.check()?;
        Ok(Self {
            http,
            credentials,
            max_retries,
            request_timeout,
        })
    }

    /// Values that must be scrubbed from anything shown: every token the
    /// credentials have handled, as given and trimmed.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        for secret in self.credentials.0.known_secrets() {
            secrets.push(secret.expose().to_owned());
            if secret.expose().trim() != secret.expose() {
                secrets.push(secret.expose().trim().to_owned());
            }
        }
        secrets
    }

    async fn token(
        &self,
        cancel: &CancellationToken,
        may_have_acted: bool,
    ) -> Result<(Secret, HeaderValue), Failure> {
        let failure = |error| Failure {
            error,
            may_have_acted,
        };
        let token = self
            .credentials
            .0
            .token(cancel)
            .await
            .map_err(|e| failure(ApiError::Credentials(e)))?;
        let header = bearer(&token).map_err(|e| failure(malformed_token(&e, &self.credentials)))?;
        Ok((token, header))
    }

    /// Makes `call`, retrying as its idempotency allows, until it gets a 2xx
    /// answer, a final error, runs out of retries, or `cancel` fires.
    ///
    /// A 401 is answered before the API acts, so the first one is followed
    /// by one renewal of the token (a refresh, for a saved login) and one
    /// more attempt, even for a create; it does not count as a retry.
    pub(crate) async fn call(
        &self,
        call: &Call<'_>,
        cancel: &CancellationToken,
    ) -> Result<Answer, Failure> {
        let mut may_have_acted = false;
        let mut retry = 0u32;
        let mut attempt = 0u32;
        let mut renewed = false;
        let (mut token, mut authorization) = self.token(cancel, may_have_acted).await?;
        loop {
            if cancel.is_cancelled() {
                return Err(Failure {
                    error: ApiError::Cancelled,
                    may_have_acted,
                });
            }
            attempt += 1;
            let started = Instant::now();
            let outcome = self.attempt(call, &authorization, cancel).await;
            log_attempt(call, attempt, &outcome, started.elapsed());
            let error = match outcome {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            if matches!(error, ApiError::Unauthorized { .. }) && !renewed {
                renewed = true;
                let renewal = self.credentials.0.renew(&token, cancel).await;
                match renewal {
                    Ok(Some(fresh)) => {
                        debug!(
                            method = %call.method,
                            path = call.url.path(),
                            "access token rejected; trying again with a renewed one"
                        );
                        authorization = bearer(&fresh).map_err(|e| Failure {
                            error: malformed_token(&e, &self.credentials),
                            may_have_acted,
                        })?;
                        token = fresh;
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Err(Failure {
                            error: ApiError::Credentials(e),
                            may_have_acted,
                        });
                    }
                }
            }
            let error = match error {
                ApiError::Unauthorized { detail, .. } => ApiError::Unauthorized {
                    detail,
                    origin: Some(self.credentials.origin()),
                },
                other => other,
            };
            may_have_acted |= server_may_have_acted(&error);
            if matches!(error, ApiError::Cancelled)
                || retry >= self.max_retries
                || !is_retryable(&error, call.idempotency)
            {
                return Err(Failure {
                    error,
                    may_have_acted,
                });
            }
            let delay = delay_before_retry(retry, error.retry_after(), &mut rand::rng());
            debug!(
                method = %call.method,
                path = call.url.path(),
                attempt = retry + 1,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "Parallel API call will be retried"
            );
            tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    return Err(Failure { error: ApiError::Cancelled, may_have_acted });
                }
                () = tokio::time::sleep(delay) => {}
            }
            retry += 1;
            // The wait may have outlived the token.
            (token, authorization) = self.token(cancel, may_have_acted).await?;
        }
    }

    /// One attempt, bounded by `request_timeout`. An idempotent attempt is
    /// abandoned on `cancel`; a non-idempotent one (a create) is not: once
    /// it is on the wire the server may act, and only its answer can tell
    /// us about the key it made, so it runs to its end (at most
    /// `request_timeout`) and cancellation stops the retries instead.
    async fn attempt(
        &self,
        call: &Call<'_>,
        authorization: &HeaderValue,
        cancel: &CancellationToken,
    ) -> Result<Answer, ApiError> {
        let bounded = async {
            tokio::time::timeout(self.request_timeout, self.exchange(call, authorization))
                .await
                .unwrap_or(Err(ApiError::Timeout {
                    after: self.request_timeout,
                }))
        };
        if call.idempotency == Idempotency::NotIdempotent {
            return bounded.await;
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(ApiError::Cancelled),
            outcome = bounded => outcome,
        }
    }

    async fn exchange(
        &self,
        call: &Call<'_>,
        authorization: &HeaderValue,
    ) -> Result<Answer, ApiError> {
        let secrets = self.secrets();
        let secrets = as_strs(&secrets);
        let mut request = self
            .http
            .get()?
            .request(call.method.clone(), call.url.clone())
            .header(AUTHORIZATION, authorization.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = &call.json_body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        trace!(
            method = %call.method,
            path = call.url.path(),
            headers = if call.json_body.is_some() {
                "authorization: Bearer <redacted>; accept: application/json; content-type: application/json"
            } else {
                "authorization: Bearer <redacted>; accept: application/json"
            },
            body = %loggable(call.json_body.as_deref().unwrap_or_default(), &secrets),
            "Parallel API request"
        );

        let response = request.send().await.map_err(|e| send_error(&e, &secrets))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let body = read_capped(response, MAX_BODY_BYTES, &secrets).await;
        let shown = match &body {
            Ok(bytes) => bytes.as_slice(),
            Err(broken) => broken.partial.as_slice(),
        };
        let logged = if !tracing::enabled!(tracing::Level::TRACE) {
            String::new()
        } else if (200..300).contains(&status) {
            // A success may carry a new key under a name we do not know:
            // its values are masked, its names kept.
            shorten(
                &mask_json_values(&scrub(&String::from_utf8_lossy(shown), &secrets)),
                LOGGED_BODY_CHARS,
            )
        } else {
            loggable(shown, &secrets)
        };
        trace!(status, body = %logged, "Parallel API response");

        if !(200..300).contains(&status) {
            let bytes = body.unwrap_or_else(|broken| broken.partial);
            return Err(error_for_status(
                status,
                call.url.as_str(),
                &bytes,
                retry_after,
                &secrets,
            ));
        }
        match body {
            Ok(body) => Ok(Answer {
                status,
                body,
                truncated: false,
            }),
            Err(BodyError {
                partial,
                problem: BodyProblem::TooLarge,
            }) => Ok(Answer {
                status,
                body: partial,
                truncated: true,
            }),
            Err(BodyError {
                problem: BodyProblem::Broken(reason),
                ..
            }) => Err(ApiError::Connection {
                sent: true,
                reason: format!("the answer was cut off: {reason}"),
            }),
        }
    }
}

/// A token from a saved login that cannot go in a header: the file was
/// edited by hand, or the platform answered something strange.
fn malformed_token(error: &ConfigError, credentials: &Credentials) -> ApiError {
    match credentials.origin() {
        TokenOrigin::SavedLogin { file } => {
            ApiError::Credentials(super::credentials::CredentialsError::new(format!(
                "the access token of the saved Parallel CLI login in {file} is empty or holds \
                 characters that cannot be sent in an HTTP header; run `parallel-cli login` to \
                 log in again"
            )))
        }
        _ => ApiError::InvalidInput {
            problem: error.to_string(),
        },
    }
}

struct BodyError {
    partial: Vec<u8>,
    problem: BodyProblem,
}

enum BodyProblem {
    TooLarge,
    Broken(String),
}

/// Reads the body chunk by chunk, refusing to hold more than `limit` bytes.
/// A body declared (or found) too large is still read up to `limit`, so
/// that its beginning can be shown, or read (see `Answer::truncated`).
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    secrets: &[&str],
) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    return Err(BodyError {
                        partial: body,
                        problem: BodyProblem::TooLarge,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(BodyError {
                    partial: body,
                    problem: BodyProblem::Broken(describe(&e, secrets)),
                });
            }
        }
    }
}

/// Classifies a failure to get response headers. Only a failed connection
/// proves the request never left; anything later may have reached the server.
fn send_error(error: &reqwest::Error, secrets: &[&str]) -> ApiError {
    let reason = describe(error, secrets);
    if error.is_builder() {
        ApiError::InvalidInput { problem: reason }
    } else if error.is_connect() {
        ApiError::Connection {
            sent: false,
            reason,
        }
    } else {
        ApiError::Connection { sent: true, reason }
    }
}

/// The causes of a reqwest error, without the URL reqwest's own text adds.
fn describe(error: &reqwest::Error, secrets: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    let text = if parts.is_empty() {
        if error.is_timeout() {
            "timed out".to_owned()
        } else {
            "transport error".to_owned()
        }
    } else {
        parts.join(": ")
    };
    shorten(&scrub(&text, secrets), REASON_CHARS)
}

fn loggable(body: &[u8], secrets: &[&str]) -> String {
    shorten(
        &scrub(&String::from_utf8_lossy(body), secrets),
        LOGGED_BODY_CHARS,
    )
}

fn log_attempt(
    call: &Call<'_>,
    attempt: u32,
    outcome: &Result<Answer, ApiError>,
    elapsed: Duration,
) {
    let status = match outcome {
        Ok(answer) => answer.status.to_string(),
        Err(error) => outcome_label(error),
    };
    debug!(
        method = %call.method,
        path = call.url.path(),
        status = %status,
        attempt,
        elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        "Parallel API call"
    );
}

fn outcome_label(error: &ApiError) -> String {
    match error {
        ApiError::Unauthorized { .. } => "401".into(),
        ApiError::Credentials(_) => "not sent (no usable access token)".into(),
        ApiError::Forbidden { .. } => "403".into(),
        ApiError::NotFound { .. } => "404".into(),
        ApiError::Validation { .. } => "422".into(),
        ApiError::RateLimited { .. } => "429".into(),
        ApiError::Status { status, .. } => status.to_string(),
        ApiError::Undecodable { status, .. } => format!("{status} (unreadable body)"),
        ApiError::Timeout { .. } => "timeout".into(),
        ApiError::Connection { sent: false, .. } => "connect failed".into(),
        ApiError::Connection { sent: true, .. } => "connection lost".into(),
        ApiError::Cancelled => "cancelled".into(),
        ApiError::InvalidInput { .. } => "not sent (invalid input)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(token: &str) -> Credentials {
        Credentials::token(Secret::new(token), TokenOrigin::Environment)
    }

    #[test]
    fn the_access_token_must_be_a_usable_header() {
        let http = reqwest::Client::new();
        let make = |token: &str| {
            let http = LazyHttp::ready(http.clone());
            Transport::new(http, fixed(token), 0, Duration::from_secs(1)).err()
        };
        assert_eq!(make(""), Some(ConfigError::AccessTokenMissing));
        assert_eq!(make("  \n"), Some(ConfigError::AccessTokenMissing));
        assert_eq!(make("abc\ndef"), Some(ConfigError::AccessTokenMalformed));
        assert_eq!(make("tok\n"), None, "surrounding whitespace is trimmed");
        let err = Transport::new(
            LazyHttp::ready(http),
            fixed("abc\u{7}def"),
            0,
            Duration::from_secs(1),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(!err.contains("abc"), "{err}");
    }

    #[test]
    fn the_authorization_header_is_sensitive() {
        let header = bearer(&Secret::new("tok_123")).unwrap();
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("tok_123"));
    }

    #[test]
    fn secrets_hold_the_token_as_given_and_trimmed() {
        let t = Transport::new(
            LazyHttp::ready(reqwest::Client::new()),
            fixed(" tok_123\n"),
            0,
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            t.secrets(),
            vec![" tok_123\n".to_owned(), "tok_123".to_owned()]
        );
    }
}
