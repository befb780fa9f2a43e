//! The diagnostics of `parallel_api_key`'s apply and destroy. Each names
//! the key (see `facts`), says what happened to it, and what to do.

use std::time::Duration;

use tfplugin::{Diagnostic, Diagnostics, attr_name, attr_path};

use super::facts::KeyFacts;
use super::model::ApiKeyModel;
use crate::client::{ApiError, is_usable_key_id};
use crate::toolkit::{self, Attempt, NotFound};

/// Parallel created the key but its answer was incomplete; `saved` is what
/// went to state.
pub fn incomplete_create(saved: &KeyFacts, has_secret: bool, problem: &str) -> Diagnostic {
    let label = saved.label();
    let usable_id = saved.id.as_deref().is_some_and(is_usable_key_id);
    let detail = match (usable_id, has_secret) {
        (true, true) => format!(
            "Parallel created {label}, but its answer was incomplete: {problem}. Everything \
             that could be read, the secret included, was saved in state, so the key is not \
             lost. Terraform marks it tainted: the next apply revokes it and creates a new \
             one (run `terraform untaint` on it to keep it instead)."
        ),
        (true, false) => format!(
            "Parallel created {label}, but its answer was incomplete: {problem}. The answer \
             held no readable secret (raw_api_key), and Parallel never shows it again, so this \
             key cannot be used. What could be read was saved in state and Terraform marks it \
             tainted: the next apply revokes it and creates a new one."
        ),
        (false, _) => format!(
            "Parallel created {label}, but its answer holds no usable api_key_id: {problem}. \
             Without its ID Terraform cannot revoke this key. What could be read{} was saved in \
             state and Terraform marks it tainted: the next apply creates a new key and \
             removes this one from state WITHOUT revoking it. Revoke it yourself in the \
             Parallel platform: {}.",
            if has_secret {
                ", the secret included,"
            } else {
                ""
            },
            saved.finding_aid()
        ),
    };
    Diagnostic::error(
        "API key created, but Parallel's answer was incomplete",
        detail,
    )
}

/// Destroying a key whose recorded ID cannot address it: the object leaves
/// the state (nothing could ever revoke it from here) and the warning says
/// how to find it.
pub fn not_revocable(key: &KeyFacts) -> Diagnostic {
    let why = match key.id.as_deref() {
        None => "the state records no api_key_id for it (removed from the state by hand, \
                 or never there: an incomplete answer to its creation, which that apply \
                 reported)"
            .to_owned(),
        Some(id) => format!(
            "the api_key_id recorded in state, {id:?}, cannot address a key in a request \
             (the value came from the state, not from the configuration)"
        ),
    };
    Diagnostic::warning(
        "API key not revoked",
        format!(
            "Terraform cannot revoke {}: {why}. It is removed from the Terraform state, its \
             secret with it, but the key may still be live. Revoke it in the Parallel \
             platform: {}.",
            key.label(),
            key.finding_aid()
        ),
    )
}

/// A destroy whose app_id, read from state, is not a UUID.
pub fn invalid_app_id_in_state(key: &KeyFacts) -> Diagnostic {
    Diagnostic::error(
        "Invalid app_id in state",
        format!(
            "Terraform cannot revoke {}: the app_id recorded in state, {}, is not a UUID. \
             The value came from the state, not from the configuration (was the state edited \
             by hand?), so changing the configuration does not help. Put the app's UUID back \
             into the state (terraform state pull / push), or revoke the key in the Parallel \
             platform ({}) and then drop it with `terraform state rm`.",
            key.label(),
            crate::toolkit::quoted(key.app_id.as_deref().unwrap_or_default()),
            key.finding_aid()
        ),
    )
}

/// A key whose api_key_id in state cannot be an ID Parallel gave (see
/// `is_plausible_key_id`): refused at plan, before a revoke by it is
/// answered 404 and reads as "already revoked" while the real key lives.
pub fn implausible_key_id_in_state(key: &KeyFacts) -> Diagnostic {
    Diagnostic::error(
        "Invalid api_key_id in state",
        format!(
            "The api_key_id recorded in state for API key {}{}, {}, is not a key ID that \
             Parallel gives (it holds spaces, slashes, quotes or other characters no ID has, or \
             is too long). The value came from the state, not from the configuration (was the \
             state edited by hand?). Terraform does not plan with it: revoking a key by a wrong \
             ID is answered \"not found\", which would look like success while the real key \
             stays live. Put the key's ID back into the state (terraform state pull / push), or \
             revoke the key in the Parallel platform ({}) and then drop it with `terraform state \
             rm`.",
            key.name
                .as_deref()
                .map_or_else(|| "(name unknown)".to_owned(), |n| format!("{n:?}")),
            key.app_id
                .as_deref()
                .map_or_else(String::new, |app| format!(
                    " of app {}",
                    toolkit::quoted(app)
                )),
            toolkit::quoted(key.id.as_deref().unwrap_or_default()),
            key.finding_aid()
        ),
    )
    .at(attr_path!(ApiKeyModel, api_key_id))
}

/// The state holds no secret for a key that exists.
pub fn secret_missing_from_state(key: &KeyFacts) -> Diagnostic {
    Diagnostic::warning(
        "API key secret missing from state",
        format!(
            "The state holds no raw_api_key for {}. Parallel shows a key's secret only once, \
             when the key is created, so it cannot be read back, and whatever refers to \
             raw_api_key gets null. If the state was edited by hand, restore it from a backup; \
             otherwise replace the key to get a new secret: terraform apply \
             -replace=<this resource's address>.",
            key.label()
        ),
    )
    .at(attr_path!(ApiKeyModel, raw_api_key))
}

