//! The platform's side of a `parallel-cli login`: the access and refresh
//! tokens it issued, the refresh grant with rotation, and the CLI-shaped
//! `auth.json` a login leaves in a home directory.
//!
//! Times are absolute Unix seconds, as in the CLI's file, so a test can
//! write a login whose access token expired an hour ago and the API routes
//! agree that it has.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::secrets;

/// The scopes `parallel-cli login` asks for.
pub const CLI_SCOPES: &str =
    "keys:read keys:create keys:delete apps:read apps:create apps:delete balance:read balance:add";
/// The `client_id` the CLI falls back on when registration failed.
pub const FALLBACK_CLIENT_ID: &str = "parallel-cli";

const DAY: i64 = 24 * 60 * 60;

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// How a new login's tokens are shaped. Lifetimes are relative to now and
/// may be negative, for a login that has already expired.
#[derive(Debug, Clone)]
pub struct LoginSpec {
    pub access_token_expires_in: i64,
    pub refresh_token_expires_in: i64,
    pub authorization_expires_in: i64,
    /// The dynamically registered id; `None` writes `"client_id": null`,
    /// as a CLI whose registration failed does (refresh then uses
    /// [`FALLBACK_CLIENT_ID`]).
    pub client_id: Option<String>,
}

impl Default for LoginSpec {
    fn default() -> LoginSpec {
        LoginSpec {
            access_token_expires_in: 3600,
            refresh_token_expires_in: 30 * DAY,
            authorization_expires_in: 30 * DAY,
            client_id: Some(format!("emu-client-{}", secrets::short_id())),
        }
    }
}

impl LoginSpec {
    /// A login whose access token expired a minute ago (its refresh token
    /// is still good).
    pub fn access_token_expired() -> LoginSpec {
        LoginSpec {
            access_token_expires_in: -60,
            ..LoginSpec::default()
        }
    }
}

/// One login as the CLI saves it.
#[derive(Clone)]
pub struct Login {
    pub org_id: String,
    pub org_name: String,
    pub client_id: Option<String>,
    pub access_token: String,
    pub access_token_expires_at: i64,
    pub refresh_token: String,
    pub refresh_token_expires_at: i64,
    pub authorization_expires_at: i64,
    /// A data-API key, as `parallel-cli login` provisions one; the Account
    /// API never accepts it.
    pub api_key: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("org_id", &self.org_id)
            .field("client_id", &self.client_id)
            .field("access_token_expires_at", &self.access_token_expires_at)
            .finish_non_exhaustive()
    }
}

impl Login {
    /// The CLI's `auth.json` holding this login alone.
    pub fn auth_json(&self) -> Value {
        json!({
            "version": 1,
            "selected_org_id": self.org_id,
            "client_id": self.client_id,
            "orgs": {
                &self.org_id: {
                    "api_key": self.api_key,
                    "org_name": self.org_name,
                    "control_api": {
                        "access_token": self.access_token,
                        "access_token_expires_at": self.access_token_expires_at,
                        "access_token_scopes": CLI_SCOPES.split(' ').collect::<Vec<_>>(),
                        "refresh_token": self.refresh_token,
                        "refresh_token_expires_at": self.refresh_token_expires_at,
                        "authorization_expires_at": self.authorization_expires_at,
                    }
                }
            }
        })
    }
}

/// Where the CLI keeps its login below `home`.
pub fn auth_file_in(home: &Path) -> PathBuf {
    home.join(".config")
        .join("parallel-web-tools")
        .join("auth.json")
}

/// Writes `content` as the CLI does: directories created, a temporary
/// file beside the target renamed over it, mode 0600 (on Unix; Windows
/// files have no mode bits).
pub fn write_auth_file(path: &Path, content: &Value) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    let temporary = path.with_extension(format!("tmp-{}", secrets::short_id()));
    let text = serde_json::to_string_pretty(content).map_err(std::io::Error::other)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

struct RefreshRecord {
    org_id: String,
    org_name: String,
    client_id: String,
    expires_at: i64,
    authorization_expires_at: i64,
    /// Rotated away: presenting it again is `invalid_grant`.
    used: bool,
}

/// The answer to a token request: a status and an OAuth-shaped body.
pub struct TokenAnswer {
    pub status: u16,
    pub body: Value,
}

