//! `deletion_policy`: whether destroying an object deletes it in Parallel
//! (`DELETE`, the default) or only forgets it (`ABANDON`, for moving an
//! object between configurations or states without touching it).

use tfplugin::model::Maybe;
use tfplugin::{AttrPath, Attribute, Diagnostic, Diagnostics, Value};

pub const ATTRIBUTE: &str = "deletion_policy";
const DELETE: &str = "DELETE";
const ABANDON: &str = "ABANDON";
/// What an object gets when the configuration does not say.
pub const DEFAULT: &str = DELETE;

pub fn attribute(description: &'static str) -> Attribute {
    Attribute::string(ATTRIBUTE)
        .default_value(Value::string(DEFAULT))
        .description(description)
}

/// Only the two policies are accepted; an unknown value waits for apply.
/// Takes the `deletion_policy` field of an object's model.
pub fn validate(policy: &Maybe<String>) -> Diagnostics {
    match policy {
        Maybe::Known(policy) if policy != DELETE && policy != ABANDON => Diagnostic::error(
            "Invalid deletion_policy",
            format!(
                "deletion_policy must be \"{DELETE}\" (destroy deletes the object in \
                     Parallel) or \"{ABANDON}\" (destroy only removes it from the Terraform \
                     state); got {policy:?}."
            ),
        )
        .at(AttrPath::root(ATTRIBUTE))
        .into(),
        _ => Diagnostics::new(),
    }
}

/// Whether destroying an object whose state holds this policy leaves it
/// alive.
pub fn abandons(policy: &Maybe<String>) -> bool {
    policy.known().is_some_and(|policy| policy == ABANDON)
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
    fn the_two_policies_and_unknown_pass_anything_else_is_named() {
        for ok in [
            Value::string(DELETE),
            Value::string(ABANDON),
            Value::Null,
            Value::Unknown,
        ] {
            assert!(validate(&with(ok.clone())).is_empty(), "{ok:?}");
        }
        let diags = validate(&with(Value::string("delete")));
        let diag = diags.iter().next().expect("an error");
        assert_eq!(diag.attribute, Some(AttrPath::root(ATTRIBUTE)));
    }

    #[test]
    fn only_abandon_abandons() {
        assert!(abandons(&with(Value::string(ABANDON))));
        assert!(!abandons(&with(Value::string(DELETE))));
        assert!(!abandons(&with(Value::Null)));
    }
}
