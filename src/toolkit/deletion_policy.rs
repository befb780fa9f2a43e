//! `deletion_policy`: whether destroying an object deletes it in Parallel
//! (`DELETE`, the default) or only forgets it (`ABANDON`, for moving an
//! object between configurations or states without touching it).

use tfplugin::model::Maybe;
use tfplugin::validators;
use tfplugin::{Attribute, Value};

pub const ATTRIBUTE: &str = "deletion_policy";
const DELETE: &str = "DELETE";
const ABANDON: &str = "ABANDON";
/// What an object gets when the configuration does not say.
pub const DEFAULT: &str = DELETE;

/// The attribute, which takes only the two policies (checked by the
/// framework at validate, with the attribute named).
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
            validators::validate_block(&block, &config, &tfplugin::AttrPath::empty())
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
    fn only_abandon_abandons() {
        assert!(abandons(&with(Value::string(ABANDON))));
        assert!(!abandons(&with(Value::string(DELETE))));
        assert!(!abandons(&with(Value::Null)));
    }
}
