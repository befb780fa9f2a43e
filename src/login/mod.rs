//! The Parallel CLI's saved login as a source of access tokens that
//! refresh themselves.
//!
//! `parallel-cli login` saves, per organization, an access token and a
//! refresh token (see [`file`]). A [`SavedLogin`] hands out the access token
//! and refreshes it, with the platform's refresh grant, when it expires
//! within a minute or when the API rejects it. Refresh tokens rotate, and
//! Terraform runs several provider processes (and users several terraforms)
//! at once, so a refresh happens under an exclusive lock beside the file,
//! after reading the file again: when another process has just refreshed,
//! its token is used instead of spending the refresh token a second time.
//! Within one process, one refresh at a time, and requests that were
//! rejected together share it.

pub mod file;
pub mod sources;
pub mod store;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::client::{CredentialsError, PlatformClient, RefreshError, TokenOrigin, TokenSource};
use crate::secret::Secret;
use file::{AuthFile, EXPIRY_MARGIN_SECS, Expired, OrgLogin, Verdict};

/// Now, in Unix seconds (the file's unit).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// How to run `parallel-cli login` again, the end of every "expired" text.
const LOG_IN_AGAIN: &str = "Run `parallel-cli login` to log in again";

fn rfc3339(at: i64) -> String {
    u64::try_from(at)
        .ok()
        .and_then(|secs| UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs)))
        .map_or_else(
            || at.to_string(),
            |t| humantime::format_rfc3339_seconds(t).to_string(),
        )
}

/// The text for a login only `parallel-cli login` can mend.
pub fn expired_text(file: &str, why: &Expired) -> String {
    let why = match why {
        Expired::Authorization { at } => format!("its authorization ended at {}", rfc3339(*at)),
        Expired::RefreshToken { at } => format!("its refresh token expired at {}", rfc3339(*at)),
        Expired::NoRefreshToken => {
            "its access token has expired and it holds no refresh token".to_owned()
        }
    };
    format!("The saved Parallel CLI login in {file} has expired: {why}. {LOG_IN_AGAIN}.")
}

/// The token in use, and how early to refresh it.
struct Current {
    login: OrgLogin,
    /// Seconds before expiry at which it counts as expired: the standard
    /// minute, or half the lifetime of a token granted for less than two
    /// minutes (else such a token would be refreshed before every request).
    margin: i64,
}

/// A saved Parallel CLI login, for one organization.
pub struct SavedLogin {
    path: PathBuf,
    shown: String,
    platform: PlatformClient,
    /// Held across a refresh, so that one process refreshes once.
    current: tokio::sync::Mutex<Current>,
    known: Mutex<Vec<Secret>>,
}

impl std::fmt::Debug for SavedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedLogin")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn margin_for(remaining: i64) -> i64 {
    EXPIRY_MARGIN_SECS.min(remaining.max(0) / 2)
}

impl SavedLogin {
    /// `login` was read from `path` at configuration.
    pub fn new(path: PathBuf, login: OrgLogin, platform: PlatformClient) -> Self {
        let known = [&login.access_token, &login.refresh_token]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        Self {
            shown: path.display().to_string(),
            path,
            platform,
            current: tokio::sync::Mutex::new(Current {
                login,
                margin: EXPIRY_MARGIN_SECS,
            }),
            known: Mutex::new(known),
        }
    }

