//! Configuration generated from a state, for `terraform plan
//! -generate-config-out` and `terraform query -generate-config-out`: the
//! arguments a user sets, with the values the object has, and nothing a
//! user cannot write.

use super::schema::Block;
use super::value::Value;

/// Keeps each attribute a configuration may set (required or optional)
/// with its state value; computed-only and write-only attributes and
/// nested blocks (settings such as timeouts, not the object's data) are
/// null.
pub fn config_from_state(block: &Block, state: &Value) -> Value {
    if state.is_null() {
        return Value::Null;
    }
    let attributes = block.attributes.iter().map(|a| {
        let settable = (a.required || a.optional) && !a.write_only;
        let value = match state.get(a.name) {
            Some(value) if settable => value.clone(),
            _ => Value::Null,
        };
        (a.name, value)
    });
    let blocks = block.blocks.iter().map(|b| (b.type_name, Value::Null));
    Value::object(attributes.chain(blocks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Nesting};

    #[test]
    fn only_what_a_user_can_write_is_kept() {
        let block = Block::new("")
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::string("note").optional().computed())
            .attribute(Attribute::string("id").computed())
            .attribute(Attribute::string("password").optional().write_only())
            .block("timeouts", Nesting::Single, Block::new(""));
        let state = Value::object([
            ("name", Value::string("n")),
            ("note", Value::string("x")),
            ("id", Value::string("i")),
            ("password", Value::Null),
            ("timeouts", Value::Null),
        ]);
        assert_eq!(
            config_from_state(&block, &state),
            Value::object([
                ("name", Value::string("n")),
                ("note", Value::string("x")),
                ("id", Value::Null),
                ("password", Value::Null),
                ("timeouts", Value::Null),
            ])
        );
    }
}
