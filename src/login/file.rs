//! The Parallel CLI's `auth.json`, read and merged without loss.
//!
//! The file belongs to the CLI, which may add fields at any time, so only
//! the token fields of one org's `control_api` are ever changed, patched
//! into the file's text (see `patch`): every other field, known or not,
//! other orgs and the data-API `api_key`s go back byte for byte, in their
//! order, numbers and layout. The `api_key`s are never read at all.
//!
//! ```json
//! {"version": 1, "selected_org_id": "…", "client_id": "…",
//!  "orgs": {"<org_id>": {"api_key": "…", "org_name": "…",
//!    "control_api": {"access_token", "access_token_expires_at",
//!      "access_token_scopes": […], "refresh_token",
//!      "refresh_token_expires_at", "authorization_expires_at"}}}}
//! ```
//!
//! Expiry times are absolute Unix seconds. All functions here take `now`,
//! so that they are pure.

use std::fmt;

use serde_json::{Map, Value};

use crate::client::Grant;
use crate::secret::Secret;

/// A saved access token is refreshed when it expires within this many
/// seconds: it must outlive the request it is sent with, and clocks drift.
pub const EXPIRY_MARGIN_SECS: i64 = 60;
/// The `client_id` the CLI uses when it has not registered one.
pub const FALLBACK_CLIENT_ID: &str = "parallel-cli";

/// The whole file. Its `Debug` shows nothing of it: it holds secrets.
#[derive(Clone)]
pub struct AuthFile {
    document: Map<String, Value>,
    /// The file's text, which a grant patches (see [`super::patch`]) so that
    /// everything else stays byte for byte; `None` when it is not UTF-8.
    text: Option<String>,
}

impl fmt::Debug for AuthFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthFile").finish_non_exhaustive()
    }
}

/// What is wrong with a file's content. Texts never quote the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not JSON; where the parser gave up.
    NotJson {
        line: usize,
        column: usize,
    },
    NotAnObject,
    /// `field` is not of the expected JSON type.
    Malformed {
        field: String,
        expected: &'static str,
    },
    /// `org_id` was asked for and the file does not hold it.
    UnknownOrg {
        wanted: String,
        held: Vec<OrgSummary>,
    },
    /// No `org_id` given and no usable `selected_org_id`.
    NoSelectedOrg {
        held: Vec<OrgSummary>,
    },
    /// The org holds no Account API tokens (a data-API key only).
    NoTokens {
        org_id: String,
    },
}

/// An org of the file, for error texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSummary {
    pub org_id: String,
    pub org_name: Option<String>,
}

impl fmt::Display for OrgSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.org_name {
            Some(name) => write!(f, "{name} ({})", self.org_id),
            None => write!(f, "(no name) ({})", self.org_id),
        }
    }
}

fn list(held: &[OrgSummary]) -> String {
    if held.is_empty() {
        return "no organization at all".to_owned();
    }
    held.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotJson { line, column } => {
                write!(f, "it is not valid JSON (line {line}, column {column})")
            }
            Problem::NotAnObject => f.write_str("it is not a JSON object"),
            Problem::Malformed { field, expected } => {
                write!(f, "`{field}` is not {expected}")
            }
            Problem::UnknownOrg { wanted, held } => write!(
                f,
                "it holds no login for the organization {wanted:?} given in org_id; it holds: {}",
                list(held)
            ),
            Problem::NoSelectedOrg { held } => write!(
                f,
                "it selects no organization (no usable `selected_org_id`); set org_id to one of: {}",
                list(held)
            ),
            Problem::NoTokens { org_id } => write!(
                f,
                "its organization {org_id:?} holds no Account API tokens (`control_api`)"
            ),
        }
    }
}

/// The tokens of one org, as saved.
#[derive(Clone, Debug)]
pub struct OrgLogin {
    pub org_id: String,
    pub client_id: Option<String>,
    pub access_token: Option<Secret>,
    pub access_token_expires_at: Option<i64>,
    pub refresh_token: Option<Secret>,
    pub refresh_token_expires_at: Option<i64>,
    pub authorization_expires_at: Option<i64>,
}

/// Why a saved login can no longer be used without `parallel-cli login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expired {
    Authorization { at: i64 },
    RefreshToken { at: i64 },
    NoRefreshToken,
}