    fn remember(&self, login: &OrgLogin) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        for secret in [&login.access_token, &login.refresh_token]
            .into_iter()
            .flatten()
        {
            if !known.iter().any(|k| k.expose() == secret.expose()) {
                known.push(secret.clone());
            }
        }
    }

    fn error(&self, message: String) -> CredentialsError {
        CredentialsError::new(message)
    }

    /// The file's current content for our org, read under the lock.
    fn reread(&self, org_id: &str) -> Result<(AuthFile, OrgLogin), CredentialsError> {
        let unreadable = |why: String| {
            self.error(format!(
                "Cannot read the saved Parallel CLI login in {}: {why}. {LOG_IN_AGAIN}.",
                self.shown
            ))
        };
        let read = store::read(&self.path)
            .map_err(|e| unreadable(e.to_string()))?
            .ok_or_else(|| unreadable("the file is gone".to_owned()))?;
        let auth = AuthFile::parse(&read.bytes).map_err(|p| unreadable(p.to_string()))?;
        let login = auth
            .select(Some(org_id))
            .map_err(|p| unreadable(p.to_string()))?;
        Ok((auth, login))
    }

    /// Refreshes `current` (whose token was `rejected` by the API, or is
    /// expiring), unless another process already did: then its token is
    /// taken from the file.
    async fn refresh(
        &self,
        current: &mut Current,
        rejected: Option<&Secret>,
        cancel: &CancellationToken,
    ) -> Result<Secret, CredentialsError> {
        let _lock = store::lock(&self.path, cancel).await.map_err(|e| {
            let why = match e {
                store::LockError::Io(e) => format!("cannot open its lock file: {e}"),
                store::LockError::Busy => format!(
                    "another process has held its lock file for {} s",
                    store::LOCK_WAIT.as_secs()
                ),
                store::LockError::Cancelled => "Terraform was interrupted".to_owned(),
            };
            let mut error = self.error(format!(
                "Cannot refresh the saved Parallel CLI login in {}: {why}.",
                self.shown
            ));
            error.transient = true;
            error
        })?;
        let org_id = current.login.org_id.clone();
        let (auth, saved) = self.reread(&org_id)?;
        self.remember(&saved);
        let now = unix_now();
        // Another process (or `parallel-cli login`) replaced the token we
        // hold: use theirs while it lasts, and spend no refresh token.
        let replaced = saved.access_token.as_ref().is_some_and(|token| {
            !current.login.holds(token) && rejected.is_none_or(|r| r.expose() != token.expose())
        });
        if replaced && let Some(token) = &saved.access_token {
            let remaining = saved
                .access_token_expires_at
                .map_or(i64::MAX, |at| at - now);
            if remaining > 0 {
                tracing::debug!("using the access token another process saved");
                let token = token.clone();
                current.margin = margin_for(remaining);
                current.login = saved;
                return Ok(token);
            }
        }
        // Refresh whatever the file holds now, fresh or not: ours was
        // rejected, or is about to expire.
        let (refresh_token, client_id) = saved
            .refresh_grant(now)
            .map_err(|why| self.error(expired_text(&self.shown, &why)))?;
        tracing::debug!(file = %self.shown, "refreshing the saved Parallel CLI login");
        let grant = self
            .platform
            .refresh(&refresh_token, &client_id, cancel)
            .await
            .map_err(|e| self.refresh_failed(e))?;
        let merged = auth
            .with_grant(&org_id, &grant, now)
            .map_err(|p| self.error(format!("Cannot update {}: {p}.", self.shown)))?;
        let login = merged
            .select(Some(&org_id))
            .map_err(|p| self.error(format!("Cannot update {}: {p}.", self.shown)))?;
        self.remember(&login);
        // The old refresh token is spent now: the new one must be saved, or
        // the next run would fail. This run goes on with the new token.
        if let Err(e) = store::replace(&self.path, &merged.to_bytes()) {
            tracing::warn!(
                file = %self.shown,
                error = %e,
                "the refreshed Parallel CLI login could not be saved; the next run will need `parallel-cli login`"
            );
        }
        current.margin = margin_for(grant.expires_in.unwrap_or(i64::MAX));
        current.login = login;
        Ok(grant.access_token)
    }

    fn refresh_failed(&self, error: RefreshError) -> CredentialsError {
        match error {
            RefreshError::Refused { .. } => self.error(format!(
                "The saved Parallel CLI login in {} has expired: {error}. {LOG_IN_AGAIN}.",
                self.shown
            )),
            RefreshError::Failed(_) => {
                let transient = error.is_transient();
                let mut failure = self.error(format!(
                    "Refreshing the saved Parallel CLI login in {} failed: {error}. The login \
                     itself may still be good: run Terraform again, or check \
                     PARALLEL_PLATFORM_URL and connectivity to the platform.",
                    self.shown
                ));
                failure.transient = transient;
                failure
            }
        }
    }
}

#[async_trait]
impl TokenSource for SavedLogin {
    fn origin(&self) -> TokenOrigin {
        TokenOrigin::SavedLogin {
            file: self.shown.clone(),
        }
    }

    async fn token(&self, cancel: &CancellationToken) -> Result<Secret, CredentialsError> {
        let mut current = self.current.lock().await;
        match current.login.verdict(unix_now(), current.margin) {
            Verdict::Use(token) => Ok(token),
            Verdict::Refresh { .. } => self.refresh(&mut current, None, cancel).await,
            Verdict::Expired(why) => Err(self.error(expired_text(&self.shown, &why))),
        }
    }

    async fn renew(
        &self,
        rejected: &Secret,
        cancel: &CancellationToken,
    ) -> Result<Option<Secret>, CredentialsError> {
        let mut current = self.current.lock().await;
        // Rejected together with others: the first of them refreshed.
        if !current.login.holds(rejected)
            && let Verdict::Use(token) = current.login.verdict(unix_now(), current.margin)
        {
            return Ok(Some(token));
        }
        self.refresh(&mut current, Some(rejected), cancel)
            .await
            .map(Some)
    }

    fn known_secrets(&self) -> Vec<Secret> {
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