/// Turns an API failure into a diagnostic that says what was being done
/// (`doing`, e.g. `Revoking API key "ci" (ID k) of app A`) and names the
/// attribute at fault where the API said which one it was: `app_id`, or
/// `name_attribute`, the one the key's name comes from (each key resource
/// has its own).
pub fn api_error(
    err: &ApiError,
    doing: &str,
    app_id: &str,
    timed_out_after: Option<Duration>,
    name_attribute: &str,
) -> Diagnostics {
    toolkit::api_error(
        err,
        Attempt::new(doing)
            .attributes(&[attr_name!(ApiKeyModel, app_id), name_attribute])
            .not_found(NotFound::app(app_id))
            .timed_out_after(timed_out_after),
    )
}

/// A create that may have made a key nobody knows of; `kept` is a sentence
/// on what the state keeps, or empty.
pub fn may_have_created(name: &str, app_id: &str, err: &ApiError, kept: &str) -> Diagnostic {
    let kept = if kept.is_empty() {
        String::new()
    } else {
        format!(" {kept}")
    };
    Diagnostic::error(
        "API key may have been created",
        format!(
            "Creating API key {name:?} in app {app_id} failed in a way that leaves it unknown \
             whether Parallel created it: {err}. It was not retried after this failure, so no \
             duplicate was made.{kept} Check the keys of app {app_id} in the Parallel platform \
             and revoke any key named {name:?} that Terraform does not know about, then apply \
             again."
        ),
    )
}

/// Import of a key resource (`type_name`) is refused whether asked by ID or
/// by identity: its secret could never be known.
pub fn import_refused(type_name: &str) -> Diagnostic {
    Diagnostic::error(
        format!("{type_name} cannot be imported"),
        "Parallel returns a key's secret only once, when the key is created, and cannot read \
         a key back (not even its name), so Terraform could never know an existing key's \
         raw_api_key. Let Terraform create a new key with this resource, move your systems to \
         it, and revoke the old key in the Parallel platform.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: Option<&str>) -> KeyFacts {
        KeyFacts {
            name: Some("ci".into()),
            id: id.map(str::to_owned),
            app_id: Some("3c90c3cc-0d44-4b50-8888-8dd25736052a".into()),
            app_name: None,
            display_value: Some("par_…6789".into()),
            created_at: Some(1_731_000_000.0),
        }
    }

    #[test]
    fn an_incomplete_answer_with_an_id_promises_a_revocation() {
        let d = incomplete_create(&facts(Some("key_1")), true, "`created_at` is missing");
        assert!(
            d.detail.contains("API key \"ci\" (ID key_1)"),
            "{}",
            d.detail
        );
        assert!(
            d.detail.contains("the next apply revokes it"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn an_incomplete_answer_without_an_id_promises_no_revocation() {
        for id in [None, Some(""), Some("..")] {
            let d = incomplete_create(&facts(id), true, "`api_key_id` is missing");
            assert!(!d.detail.contains("revokes it"), "{}", d.detail);
            assert!(d.detail.contains("WITHOUT revoking it"), "{}", d.detail);
            assert!(d.detail.contains("shown as \"par_…6789\""), "{}", d.detail);
            assert!(d.detail.contains("created at 2024-11-07"), "{}", d.detail);
        }
    }

    #[test]
    fn not_revocable_says_where_the_bad_id_came_from() {
        let d = not_revocable(&facts(Some("..")));
        assert!(d.detail.contains("came from the state"), "{}", d.detail);
        assert!(d.detail.contains("key named \"ci\""), "{}", d.detail);
        let d = not_revocable(&facts(None));
        assert!(d.detail.contains("records no api_key_id"), "{}", d.detail);
    }

    #[test]
    fn an_implausible_id_is_named_at_its_attribute_and_quoted_short() {
        let huge = format!("key {}", "x".repeat(10_000));
        let d = implausible_key_id_in_state(&facts(Some(&huge)));
        assert_eq!(
            d.attribute.as_ref().map(ToString::to_string).as_deref(),
            Some("api_key_id")
        );
        assert!(d.detail.contains("API key \"ci\" of app"), "{}", d.detail);
        assert!(d.detail.contains("characters in all"), "{}", d.detail);
        assert!(d.detail.len() < 2_000, "{}", d.detail.len());
        assert!(d.detail.contains("came from the state"), "{}", d.detail);
        assert!(!d.detail.contains("records no api_key_id"), "{}", d.detail);
    }

    #[test]
    fn a_missing_id_does_not_blame_parallel_s_answer_alone() {
        let d = not_revocable(&facts(None));
        assert!(
            d.detail.contains("removed from the state by hand"),
            "{}",
            d.detail
        );
        assert!(
            !d.detail.contains("answer to its creation lacked one"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn api_errors_say_what_was_being_done() {
        let doing = facts(Some("key_1")).label();
        let diags = api_error(
            &ApiError::Cancelled,
            &format!("Revoking {doing}"),
            "a",
            Some(Duration::from_secs(2)),
            attr_name!(ApiKeyModel, api_key_name),
        );
        let text = format!("{diags:?}");
        assert!(
            text.contains("Revoking API key \\\"ci\\\" (ID key_1)"),
            "{text}"
        );
        assert!(text.contains("2s"), "{text}");
    }
}
