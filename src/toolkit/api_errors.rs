//! API failures as diagnostics: what was being done, what went wrong, what
//! to do, and the attribute at fault where the API named one.

use crate::client::ApiError;
use std::time::Duration;
use tfplugin::{AttrPath, Diagnostic, Diagnostics};

/// What a request was doing, for the diagnostics its failure becomes:
/// `Attempt::new("Reading the balance")`, with what else the request
/// knows added by the methods below.
pub struct Attempt<'a> {
    /// What was being done, e.g. `Revoking API key "ci" (ID k) of app A`.
    doing: &'a str,
    /// The object's attributes a 422 may name (its `loc`), so the error
    /// points at the one in the configuration.
    attributes: &'a [&'a str],
    /// What a 404 from the API itself (not a wrong base_url) means here.
    not_found: Option<NotFound>,
    /// Set when the request was cut off by the operation's time limit.
    timed_out_after: Option<Duration>,
}

impl<'a> Attempt<'a> {
    pub fn new(doing: &'a str) -> Self {
        Attempt {
            doing,
            attributes: &[],
            not_found: None,
            timed_out_after: None,
        }
    }

    /// The attributes a 422 may name.
    pub fn attributes(mut self, attributes: &'a [&'a str]) -> Self {
        self.attributes = attributes;
        self
    }

    /// What the API's own 404 means for this request.
    pub fn not_found(mut self, not_found: NotFound) -> Self {
        self.not_found = Some(not_found);
        self
    }

    /// The time limit, when it is what cut the request off
    /// (`Deadline::timed_out_after`).
    pub fn timed_out_after(mut self, limit: Option<Duration>) -> Self {
        self.timed_out_after = limit;
        self
    }
}

/// The meaning of "no such object" for one request.
pub struct NotFound {
    pub summary: &'static str,
    pub detail: String,
    pub attribute: Option<&'static str>,
}

impl NotFound {
    /// The app a request named does not exist for this token.
    pub fn app(app_id: &str) -> Self {
        NotFound {
            summary: "App not found",
            detail: format!(
                "Parallel has no app {app_id} that this access token can see. Check app_id, \
                 and that the token belongs to the app's organization."
            ),
            attribute: Some("app_id"),
        }
    }
}

pub fn api_error(err: &ApiError, failure: Attempt<'_>) -> Diagnostics {
    let doing = failure.doing;
    // The API's own 404 (not a wrong base_url's), where the request says
    // what it means.
    if let (
        ApiError::NotFound {
            detail: Some(said), ..
        },
        Some(not_found),
    ) = (err, &failure.not_found)
        && err.is_object_not_found()
    {
        let diag = Diagnostic::error(
            not_found.summary,
            format!("{doing}: {} (Parallel said: {said})", not_found.detail),
        );
        return match not_found.attribute {
            Some(name) => diag.at(AttrPath::root(name)).into(),
            None => diag.into(),
        };
    }
    match err {
        ApiError::Validation { problems } => problems
            .iter()
            .map(|problem| {
                let diag = Diagnostic::error(
                    "Parallel rejected the request",
                    format!("{doing}: {}. Fix the value and apply again.", problem.msg),
                );
                match problem.loc.last() {
                    Some(name) if failure.attributes.contains(&name.as_str()) => {
                        diag.at(AttrPath::root(name))
                    }
                    _ => diag,
                }
            })
            .collect(),
        ApiError::Credentials(_) => {
            Diagnostic::error("No usable Parallel access token", format!("{doing}: {err}")).into()
        }
        ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => {
            Diagnostic::error("Parallel access token rejected", format!("{doing}: {err}")).into()
        }
        ApiError::Cancelled => match failure.timed_out_after {
            Some(limit) => Diagnostic::error(
                "Operation timed out",
                format!(
                    "{doing}: the operation did not finish within its timeout ({}). Raise it \
                     in the resource's timeouts block, or check connectivity to the API.",
                    humantime::format_duration(limit)
                ),
            )
            .into(),
            None => Diagnostic::error("Operation cancelled", format!("{doing}: {err}")).into(),
        },
        _ => Diagnostic::error("Parallel API request failed", format!("{doing}: {err}")).into(),
    }
}
