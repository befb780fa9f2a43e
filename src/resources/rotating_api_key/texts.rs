//! The diagnostics of `parallel_rotating_api_key`. Each names the key (see
//! `api_key::facts`), says what happened to it and to the state, and what
//! to do. Never a secret.

use std::time::Duration;

use tfplugin::{Diagnostic, Diagnostics, attr_name};

use super::model::{KeyRef, RotatingKeyModel};
use crate::client::{ApiError, is_usable_key_id};
use crate::resources::api_key::facts::KeyFacts;
use crate::resources::api_key::texts;

/// An API failure while `doing` something, with what it leaves behind
/// (`outcome`, a sentence) added to each diagnostic.
pub fn api_error(
    err: &ApiError,
    doing: &str,
    app_id: &str,
    timed_out_after: Option<Duration>,
    outcome: &str,
) -> Diagnostics {
    let name_attribute = attr_name!(RotatingKeyModel, name_prefix);
    let diags = texts::api_error(err, doing, app_id, timed_out_after, name_attribute);
    if outcome.is_empty() {
        return diags;
    }
    diags
        .iter()
        .map(|d| Diagnostic {
            detail: format!("{} {outcome}", d.detail),
            ..d.clone()
        })
        .collect()
}

/// A rotation's create that may have made a key nobody knows of: the
/// rotation did not happen.
pub fn rotation_may_have_created(name: &str, app_id: &str, err: &ApiError) -> Diagnostic {
    texts::may_have_created(name, app_id, err, ROTATION_UNDONE)
}

/// What a rotation whose new key was not created leaves: the state as it
/// was.
pub const ROTATION_UNDONE: &str = "The rotation did not happen: the state is as it was, with the \
     current key and its secret, and nothing was revoked.";

/// The first key was created, but Parallel's answer was incomplete; what
/// could be read is in state, and Terraform taints it.
pub fn incomplete_create(saved: &KeyFacts, has_secret: bool, problem: &str) -> Diagnostic {
    let label = saved.label();
    let usable_id = saved.id.as_deref().is_some_and(is_usable_key_id);
    let detail = match (usable_id, has_secret) {
        (true, true) => format!(
            "Parallel created {label}, but its answer was incomplete: {problem}. Everything \
             that could be read, the secret included, was saved in state. Terraform marks the \
             resource tainted: the next apply revokes this key and creates a new one."
        ),
        (true, false) => format!(
            "Parallel created {label}, but its answer held no readable secret (raw_api_key): \
             {problem}. Parallel never shows it again, so this key cannot be used. Terraform \
             marks the resource tainted: the next apply revokes this key and creates a new one."
        ),
        (false, _) => format!(
            "Parallel created {label}, but its answer holds no usable api_key_id: {problem}. \
             Without its ID Terraform cannot revoke this key: revoke it yourself in the \
             Parallel platform ({}). Terraform marks the resource tainted: the next apply \
             creates a new key.",
            saved.finding_aid()
        ),
    };
    Diagnostic::error(
        "API key created, but Parallel's answer was incomplete",
        detail,
    )
}

/// A rotation's new key was created, but its answer was incomplete: the
/// current key stays, and the new one is revoked (or left to revoke).
pub fn incomplete_rotation(new: &KeyFacts, problem: &str, revoked: bool) -> Diagnostic {
    let label = new.label();
    let usable_id = new.id.as_deref().is_some_and(is_usable_key_id);
    let fate = match (usable_id, revoked) {
        (true, true) => "It was revoked at once.".to_owned(),
        (true, false) => "Revoking it failed (see the other error); its ID is kept in state \
             (unrevoked_api_key_ids), and the next apply revokes it."
            .to_owned(),
        (false, _) => format!(
            "Without a usable ID Terraform cannot revoke it: revoke it yourself in the Parallel \
             platform ({}).",
            new.finding_aid()
        ),
    };
    Diagnostic::error(
        "Rotation failed: the new key's answer was incomplete",
        format!(
            "Parallel created {label} to rotate to, but its answer was incomplete: {problem}. \
             The rotation did not happen: the current key and its secret stay as they were. \
             {fate} The next apply tries the rotation again."
        ),
    )
}

/// A key whose recorded ID cannot address it: nothing can revoke it from
/// here, so it leaves the state with a warning that says how to find it.
pub fn not_revocable(key: &KeyFacts) -> Diagnostic {
    Diagnostic::warning(
        "API key not revoked",
        format!(
            "Terraform cannot revoke {}: the state records no usable api_key_id for it. It is \
             removed from the Terraform state, but the key may still be live. Revoke it in the \
             Parallel platform: {}.",
            key.label(),
            key.finding_aid()
        ),
    )
}

/// What is said when revoking `key` fails in an apply, and what the state
/// keeps.
pub fn revoke_outcome(key: &KeyRef, attribute: &str) -> String {
    let id = key.id().unwrap_or_default();
    format!(
        "The key is still live, so the state keeps it ({attribute} = {id:?}) and the next apply \
         tries to revoke it again."
    )
}

/// A plan made without a refresh reads no time, so it does not rotate or
/// revoke what the clock says is due.
pub fn due_without_refresh() -> Diagnostic {
    Diagnostic::warning(
        "Rotation due, but not planned without a refresh",
        "By the clock, this key is due to rotate or its previous key is due to be revoked, but \
         this plan was made without refreshing the resource (-refresh=false), and the \
         provider reads the time only at the refresh before a plan, so that a saved plan is \
         applied as planned. Plan again without -refresh=false to rotate.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: Option<&str>) -> KeyFacts {
        KeyFacts {
            name: Some("search-20270115T080000Z".into()),
            id: id.map(str::to_owned),
            app_id: Some("3c90c3cc-0d44-4b50-8888-8dd25736052a".into()),
            app_name: None,
            display_value: Some("par_…6789".into()),
            created_at: None,
        }
    }

    #[test]
    fn an_incomplete_rotation_keeps_the_current_key_and_says_what_became_of_the_new_one() {
        let d = incomplete_rotation(&facts(Some("k2")), "`created_at` is missing", true);
        assert!(
            d.detail.contains("current key and its secret stay"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("revoked at once"), "{}", d.detail);
        let d = incomplete_rotation(&facts(Some("k2")), "x", false);
        assert!(d.detail.contains("unrevoked_api_key_ids"), "{}", d.detail);
        let d = incomplete_rotation(&facts(None), "x", false);
        assert!(d.detail.contains("shown as \"par_…6789\""), "{}", d.detail);
    }

    #[test]
    fn a_failed_revoke_says_what_the_state_keeps() {
        let key = KeyRef {
            facts: facts(Some("k1")),
            revoke_at: None,
        };
        let diags = api_error(
            &ApiError::Cancelled,
            "Revoking the previous key",
            "a",
            Some(Duration::from_secs(2)),
            &revoke_outcome(&key, "previous_api_key_id"),
        );
        let text = format!("{diags:?}");
        assert!(text.contains("previous_api_key_id = \\\"k1\\\""), "{text}");
        assert!(
            text.contains("next apply tries to revoke it again"),
            "{text}"
        );
    }

    #[test]
    fn a_failed_create_in_a_rotation_says_nothing_was_revoked() {
        let d = rotation_may_have_created("s-1", "a", &ApiError::Cancelled);
        assert!(d.detail.contains("nothing was revoked"), "{}", d.detail);
        let d = texts::may_have_created("s-1", "a", &ApiError::Cancelled, "");
        assert!(!d.detail.contains("rotation"), "{}", d.detail);
    }
}
