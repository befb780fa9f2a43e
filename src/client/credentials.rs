//! Where the bearer token of each request comes from.
//!
//! A token given to the provider (its `access_token`, or
//! `PARALLEL_ACCESS_TOKEN`) is sent as it is, for the whole run. A saved
//! Parallel CLI login (see `crate::login`) hands out a token that it
//! refreshes itself, before it expires and when the API rejects it. The
//! transport asks a [`TokenSource`] before every attempt and tells it about
//! every 401, and knows nothing of files or refresh grants.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::HeaderValue;
use tokio_util::sync::CancellationToken;

use super::error::ConfigError;
// Defined beside the errors that quote them, so that error.rs need not
// import this file; re-exported here, where the token sources use them.
pub use super::error::{CredentialsError, TokenOrigin};
use crate::secret::Secret;

/// A supply of access tokens.
#[async_trait]
pub trait TokenSource: Send + Sync {
    fn origin(&self) -> TokenOrigin;

    /// The token to send now; refreshed first when it is about to expire.
    async fn token(&self, cancel: &CancellationToken) -> Result<Secret, CredentialsError>;

    /// The API answered 401 to `rejected`. `Ok(Some(token))`: try once more
    /// with `token` (refreshed, or already refreshed by someone else);
    /// `Ok(None)`: this source cannot renew its token.
    async fn renew(
        &self,
        rejected: &Secret,
        cancel: &CancellationToken,
    ) -> Result<Option<Secret>, CredentialsError>;

    /// Every secret this source has handled so far (access tokens, refresh
    /// tokens), to be scrubbed from anything shown.
    fn known_secrets(&self) -> Vec<Secret>;

    /// Refuses what can be refused before any request (an empty token).
    fn check(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// The token source of a client; cheap to clone.
#[derive(Clone)]
pub struct Credentials(pub(crate) Arc<dyn TokenSource>);

impl Credentials {
    /// A fixed token, never refreshed.
    pub fn token(token: Secret, origin: TokenOrigin) -> Self {
        Self(Arc::new(FixedToken { token, origin }))
    }

    /// Tokens from `source`.
    pub fn source(source: Arc<dyn TokenSource>) -> Self {
        Self(source)
    }

    pub fn origin(&self) -> TokenOrigin {
        self.0.origin()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("origin", &self.0.origin())
            .finish_non_exhaustive()
    }
}

/// The `Authorization` value for `token`, marked sensitive so that hyper's
/// and reqwest's Debug output leave it out. `from_str`'s error is opaque and
/// never quotes the value.
pub(crate) fn bearer(token: &Secret) -> Result<HeaderValue, ConfigError> {
    let trimmed = token.expose().trim();
    if trimmed.is_empty() {
        return Err(ConfigError::AccessTokenMissing);
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {trimmed}"))
        .map_err(|_| ConfigError::AccessTokenMalformed)?;
    value.set_sensitive(true);
    Ok(value)
}

struct FixedToken {
    token: Secret,
    origin: TokenOrigin,
}

#[async_trait]
impl TokenSource for FixedToken {
    fn origin(&self) -> TokenOrigin {
        self.origin.clone()
    }

    async fn token(&self, _cancel: &CancellationToken) -> Result<Secret, CredentialsError> {
        Ok(self.token.clone())
    }

    async fn renew(
        &self,
        _rejected: &Secret,
        _cancel: &CancellationToken,
    ) -> Result<Option<Secret>, CredentialsError> {
        Ok(None)
    }

    fn known_secrets(&self) -> Vec<Secret> {
        vec![self.token.clone()]
    }

    fn check(&self) -> Result<(), ConfigError> {
        bearer(&self.token).map(drop)
    }
}
