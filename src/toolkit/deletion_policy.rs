//! `deletion_policy`: whether destroying an object deletes it in Parallel
//! (`DELETE`, the default) or only forgets it (`ABANDON`, for moving an
//! object between configurations or states without touching it).

use tfplugin::model::Maybe;
use tfplugin::validators;
use tfplugin::{AttrPath, Attribute, Diagnostic, Value};

pub const ATTRIBUTE: &str = "deletion_policy";
const DELETE: &str = "DELETE";
const ABANDON: &str = "ABANDON";
/// What an object gets when the configuration does not say.
pub const DEFAULT: &str = DELETE;

/// The attribute, which takes only the two policies (checked by the
/// framework at validate, with the attribute named); each resource's
/// `description` ends by saying which policy a replacement follows: the one
/// in state (see [`replacement_abandons`]).
pub fn attribute(description: &'static str) -> Attribute {
    Attribute::string(ATTRIBUTE)
        .default_value(Value::string(DEFAULT))
        .validator(validators::one_of(&[DELETE, ABANDON]))
        .description(description)
}

/// Whether destroying an object whose state holds this policy leaves it
/// alive.
pub fn abandons(policy: &Maybe<String>) -> bool {
    policy.known().is_some_and(|policy| policy == ABANDON)
}

/// The warning of a destroy that left `object` (a label such as `API key
/// "ci" (ID k) of app A`) alive because its policy is ABANDON; `then` says
/// what to do about it.
pub fn abandoned(summary: &str, object: &str, then: &str) -> Diagnostic {
    Diagnostic::warning(
        summary,
        format!(
            "Terraform removed {object} from the state and left it alive in Parallel, as its \
             deletion_policy \"{ABANDON}\" asks (the run counts it as destroyed). {then}"
        ),
    )
}

/// The plan-time warning of a replacement whose old object, `object`, will
/// be left alive: its policy in state is ABANDON, whatever the configuration
/// now says.
pub fn replacement_abandons(object: &str) -> Diagnostic {
    Diagnostic::warning(
        "The object being replaced will be left alive",
        format!(
            "This plan replaces {object}, whose deletion_policy in state is \"{ABANDON}\": the \
             old one is removed from the state and left alive in Parallel, and Terraform counts \
             it as destroyed. A replacement follows the deletion_policy recorded in state, not \
             the configuration's, even when this apply changes it. To have the old one deleted, \
             apply deletion_policy = \"{DELETE}\" alone first, then the replacement."
        ),
    )
    .at(AttrPath::root(ATTRIBUTE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(policy: Value) -> Maybe<String> {
        match policy {
            Value::String(text) => Maybe::Known(text),
            Value::Unknown => Maybe::Unknown,
            _ => Maybe::Null,
        }
    }

    #[test]
    fn the_two_policies_pass_anything_else_is_named() {
        let block = tfplugin::Block::new("").attribute(attribute(""));
        let check = |policy: Value| {
            let config = Value::object([(ATTRIBUTE, policy)]);
            block.validate(&config)
        };
        for ok in [
            Value::string(DELETE),
            Value::string(ABANDON),
            Value::Null,
            Value::Unknown,
        ] {
            assert!(check(ok.clone()).is_empty(), "{ok:?}");
        }
        let diags = check(Value::string("delete"));
        let diag = diags.iter().next().expect("an error");
        assert_eq!(diag.summary, "Invalid deletion_policy");
        assert_eq!(diag.attribute, Some(tfplugin::AttrPath::root(ATTRIBUTE)));
    }

    #[test]
    fn abandoning_is_said_naming_the_object() {
        let left = abandoned("Key left live", "API key \"ci\" (ID k)", "Revoke it.");
        assert!(
            left.detail
                .starts_with("Terraform removed API key \"ci\" (ID k)")
        );
        assert!(left.detail.ends_with("Revoke it."), "{}", left.detail);
        let planned = replacement_abandons("app \"svc\" (ID a)");
        assert_eq!(planned.attribute, Some(AttrPath::root(ATTRIBUTE)));
        assert!(
            planned
                .detail
                .contains("follows the deletion_policy recorded in state"),
            "{}",
            planned.detail
        );
    }

    #[test]
    fn only_abandon_abandons() {
        assert!(abandons(&with(Value::string(ABANDON))));
        assert!(!abandons(&with(Value::string(DELETE))));
        assert!(!abandons(&with(Value::Null)));
    }
}
