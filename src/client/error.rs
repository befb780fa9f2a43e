//! Every way a call to the Account API can fail, as values.
//!
//! Texts say what happened and what the user can do about it. They never
//! contain the access token or a raw API key: body excerpts and `detail`
//! strings are scrubbed (see `redact`) before they are stored here.

use std::fmt;
use std::time::Duration;

/// Where the access token came from: what a 401 error tells the user to do
/// depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOrigin {
    /// The provider block's `access_token`.
    Attribute,
    /// The `PARALLEL_ACCESS_TOKEN` environment variable.
    Environment,
    /// The Parallel CLI's saved login, in this file.
    SavedLogin { file: String },
}

/// Why no usable access token could be had. The text is complete (it names
/// the file and says what to do) and never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CredentialsError {
    pub message: String,
    /// The platform's token endpoint may answer if asked again later (a
    /// timeout, a 503), as opposed to a login that only `parallel-cli
    /// login` can mend.
    pub transient: bool,
}

impl CredentialsError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            transient: false,
        }
    }
}

/// One entry of a FastAPI 422 `detail` list: where the problem is and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Path to the offending input, e.g. `["body", "api_key_name"]`.
    pub loc: Vec<String>,
    pub msg: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_empty() {
            f.write_str(&self.msg)
        } else {
            write!(f, "{}: {}", self.loc.join("."), self.msg)
        }
    }
}

/// Why the client could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "base_url is not a valid URL ({reason}); expected e.g. https://api.parallel.ai/account"
    )]
    BaseUrlUnparsable { reason: String },

    #[error(
        "base_url `{url}` uses the `{scheme}` scheme; only https (or http to a loopback address) is supported"
    )]
    BaseUrlScheme { url: String, scheme: String },

    #[error(
        "base_url `{url}` is plain http to the non-loopback host `{host}`: the access token would \
         travel in clear text. Use https, or http only towards 127.0.0.1, ::1 or localhost"
    )]
    BaseUrlCleartext { url: String, host: String },

    #[error("base_url `{url}` is not usable: {problem}")]
    BaseUrlShape { url: String, problem: String },

    #[error(
        "no access token: mint one with Parallel's OAuth device flow (e.g. `parallel-cli login`) \
         and set PARALLEL_ACCESS_TOKEN or the provider's access_token"
    )]
    AccessTokenMissing,

    #[error(
        "the access token contains characters that cannot be sent in an HTTP header \
         (a stray newline or quote?); paste it again"
    )]
    AccessTokenMalformed,

    #[error("PARALLEL_PLATFORM_URL is not usable: {reason}")]
    PlatformUrl { reason: String },

    #[error("user_agent contains characters that cannot be sent in an HTTP header")]
    UserAgentMalformed,

    #[error("request_timeout must be greater than zero")]
    ZeroTimeout,

    #[error("the CA certificates of ca_cert_file could not be used: {reason}")]
    CaCert { reason: String },
}

