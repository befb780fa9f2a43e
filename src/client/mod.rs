//! Typed client for Parallel's Account API (`https://api.parallel.ai/account`).
//!
//! One [`AccountClient`] is built per process and cloned freely: it wraps a
//! single `reqwest::Client`, so every call shares one connection pool.
//! Every call takes a `CancellationToken` so that an interrupted Terraform
//! run stops waiting at once.

mod apps;
mod balance;
mod credentials;
mod endpoint;
mod error;
mod keys;
mod lazy_http;
mod lenient;
mod models;
mod platform;
mod problem;
mod redact;
mod retry;
mod transport;

#[cfg(test)]
mod properties;
#[cfg(test)]
pub(crate) mod test_server;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Url};
use tokio_util::sync::CancellationToken;

pub use apps::CreateAppError;
pub use balance::{
    AddBalanceError, Balance, MAX_ADD_CENTS, MAX_IDEMPOTENCY_KEY_CHARS, MIN_ADD_CENTS,
    MIN_IDEMPOTENCY_KEY_CHARS,
};
pub use credentials::{Credentials, CredentialsError, TokenOrigin, TokenSource};
pub use error::{ApiError, ConfigError, FieldProblem};
pub use keys::{is_plausible_key_id, is_usable_key_id};
pub use models::{App, CreateKeyError, NewKey};
pub use platform::{DEFAULT_PLATFORM_URL, Grant, PlatformClient, PlatformConfig, RefreshError};
pub(crate) use redact::shorten;

use lazy_http::LazyHttp;
use retry::Idempotency;
use transport::{Call, Transport};

#[cfg(test)]
use crate::secret::Secret;

/// Checks `base_url` as the client will, without building one (for
/// `terraform validate`).
pub fn check_base_url(base_url: &str) -> Result<(), ConfigError> {
    endpoint::parse_base_url(base_url).map(drop)
}

pub const DEFAULT_BASE_URL: &str = "https://api.parallel.ai/account";
pub const DEFAULT_MAX_RETRIES: u32 = 4;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest time spent establishing a connection, within `request_timeout`.
/// Kept below the attempt timeout so that an unreachable host is reported as
/// "could not connect" (safe to retry) rather than as an ambiguous timeout.
const CONNECT_TIMEOUT_CAP: Duration = Duration::from_secs(10);
/// Idle pooled connections are dropped before typical load balancer idle
/// timeouts, so a request is rarely written to a connection being closed.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything needed to build an [`AccountClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Root of the Account API; a trailing slash is fine.
    pub base_url: String,
    /// Where each request's access token comes from.
    pub credentials: Credentials,
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// Limit for each attempt, from connecting to the last body byte.
    pub request_timeout: Duration,
    /// Extra trusted root certificates (one or more PEM blocks), added to
    /// the platform's roots, e.g. for a TLS-inspecting corporate proxy.
    pub ca_cert_pem: Option<String>,
    pub user_agent: String,
}

#[cfg(test)]
impl ClientConfig {
    /// A configuration with the defaults for everything but the token.
    pub fn new(access_token: Secret) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            credentials: Credentials::token(access_token, TokenOrigin::Environment),
            max_retries: DEFAULT_MAX_RETRIES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            ca_cert_pem: None,
            user_agent: format!("terraform-provider-parallel/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// What became of a key that was asked to be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// The API deleted it now.
    Revoked,
    /// The API says it does not exist (deleted earlier, perhaps by a
    /// previous attempt of this very call).
    AlreadyGone,
}

/// Client for the Account API. Cheap to clone; clones share one connection
/// pool.
#[derive(Clone)]
pub struct AccountClient {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: Url,
    transport: Transport,
}

impl fmt::Debug for AccountClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountClient")
            .field("base_url", &self.inner.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl AccountClient {
    /// Builds the client. Proxies come from HTTPS_PROXY / HTTP_PROXY /
    /// ALL_PROXY / NO_PROXY (and lowercase forms), as reqwest does by
    /// default, except for a loopback base_url: a proxy cannot reach our
    /// loopback, and plain http to a proxy would expose the token.
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        let base_url = endpoint::parse_base_url(&config.base_url)?;
        let builder = http_builder(
            &base_url,
            &config.user_agent,
            config.request_timeout,
            config.ca_cert_pem.as_deref(),
        )?;
        let transport = Transport::new(
            LazyHttp::new(builder),
            config.credentials,
            config.max_retries,
            config.request_timeout,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                base_url,
                transport,
            }),
        })
    }

    /// A GET of the path `segments`: idempotent, so retried as the policy
    /// allows.
    pub(crate) async fn get(
        &self,
        segments: &[&str],
        cancel: &CancellationToken,
    ) -> Result<transport::Answer, ApiError> {
        let url = self.url(segments)?;
        let call = Call {
            method: Method::GET,
            url: &url,
            json_body: None,
            idempotency: Idempotency::Idempotent,
        };
        self.inner
            .transport
            .call(&call, cancel)
            .await
            .map_err(|f| f.error)
    }

    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, ApiError> {
        endpoint::endpoint(&self.inner.base_url, segments).ok_or_else(|| ApiError::InvalidInput {
            problem: "an id in the request path is empty, `.` or `..`".to_owned(),
        })
    }
}

/// The HTTP client settings shared by the Account API and the platform's
/// token endpoint (the client itself is built at its first request).
fn http_builder(
    base_url: &Url,
    user_agent: &str,
    request_timeout: Duration,
    ca_cert_pem: Option<&str>,
) -> Result<reqwest::ClientBuilder, ConfigError> {
    if request_timeout.is_zero() {
        return Err(ConfigError::ZeroTimeout);
    }
    let user_agent = reqwest::header::HeaderValue::from_str(user_agent)
        .map_err(|_| ConfigError::UserAgentMalformed)?;
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent)
        // A redirect would resend a POST elsewhere, or as a GET; neither
        // service redirects, so one is reported instead of followed.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout((request_timeout / 2).min(CONNECT_TIMEOUT_CAP))
        .pool_idle_timeout(POOL_IDLE_TIMEOUT);
    if let Some(pem) = ca_cert_pem {
        builder = builder.tls_certs_merge(extra_roots(pem)?);
    }
    if endpoint::is_loopback(base_url) {
        builder = builder.no_proxy();
    }
    if base_url.scheme() == "http" {
        // Plain http is only allowed to loopback, which bypasses proxies and
        // redirects are not followed, so this client never makes a TLS
        // handshake. An empty trust store spares it loading and parsing
        // every system root certificate (measured under callgrind: 19M
        // instructions, 14% of the provider process that applies 200 keys).
        builder = builder.tls_certs_only(Vec::new());
    }
    Ok(builder)
}

/// Parses `ca_cert_pem` into certificates; it must hold at least one.
fn extra_roots(pem: &str) -> Result<Vec<reqwest::Certificate>, ConfigError> {
    let certs =
        reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| ConfigError::CaCert {
            reason: error::error_chain(&e),
        })?;
    if certs.is_empty() {
        return Err(ConfigError::CaCert {
            reason: "no `-----BEGIN CERTIFICATE-----` block found".to_owned(),
        });
    }
    // reqwest only parses the certificates when the client is built, at the
    // first request; parse them now so a bad one is reported at configure.
    let mut store = rustls::RootCertStore::empty();
    for der in rustls_pemfile::certs(&mut pem.as_bytes()) {
        let added = der
            .map_err(|e| e.to_string())
            .and_then(|der| store.add(der).map_err(|e| e.to_string()));
        if let Err(reason) = added {
            return Err(ConfigError::CaCert { reason });
        }
    }
    Ok(certs)
}
