//! The `timeouts { create = "…", delete = "…" }` block Terraform users know
//! from other providers: an upper bound on each operation, retries included.

use crate::provider::parse_duration;
use std::time::Duration;
use tfplugin::{AttrPath, Attribute, Block, Diagnostics, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Delete,
}

impl Operation {
    fn attribute(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Delete => "delete",
        }
    }
}

pub fn block() -> Block {
    Block::new("Time limits of this resource's operations.")
        .attribute(Attribute::string("create").optional().description(
            "Upper bound on creating the resource, retries and waits included, as a duration \
             such as `30s` or `5m` (default `5m`). A request already sent is allowed to finish \
             (within `request_timeout`), since its answer is the only copy of the new key.",
        ))
        .attribute(Attribute::string("delete").optional().description(
            "Upper bound on deleting the resource, retries and waits included (default `5m`).",
        ))
}

const DEFAULT: Duration = Duration::from_secs(300);

/// Reads the limit for `operation` from a resource value that has a
/// `timeouts` block; invalid values were refused at validation.
pub fn limit(resource: &Value, operation: Operation) -> Duration {
    match resource.field("timeouts").field(operation.attribute()) {
        Value::String(text) => parse_duration(text, AttrPath::root("timeouts")).unwrap_or(DEFAULT),
        _ => DEFAULT,
    }
}

pub fn validate(config: &Value) -> Diagnostics {
    let timeouts = config.field("timeouts");
    [Operation::Create, Operation::Delete]
        .into_iter()
        .filter_map(|operation| match timeouts.field(operation.attribute()) {
            Value::String(text) => parse_duration(
                text,
                AttrPath::root("timeouts").attribute(operation.attribute()),
            )
            .err(),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_timeouts(create: Value) -> Value {
        Value::object([(
            "timeouts",
            Value::object([("create", create), ("delete", Value::Null)]),
        )])
    }

    #[test]
    fn defaults_apply_when_the_block_is_absent() {
        let resource = Value::object([("timeouts", Value::Null)]);
        assert_eq!(limit(&resource, Operation::Create), DEFAULT);
    }

    #[test]
    fn durations_are_read() {
        let resource = with_timeouts(Value::string("1m30s"));
        assert_eq!(limit(&resource, Operation::Create), Duration::from_secs(90));
        assert!(validate(&resource).is_empty());
    }

    #[test]
    fn nonsense_is_refused_with_the_attribute_named() {
        let diags = validate(&with_timeouts(Value::string("soon")));
        let diag = diags.iter().next().expect("one error");
        assert_eq!(
            diag.attribute,
            Some(AttrPath::root("timeouts").attribute("create"))
        );
    }
}
