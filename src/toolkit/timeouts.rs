//! The `timeouts { create = "…", delete = "…" }` block Terraform users know
//! from other providers: an upper bound on each operation, retries
//! included. Each object says which operations its block covers.

use std::time::Duration;
use tfplugin::validators;
use tfplugin::{Attribute, Block, Nesting, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    fn attribute(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Operation::Create => {
                "Upper bound on creating the object, retries and waits included, as a duration \
                 such as `30s` or `5m` (default `5m`)."
            }
            Operation::Read => {
                "Upper bound on reading the object, retries included (default `5m`)."
            }
            Operation::Update => {
                "Upper bound on updating the object, retries included (default `5m`)."
            }
            Operation::Delete => {
                "Upper bound on deleting the object, retries and waits included (default `5m`)."
            }
        }
    }
}

/// The name of the block in a resource's schema.
pub const BLOCK_NAME: &str = "timeouts";

const DEFAULT: Duration = Duration::from_secs(300);

const BLOCK_DESCRIPTION: &str = "Time limits of this resource's operations. Changing them \
     updates the resource in place; the new limits apply from the next operation.";

/// A timeouts block covering some operations, with their descriptions.
#[derive(Clone, Debug)]
pub struct Timeouts {
    operations: Vec<(Operation, &'static str)>,
}

impl Timeouts {
    pub fn covering(operations: &[Operation]) -> Self {
        Timeouts {
            operations: operations.iter().map(|&o| (o, o.description())).collect(),
        }
    }

    /// Replaces the generic description of one operation's attribute.
    pub fn describe(mut self, operation: Operation, text: &'static str) -> Self {
        for (o, description) in &mut self.operations {
            if *o == operation {
                *description = text;
            }
        }
        self
    }

    /// Adds the block to a resource's schema block.
    pub fn add_to(&self, block: Block) -> Block {
        let timeouts = self.operations.iter().fold(
            Block::new(BLOCK_DESCRIPTION),
            |b, (operation, description)| {
                b.attribute(
                    Attribute::string(operation.attribute())
                        .optional()
                        .validator(validators::duration())
                        .description(description),
                )
            },
        );
        block.block(BLOCK_NAME, Nesting::Single, timeouts)
    }

    /// The limit for `operation`, read from the block's value (the
    /// `timeouts` field of an object's model); values were checked at
    /// validation, so a bad one is the default.
    pub fn limit(&self, block: &Value, operation: Operation) -> Duration {
        match block.get(operation.attribute()) {
            Some(Value::String(text)) => validators::parse_duration(text, false).unwrap_or(DEFAULT),
            _ => DEFAULT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::AttrPath;

    fn create_and_delete() -> Timeouts {
        Timeouts::covering(&[Operation::Create, Operation::Delete])
    }

    fn with_timeouts(create: Value) -> Value {
        Value::object([("create", create), ("delete", Value::Null)])
    }

    #[test]
    fn the_block_has_one_attribute_per_operation_covered() {
        let block = create_and_delete()
            .describe(Operation::Create, "custom")
            .add_to(Block::new(""));
        let timeouts = &block.blocks[0].block;
        let names: Vec<_> = timeouts.attributes.iter().map(|a| a.name).collect();
        assert_eq!(names, ["create", "delete"]);
        assert_eq!(timeouts.attributes[0].description, "custom");
    }

    #[test]
    fn defaults_apply_when_the_block_is_absent() {
        assert_eq!(
            create_and_delete().limit(&Value::Null, Operation::Create),
            DEFAULT
        );
    }

    #[test]
    fn durations_are_read() {
        let resource = with_timeouts(Value::string("1m30s"));
        let timeouts = create_and_delete();
        assert_eq!(
            timeouts.limit(&resource, Operation::Create),
            Duration::from_secs(90)
        );
        let block = timeouts.add_to(Block::new(""));
        let config = Value::object([(BLOCK_NAME, resource)]);
        assert!(block.validate(&config).is_empty());
    }

    #[test]
    fn nonsense_is_refused_with_the_attribute_named() {
        let block = create_and_delete().add_to(Block::new(""));
        let config = Value::object([(BLOCK_NAME, with_timeouts(Value::string("soon")))]);
        let diags = block.validate(&config);
        let diag = diags.iter().next().expect("one error");
        assert_eq!(
            diag.attribute,
            Some(AttrPath::root(BLOCK_NAME).attribute("create"))
        );
    }
}