fn oauth_error(status: u16, error: &str, description: &str) -> TokenAnswer {
    TokenAnswer {
        status,
        body: json!({ "error": error, "error_description": description }),
    }
}

/// Every token issued, with its expiry.
pub struct Logins {
    org_id: String,
    org_name: String,
    /// Lifetime of the access tokens the refresh grant issues.
    access_token_lifetime: Duration,
    access: HashMap<String, i64>,
    refresh: HashMap<String, RefreshRecord>,
    /// Every secret ever issued, for tests that scan output for them.
    issued: Vec<String>,
    refreshes: usize,
}

impl Logins {
    pub fn new(org_id: String, org_name: String, access_token_lifetime: Duration) -> Logins {
        Logins {
            org_id,
            org_name,
            access_token_lifetime,
            access: HashMap::new(),
            refresh: HashMap::new(),
            issued: Vec::new(),
            refreshes: 0,
        }
    }

    pub fn set_access_token_lifetime(&mut self, lifetime: Duration) {
        self.access_token_lifetime = lifetime;
    }

    /// Whether `token` is an access token issued here and not expired.
    pub fn access_token_valid(&self, token: &str, now: i64) -> bool {
        self.access.get(token).is_some_and(|expires| now < *expires)
    }

    /// Makes every access token issued so far invalid (refresh tokens stay
    /// good), as a server-side revocation would.
    pub fn revoke_access_tokens(&mut self) -> usize {
        let revoked = self.access.len();
        self.access.clear();
        revoked
    }

    pub fn issued_secrets(&self) -> Vec<String> {
        self.issued.clone()
    }

    /// Successful refresh grants so far.
    pub fn refreshes(&self) -> usize {
        self.refreshes
    }

    fn issue_access_token(&mut self, expires_at: i64) -> String {
        let token = format!("emu-at-{}", secrets::token_chars());
        self.access.insert(token.clone(), expires_at);
        self.issued.push(token.clone());
        token
    }

    fn issue_refresh_token(&mut self, record: RefreshRecord) -> String {
        let token = format!("emu-rt-{}", secrets::token_chars());
        self.refresh.insert(token.clone(), record);
        self.issued.push(token.clone());
        token
    }

    /// A new login for the emulator's organization, as `parallel-cli login`
    /// would leave it.
    pub fn login(&mut self, spec: &LoginSpec) -> Login {
        let now = unix_now();
        let access_token_expires_at = now.saturating_add(spec.access_token_expires_in);
        let refresh_token_expires_at = now.saturating_add(spec.refresh_token_expires_in);
        let authorization_expires_at = now.saturating_add(spec.authorization_expires_in);
        let access_token = self.issue_access_token(access_token_expires_at);
        let refresh_token = self.issue_refresh_token(RefreshRecord {
            org_id: self.org_id.clone(),
            org_name: self.org_name.clone(),
            client_id: spec
                .client_id
                .clone()
                .unwrap_or_else(|| FALLBACK_CLIENT_ID.to_owned()),
            expires_at: refresh_token_expires_at,
            authorization_expires_at,
            used: false,
        });
        let api_key = secrets::raw_api_key();
        self.issued.push(api_key.clone());
        Login {
            org_id: self.org_id.clone(),
            org_name: self.org_name.clone(),
            client_id: spec.client_id.clone(),
            access_token,
            access_token_expires_at,
            refresh_token,
            refresh_token_expires_at,
            authorization_expires_at,
            api_key,
        }
    }