/// What to do with a saved login now.
#[derive(Debug)]
pub enum Verdict {
    /// The access token is good for longer than the margin.
    Use(Secret),
    /// It must be refreshed first, with this refresh token and client.
    Refresh {
        refresh_token: Secret,
        client_id: String,
    },
    Expired(Expired),
}

impl OrgLogin {
    /// What to do at `now`, when a token expiring within `margin` seconds
    /// counts as expired. As the CLI does, an access token without an
    /// expiry is taken to be good.
    pub fn verdict(&self, now: i64, margin: i64) -> Verdict {
        if let Some(at) = self.authorization_expires_at
            && now >= at
        {
            return Verdict::Expired(Expired::Authorization { at });
        }
        if let Some(token) = &self.access_token {
            let fresh = self
                .access_token_expires_at
                .is_none_or(|at| now < at.saturating_sub(margin));
            if fresh {
                return Verdict::Use(token.clone());
            }
        }
        match self.refresh_grant(now) {
            Ok((refresh_token, client_id)) => Verdict::Refresh {
                refresh_token,
                client_id,
            },
            Err(why) => Verdict::Expired(why),
        }
    }

    /// The refresh token and client to refresh with at `now`, however
    /// fresh the access token is (the API may have rejected it).
    pub fn refresh_grant(&self, now: i64) -> Result<(Secret, String), Expired> {
        if let Some(at) = self.authorization_expires_at
            && now >= at
        {
            return Err(Expired::Authorization { at });
        }
        let Some(refresh_token) = &self.refresh_token else {
            return Err(Expired::NoRefreshToken);
        };
        if let Some(at) = self.refresh_token_expires_at
            && now >= at
        {
            return Err(Expired::RefreshToken { at });
        }
        let client_id = self
            .client_id
            .clone()
            .unwrap_or_else(|| FALLBACK_CLIENT_ID.to_owned());
        Ok((refresh_token.clone(), client_id))
    }

    /// Whether this login's access token is `token`.
    pub fn holds(&self, token: &Secret) -> bool {
        self.access_token
            .as_ref()
            .is_some_and(|own| own.expose() == token.expose())
    }
}

/// Seconds since the Unix epoch, read as the CLI writes them (an integer;
/// a float is accepted and truncated).
fn seconds(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_f64().map(|f| f as i64))
}

fn malformed(field: impl Into<String>, expected: &'static str) -> Problem {
    Problem::Malformed {
        field: field.into(),
        expected,
    }
}

/// A string member, `None` when absent or null.
fn optional_string(
    object: &Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<Option<String>, Problem> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(format!("{path}{name}"), "a string")),
    }
}

fn optional_seconds(
    object: &Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<Option<i64>, Problem> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => seconds(value)
            .map(Some)
            .ok_or_else(|| malformed(format!("{path}{name}"), "a number of Unix seconds")),
    }
}