/// A failed Account API call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{}", unauthorized_text(.detail, .origin))]
    Unauthorized {
        detail: Option<String>,
        /// Where the rejected token came from; the transport fills it in.
        origin: Option<TokenOrigin>,
    },

    /// No access token could be had: the saved login has expired, its file
    /// is unreadable, or the platform refused to refresh it. Nothing was
    /// sent to the Account API.
    #[error("{0}")]
    Credentials(CredentialsError),

    #[error(
        "Parallel refused the request (HTTP 403{}): the access token is valid but not allowed to \
         do this. Check that it belongs to the organization that owns the app and carries the \
         needed permissions",
        detail_suffix(.detail)
    )]
    Forbidden { detail: Option<String> },

    #[error("{}", not_found_text(.detail, .url))]
    NotFound {
        /// The API's own `detail`; `None` when the 404 did not come as a
        /// FastAPI error, which suggests a wrong base_url rather than a
        /// missing object.
        detail: Option<String>,
        /// The URL requested (IDs only, never a secret), shown when the
        /// path itself was not found.
        url: String,
    },

    #[error(
        "Parallel rejected the request as invalid (HTTP 422): {}; fix the listed fields",
        join_problems(.problems)
    )]
    Validation { problems: Vec<FieldProblem> },

    #[error(
        "Parallel is rate limiting this organization (HTTP 429{}) and retries were exhausted: \
         wait a little and run again, or raise max_retries",
        retry_after_suffix(.retry_after)
    )]
    RateLimited { retry_after: Option<Duration> },

    #[error("{}", status_text(*.status, .excerpt))]
    Status {
        status: u16,
        excerpt: String,
        /// A 503's `Retry-After`, honoured before the next attempt.
        retry_after: Option<Duration>,
    },

    #[error(
        "Parallel did not answer completely within {after:?}: check connectivity to the API, or \
         raise request_timeout"
    )]
    Timeout { after: Duration },

    #[error("{}", connection_text(*.sent, .reason))]
    Connection {
        /// Whether the request may have reached the server. `false` only when
        /// the connection itself could not be established.
        sent: bool,
        reason: String,
    },

    #[error("the operation was cancelled (Terraform was interrupted) before Parallel answered")]
    Cancelled,

    #[error("{}", undecodable_text(*.status, .problem, .excerpt))]
    Undecodable {
        status: u16,
        problem: String,
        excerpt: String,
    },

    #[error("invalid request: {problem}")]
    InvalidInput { problem: String },
}

impl ApiError {
    /// A 404 in which the API says an app or key does not exist, as opposed
    /// to a 404 for a path no route matches (FastAPI's bare "Not Found"),
    /// which means base_url points at the wrong place.
    pub fn is_object_not_found(&self) -> bool {
        match self {
            ApiError::NotFound {
                detail: Some(d), ..
            } => !is_route_not_found(d),
            _ => false,
        }
    }

    /// How long the server asked us to wait, when it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after } | ApiError::Status { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}

/// An error and its sources as one line, without repeating a cause that
/// its wrapper already quotes.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn unauthorized_text(detail: &Option<String>, origin: &Option<TokenOrigin>) -> String {
    let status = format!("HTTP 401{}", detail_suffix(detail));
    let given = |source: &str| {
        format!(
            "Parallel rejected the access token ({status}): it is invalid or expired. A token \
             given in {source} is used as it is and never refreshed: mint a new one with \
             Parallel's OAuth device flow (e.g. `parallel-cli login`), or unset it so that the \
             provider uses the Parallel CLI's saved login, which it refreshes itself"
        )
    };
    match origin {
        Some(TokenOrigin::Attribute) => given("the provider's access_token"),
        Some(TokenOrigin::Environment) => given("PARALLEL_ACCESS_TOKEN"),
        None => given("PARALLEL_ACCESS_TOKEN or the provider's access_token"),
        Some(TokenOrigin::SavedLogin { file }) => format!(
            "Parallel rejected the access token of the saved Parallel CLI login in {file} even \
             after refreshing it ({status}): run `parallel-cli login` to log in again"
        ),
    }
}

fn detail_suffix(detail: &Option<String>) -> String {
    match detail {
        Some(d) if !d.is_empty() => format!(": {d}"),
        _ => String::new(),
    }
}

fn is_route_not_found(detail: &str) -> bool {
    detail.trim().eq_ignore_ascii_case("not found")
}

fn not_found_text(detail: &Option<String>, url: &str) -> String {
    match detail {
        Some(d) if !is_route_not_found(d) => format!(
            "Parallel found no such object (HTTP 404: {d}): check that the app (and key) exist in \
             the organization of the access token"
        ),
        _ => format!(
            "got HTTP 404 for the request's path itself ({url}): the server there does not look \
             like the Parallel Account API; check base_url, or the PARALLEL_SERVICE_API_URL \
             environment variable when the provider block sets none (default \
             https://api.parallel.ai/account)"
        ),
    }
}

fn join_problems(problems: &[FieldProblem]) -> String {
    if problems.is_empty() {
        return "no details given".to_owned();
    }
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn retry_after_suffix(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(", asked to wait {}s", d.as_secs()),
        None => String::new(),
    }
}