    /// `POST /getServiceKeys/token` with a form-decoded body.
    pub fn token_request(&mut self, form: &HashMap<String, String>, now: i64) -> TokenAnswer {
        let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
        match field("grant_type") {
            Some("refresh_token") => {}
            Some(_) => {
                return oauth_error(
                    400,
                    "unsupported_grant_type",
                    "only the refresh_token grant is emulated",
                );
            }
            None => return oauth_error(400, "invalid_request", "grant_type is required"),
        }
        let Some(presented) = field("refresh_token") else {
            return oauth_error(400, "invalid_request", "refresh_token is required");
        };
        let Some(client_id) = field("client_id") else {
            return oauth_error(400, "invalid_request", "client_id is required");
        };
        let Some(record) = self.refresh.get_mut(presented) else {
            return oauth_error(400, "invalid_grant", "Invalid refresh token");
        };
        if record.client_id != client_id {
            return oauth_error(401, "invalid_client", "Unknown client_id");
        }
        if record.used {
            return oauth_error(400, "invalid_grant", "Refresh token already used");
        }
        if now >= record.expires_at || now >= record.authorization_expires_at {
            return oauth_error(400, "invalid_grant", "Refresh token expired");
        }
        record.used = true;
        let rotated = RefreshRecord {
            org_id: record.org_id.clone(),
            org_name: record.org_name.clone(),
            client_id: record.client_id.clone(),
            expires_at: now
                .saturating_add(30 * DAY)
                .min(record.authorization_expires_at),
            authorization_expires_at: record.authorization_expires_at,
            used: false,
        };
        let lifetime = i64::try_from(self.access_token_lifetime.as_secs()).unwrap_or(i64::MAX);
        let answer = json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "refresh_token_expires_in": rotated.expires_at - now,
            "authorization_expires_in": rotated.authorization_expires_at - now,
            "org_id": rotated.org_id,
            "org_name": rotated.org_name,
            "scope": CLI_SCOPES,
        });
        let access_token = self.issue_access_token(now.saturating_add(lifetime));
        let refresh_token = self.issue_refresh_token(rotated);
        self.refreshes += 1;
        let mut body = answer;
        body["access_token"] = Value::String(access_token);
        body["refresh_token"] = Value::String(refresh_token);
        TokenAnswer { status: 200, body }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logins() -> Logins {
        Logins::new("org-1".into(), "Org".into(), Duration::from_secs(5))
    }

    fn refresh_form(token: &str, client_id: &str) -> HashMap<String, String> {
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", client_id),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn refresh_rotates_and_an_old_refresh_token_is_refused() {
        let mut logins = logins();
        let login = logins.login(&LoginSpec::access_token_expired());
        let now = unix_now();
        assert!(!logins.access_token_valid(&login.access_token, now));
        let client = login.client_id.clone().unwrap_or_default();
        let answer = logins.token_request(&refresh_form(&login.refresh_token, &client), now);
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["expires_in"], 5);
        let fresh = answer.body["access_token"].as_str().unwrap_or_default();
        assert!(logins.access_token_valid(fresh, now));
        assert!(
            !logins.access_token_valid(fresh, now + 5),
            "expires after 5 s"
        );
        let reused = logins.token_request(&refresh_form(&login.refresh_token, &client), now);
        assert_eq!(
            (reused.status, &reused.body["error"]),
            (400, &json!("invalid_grant"))
        );
        let rotated = answer.body["refresh_token"].as_str().unwrap_or_default();
        let again = logins.token_request(&refresh_form(rotated, &client), now);
        assert_eq!(again.status, 200);
        assert_eq!(logins.refreshes(), 2);
    }

    #[test]
    fn wrong_client_expired_grant_and_bad_requests() {
        let mut logins = logins();
        let login = logins.login(&LoginSpec {
            client_id: None,
            ..LoginSpec::default()
        });
        let now = unix_now();
        let wrong = logins.token_request(&refresh_form(&login.refresh_token, "other"), now);
        assert_eq!(
            (wrong.status, &wrong.body["error"]),
            (401, &json!("invalid_client"))
        );
        let late = logins.token_request(
            &refresh_form(&login.refresh_token, FALLBACK_CLIENT_ID),
            now + 31 * DAY,
        );
        assert_eq!(late.body["error"], "invalid_grant");
        let mut form = refresh_form(&login.refresh_token, FALLBACK_CLIENT_ID);
        form.insert("grant_type".into(), "password".into());
        assert_eq!(
            logins.token_request(&form, now).body["error"],
            "unsupported_grant_type"
        );
        assert_eq!(logins.refreshes(), 0);
    }

    #[test]
    fn revocation_and_the_file_shape() {
        let mut logins = logins();
        let login = logins.login(&LoginSpec::default());
        let file = login.auth_json();
        assert_eq!(file["selected_org_id"], "org-1");
        let control = &file["orgs"]["org-1"]["control_api"];
        assert_eq!(control["access_token"], login.access_token.as_str());
        assert!(logins.access_token_valid(&login.access_token, unix_now()));
        assert_eq!(logins.revoke_access_tokens(), 1);
        assert!(!logins.access_token_valid(&login.access_token, unix_now()));
        assert!(!format!("{login:?}").contains(&login.access_token));
        assert_eq!(logins.issued_secrets().len(), 3, "access, refresh, api_key");
    }
}