impl AuthFile {
    pub fn parse(bytes: &[u8]) -> Result<AuthFile, Problem> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| Problem::NotJson {
            line: e.line(),
            column: e.column(),
        })?;
        match value {
            Value::Object(document) => Ok(AuthFile {
                document,
                text: String::from_utf8(bytes.to_vec()).ok(),
            }),
            _ => Err(Problem::NotAnObject),
        }
    }

    /// The file's text: as read, with a grant's fields patched in.
    pub fn to_bytes(&self) -> Vec<u8> {
        if let Some(text) = &self.text {
            return text.clone().into_bytes();
        }
        // Only for a text that could not be patched: indented as the CLI
        // writes it.
        let mut text = serde_json::to_vec_pretty(&self.document).unwrap_or_default();
        text.push(b'\n');
        text
    }

    fn orgs(&self) -> Result<Option<&Map<String, Value>>, Problem> {
        match self.document.get("orgs") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(orgs)) => Ok(Some(orgs)),
            Some(_) => Err(malformed("orgs", "an object")),
        }
    }

    /// Every org of the file, by ID, with its name when it has one.
    pub fn org_summaries(&self) -> Vec<OrgSummary> {
        let Ok(Some(orgs)) = self.orgs() else {
            return Vec::new();
        };
        orgs.iter()
            .map(|(org_id, org)| OrgSummary {
                org_id: org_id.clone(),
                org_name: org
                    .get("org_name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            })
            .collect()
    }

    /// The org to use: `org_id` when given, else the file's selected one.
    pub fn select(&self, org_id: Option<&str>) -> Result<OrgLogin, Problem> {
        let orgs = self.orgs()?;
        let selected = optional_string(&self.document, "selected_org_id", "")?;
        let wanted = match (org_id, selected) {
            (Some(wanted), _) => wanted.to_owned(),
            (None, Some(selected)) if orgs.is_some_and(|o| o.contains_key(&selected)) => selected,
            (None, _) => {
                return Err(Problem::NoSelectedOrg {
                    held: self.org_summaries(),
                });
            }
        };
        let Some(org) = orgs.and_then(|orgs| orgs.get(&wanted)) else {
            return Err(Problem::UnknownOrg {
                wanted,
                held: self.org_summaries(),
            });
        };
        let path = format!("orgs.{wanted}.");
        let org = org
            .as_object()
            .ok_or_else(|| malformed(format!("orgs.{wanted}"), "an object"))?;
        let control = match org.get("control_api") {
            None | Some(Value::Null) => None,
            Some(Value::Object(control)) => Some(control),
            Some(_) => return Err(malformed(format!("{path}control_api"), "an object")),
        };
        let Some(control) = control else {
            return Err(Problem::NoTokens { org_id: wanted });
        };
        let path = format!("{path}control_api.");
        let access_token =
            optional_string(control, "access_token", &path)?.filter(|t| !t.is_empty());
        let refresh_token =
            optional_string(control, "refresh_token", &path)?.filter(|t| !t.is_empty());
        if access_token.is_none() && refresh_token.is_none() {
            return Err(Problem::NoTokens { org_id: wanted });
        }
        Ok(OrgLogin {
            client_id: optional_string(&self.document, "client_id", "")?.filter(|c| !c.is_empty()),
            access_token: access_token.map(Secret::new),
            access_token_expires_at: optional_seconds(control, "access_token_expires_at", &path)?,
            refresh_token: refresh_token.map(Secret::new),
            refresh_token_expires_at: optional_seconds(control, "refresh_token_expires_at", &path)?,
            authorization_expires_at: optional_seconds(control, "authorization_expires_at", &path)?,
            org_id: wanted,
        })
    }

    /// The file with `grant`, obtained at `now`, saved for `org_id`. Only
    /// the token fields the grant speaks of change; a refresh token the
    /// platform did not rotate stays.
    pub fn with_grant(&self, org_id: &str, grant: &Grant, now: i64) -> Result<AuthFile, Problem> {
        let mut merged = self.clone();
        let control = merged
            .document
            .get_mut("orgs")
            .and_then(Value::as_object_mut)
            .and_then(|orgs| orgs.get_mut(org_id))
            .and_then(Value::as_object_mut)
            .and_then(|org| org.get_mut("control_api"))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| Problem::NoTokens {
                org_id: org_id.to_owned(),
            })?;
        let at = |lifetime: i64| Value::from(now.saturating_add(lifetime));
        let mut changes: Vec<(&str, Value)> = vec![
            (
                "access_token",
                Value::String(grant.access_token.expose().to_owned()),
            ),
            (
                "access_token_expires_at",
                grant.expires_in.map_or(Value::Null, at),
            ),
        ];
        if let Some(refresh_token) = &grant.refresh_token {
            changes.push((
                "refresh_token",
                Value::String(refresh_token.expose().to_owned()),
            ));
        }
        if let Some(lifetime) = grant.refresh_token_expires_in {
            changes.push(("refresh_token_expires_at", at(lifetime)));
        }
        if let Some(lifetime) = grant.authorization_expires_in {
            changes.push(("authorization_expires_at", at(lifetime)));
        }
        if let Some(scope) = &grant.scope {
            let scopes = scope.split_whitespace().map(Value::from).collect();
            changes.push(("access_token_scopes", Value::Array(scopes)));
        }
        for (name, value) in &changes {
            control.insert((*name).to_owned(), value.clone());
        }
        merged.text = merged.text.as_deref().and_then(|text| {
            super::patch::set_members(text, &["orgs", org_id, "control_api"], &changes)
        });
        Ok(merged)
    }
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