fn status_text(status: u16, excerpt: &str) -> String {
    let body = if excerpt.is_empty() {
        "an empty body".to_owned()
    } else {
        format!("`{excerpt}`")
    };
    let advice = match status {
        300..=399 => "redirects are not followed; check base_url",
        409 => {
            "the request conflicts with an earlier one (for parallel_add_balance: its \
                idempotency_key was used before with another amount)"
        }
        400..=499 => "the request was refused; check the resource's arguments",
        503 => "the service is temporarily unavailable; try again later",
        500..=599 => "a problem on Parallel's side; try again later",
        _ => "this status was not expected",
    };
    format!("Parallel answered HTTP {status} with {body}: {advice}")
}

fn connection_text(sent: bool, reason: &str) -> String {
    if sent {
        format!(
            "the connection to Parallel broke before a complete answer arrived ({reason}); check \
             connectivity and any proxy (HTTPS_PROXY / NO_PROXY)"
        )
    } else {
        format!(
            "could not connect to Parallel ({reason}); check base_url, connectivity, any proxy \
             (HTTPS_PROXY / NO_PROXY) and ca_cert_file"
        )
    }
}

fn undecodable_text(status: u16, problem: &str, excerpt: &str) -> String {
    let shown = if excerpt.is_empty() {
        "it is empty".to_owned()
    } else {
        format!("it begins with: {excerpt}")
    };
    format!("Parallel answered HTTP {status} but the answer could not be read ({problem}); {shown}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_tells_how_to_get_a_new_token() {
        let text = ApiError::Unauthorized {
            detail: Some("Token expired".into()),
            origin: None,
        }
        .to_string();
        assert!(text.contains("401: Token expired"), "{text}");
        assert!(text.contains("parallel-cli login"));
        assert!(text.contains("PARALLEL_ACCESS_TOKEN"));
        assert!(text.contains("never refreshed"));
        let text = ApiError::Unauthorized {
            detail: None,
            origin: Some(TokenOrigin::Attribute),
        }
        .to_string();
        assert!(
            text.contains("given in the provider's access_token"),
            "{text}"
        );
        assert!(text.contains("never refreshed"), "{text}");
        let text = ApiError::Unauthorized {
            detail: None,
            origin: Some(TokenOrigin::SavedLogin {
                file: "/h/auth.json".into(),
            }),
        }
        .to_string();
        assert!(
            text.contains("/h/auth.json even after refreshing it"),
            "{text}"
        );
        assert!(text.contains("run `parallel-cli login`"), "{text}");
    }

    #[test]
    fn validation_lists_fields() {
        let text = ApiError::Validation {
            problems: vec![
                FieldProblem {
                    loc: vec!["body".into(), "api_key_name".into()],
                    msg: "Field required".into(),
                },
                FieldProblem {
                    loc: vec![],
                    msg: "bad".into(),
                },
            ],
        }
        .to_string();
        assert!(
            text.contains("body.api_key_name: Field required; bad"),
            "{text}"
        );
    }

    #[test]
    fn not_found_without_detail_points_at_base_url() {
        let text = ApiError::NotFound {
            detail: None,
            url: "https://example.test/account/service/v1/apps".into(),
        }
        .to_string();
        assert!(
            text.contains("https://example.test/account/service/v1/apps"),
            "{text}"
        );
        assert!(text.contains("base_url"), "{text}");
        let text = ApiError::NotFound {
            detail: Some("App not found".into()),
            url: String::new(),
        }
        .to_string();
        assert!(text.contains("App not found"), "{text}");
    }

    #[test]
    fn status_and_connection_texts() {
        let text = ApiError::Status {
            status: 502,
            excerpt: String::new(),
            retry_after: None,
        }
        .to_string();
        assert!(text.contains("502 with an empty body"), "{text}");
        let text = ApiError::Connection {
            sent: false,
            reason: "refused".into(),
        }
        .to_string();
        assert!(text.contains("could not connect"), "{text}");
        assert!(
            ApiError::RateLimited {
                retry_after: Some(Duration::from_secs(7))
            }
            .to_string()
            .contains("wait 7s")
        );
    }
}
