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
mod patch;
pub mod store;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use tfplugin::Diagnostic;
use tfplugin::lifecycle::KeepAlive;
use tfplugin::notices::Notices;
use tokio::sync::OwnedMutexGuard;
use tokio_util::sync::CancellationToken;

use crate::client::{
    ApiError, CredentialsError, PlatformClient, RefreshError, TokenOrigin, TokenSource,
};
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

/// An expiry from the login file, readable; the raw number when it is no
/// writable time (a corrupt file must not crash the provider).
fn rfc3339(at: i64) -> String {
    crate::toolkit::time::unix_rfc3339(at).unwrap_or_else(|| at.to_string())
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

/// What a saved login needs from the plugin server: somewhere a refresh
/// runs to its end whatever becomes of the call that needed it, and
/// somewhere to put a warning that no single call owns (a failed save).
#[derive(Clone, Default)]
pub struct Surroundings {
    pub keep_alive: KeepAlive,
    pub notices: Notices,
}

impl Surroundings {
    /// The server's, as a call sees them.
    pub fn of(ctx: &tfplugin::Context) -> Self {
        Surroundings {
            keep_alive: ctx.keep_alive.clone(),
            notices: ctx.notices.clone(),
        }
    }
}

/// A saved Parallel CLI login, for one organization.
pub struct SavedLogin {
    shared: Arc<Shared>,
    /// Held across a refresh, so that one process refreshes once. Owned by
    /// the refresh's own task while it runs (see [`SavedLogin::refresh`]).
    current: Arc<tokio::sync::Mutex<Current>>,
    keep_alive: KeepAlive,
}

/// What a refresh needs, shared with the task it runs on.
struct Shared {
    path: PathBuf,
    shown: String,
    platform: PlatformClient,
    known: Mutex<Vec<Secret>>,
    notices: Notices,
}

impl std::fmt::Debug for SavedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedLogin")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

fn margin_for(remaining: i64) -> i64 {
    EXPIRY_MARGIN_SECS.min(remaining.max(0) / 2)
}

impl SavedLogin {
    /// `login` was read from `path` at configuration.
    pub fn new(
        path: PathBuf,
        login: OrgLogin,
        platform: PlatformClient,
        surroundings: Surroundings,
    ) -> Self {
        let known = [&login.access_token, &login.refresh_token]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        Self {
            shared: Arc::new(Shared {
                shown: path.display().to_string(),
                path,
                platform,
                known: Mutex::new(known),
                notices: surroundings.notices,
            }),
            current: Arc::new(tokio::sync::Mutex::new(Current {
                login,
                margin: EXPIRY_MARGIN_SECS,
            })),
            keep_alive: surroundings.keep_alive,
        }
    }

    /// Refreshes on a task of its own, which the caller awaits. A refresh
    /// token, once sent, is spent whatever happens to the caller (Ctrl-C,
    /// a deadline, Terraform killed and the call dropped with its
    /// connection): so the refresh runs on to its answer and saves the
    /// rotated tokens, and the server does not exit before it has.
    /// `cancel` still stops it before anything is sent.
    async fn refresh(
        &self,
        mut current: OwnedMutexGuard<Current>,
        rejected: Option<Secret>,
        cancel: &CancellationToken,
    ) -> Result<Secret, CredentialsError> {
        let shared = self.shared.clone();
        let cancel = cancel.clone();
        let refreshing = self.keep_alive.spawn(async move {
            shared
                .refresh(&mut current, rejected.as_ref(), &cancel)
                .await
        });
        refreshing.await.unwrap_or_else(|_| {
            Err(self.shared.error(format!(
                "Refreshing the saved Parallel CLI login in {} ended without an answer (an \
                 internal error; please report it). {MAYBE_SPENT}",
                self.shared.shown
            )))
        })
    }
}

/// The end of every text about a refresh whose answer may have been lost.
const MAYBE_SPENT: &str = "The platform may have rotated the login's refresh token before the \
     answer was lost, and new tokens that never arrived cannot be saved. Run Terraform again: if \
     it then fails with invalid_grant, the saved refresh token was spent, and only a new \
     `parallel-cli login` helps.";

impl Shared {
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
                store::LockError::Io(e) => format!(
                    "cannot open its lock file {}: {e}",
                    store::lock_path(&self.path).display()
                ),
                store::LockError::Busy => format!(
                    "another process has held its lock file for {} s",
                    store::LOCK_WAIT.as_secs()
                ),
                store::LockError::Cancelled => "Terraform was interrupted".to_owned(),
            };
            let mut error = self.error(format!(
                "Cannot refresh the saved Parallel CLI login in {}: {why}. Nothing was sent: \
                 the login saved there is unchanged.",
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
            self.not_saved(&e, grant.refresh_token.is_some());
        }
        current.margin = margin_for(grant.expires_in.unwrap_or(i64::MAX));
        current.login = login;
        Ok(grant.access_token)
    }

    /// The rotated tokens could not be written back: a warning the user
    /// sees, since the next run depends on it.
    fn not_saved(&self, error: &std::io::Error, rotated: bool) {
        tracing::warn!(
            file = %self.shown,
            error = %error,
            rotated,
            "the refreshed Parallel CLI login could not be saved"
        );
        let what_now = if rotated {
            "The new tokens serve this provider process, but the refresh token left in the \
             file is spent: the next time Terraform starts the provider (the apply after this \
             plan included) it fails with invalid_grant. Make the file and its directory \
             writable, then run `parallel-cli login` (or give the provider an access token in \
             access_token or PARALLEL_ACCESS_TOKEN)."
        } else {
            "The platform kept the refresh token, so the login saved there still works: the next \
             run refreshes again. Make the file and its directory writable to spare it that."
        };
        self.notices.push(Diagnostic::warning(
            "The refreshed Parallel CLI login could not be saved",
            format!(
                "The provider refreshed the saved Parallel CLI login in {} (its access token \
                 had expired or was rejected), and the new tokens could not be written back to \
                 it: {error}. {what_now}",
                self.shown
            ),
        ));
    }

    fn refresh_failed(&self, error: RefreshError) -> CredentialsError {
        match error {
            RefreshError::Refused { .. } => self.error(format!(
                "The saved Parallel CLI login in {} has expired: {error}. {LOG_IN_AGAIN}.",
                self.shown
            )),
            RefreshError::Failed(ApiError::Cancelled) => {
                let mut stopped = self.error(format!(
                    "Terraform was interrupted before the saved Parallel CLI login in {} was \
                     refreshed. Nothing was sent: the login saved there is unchanged.",
                    self.shown
                ));
                stopped.transient = true;
                stopped
            }
            RefreshError::Failed(_) => {
                let transient = error.is_transient();
                let what_now = if error.may_have_rotated() {
                    MAYBE_SPENT
                } else {
                    "The platform did not take the refresh: the login saved there is unchanged \
                     and still good. Run Terraform again, or check PARALLEL_PLATFORM_URL and \
                     connectivity to the platform."
                };
                let mut failure = self.error(format!(
                    "Refreshing the saved Parallel CLI login in {} failed: {error}. {what_now}",
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
            file: self.shared.shown.clone(),
        }
    }

    async fn token(&self, cancel: &CancellationToken) -> Result<Secret, CredentialsError> {
        let current = self.current.clone().lock_owned().await;
        match current.login.verdict(unix_now(), current.margin) {
            Verdict::Use(token) => Ok(token),
            Verdict::Refresh { .. } => self.refresh(current, None, cancel).await,
            Verdict::Expired(why) => Err(self.shared.error(expired_text(&self.shared.shown, &why))),
        }
    }

    async fn renew(
        &self,
        rejected: &Secret,
        cancel: &CancellationToken,
    ) -> Result<Option<Secret>, CredentialsError> {
        let current = self.current.clone().lock_owned().await;
        // Rejected together with others: the first of them refreshed.
        if !current.login.holds(rejected)
            && let Verdict::Use(token) = current.login.verdict(unix_now(), current.margin)
        {
            return Ok(Some(token));
        }
        self.refresh(current, Some(rejected.clone()), cancel)
            .await
            .map(Some)
    }

    fn known_secrets(&self) -> Vec<Secret> {
        self.shared
            .known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
