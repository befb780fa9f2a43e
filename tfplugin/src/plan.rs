//! The generic half of PlanResourceChange, driven by the attribute flags in
//! the schema: which changes force replacement, and which computed values
//! stay as they are in state instead of becoming "known after apply".

use super::schema::Block;
use super::value::{AttrPath, Value};

pub struct GenericPlan {
    pub planned: Value,
    pub requires_replace: Vec<AttrPath>,
}

/// Plans a change from `prior` to Terraform's `proposed` new state (the
/// configuration with prior values filled in for unset computed
/// attributes).
pub fn plan(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> GenericPlan {
    if proposed.is_null() {
        // Destroy: nothing to plan, the object goes away.
        return GenericPlan {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    let proposed = &with_defaults(block, proposed, config);
    if prior.is_null() {
        return GenericPlan {
            planned: unset_computed_unknown(block, proposed, config, |_| true),
            requires_replace: Vec::new(),
        };
    }
    let requires_replace: Vec<AttrPath> = block
        .attributes
        .iter()
        .filter(|a| {
            let (new, old) = (proposed.field(a.name), prior.field(a.name));
            a.requires_replace && new != old && !a.equivalent.is_some_and(|same| same(new, old))
        })
        .map(|a| AttrPath::root(a.name))
        .collect();
    let planned = if !requires_replace.is_empty() {
        // The replacement is a new remote object: nothing computed carries over.
        unset_computed_unknown(block, proposed, config, |_| true)
    } else if proposed != prior {
        unset_computed_unknown(block, proposed, config, |name| {
            block
                .find_attribute(name)
                .is_some_and(|a| !a.use_state_for_unknown)
        })
    } else {
        proposed.clone()
    };
    GenericPlan {
        planned,
        requires_replace,
    }
}

/// Puts each attribute's default where the configuration leaves it unset,
/// before anything is compared: a default replaces whatever the prior
/// state held (Terraform proposes the prior value for an unset computed
/// attribute).
fn with_defaults(block: &Block, proposed: &Value, config: &Value) -> Value {
    let Value::Object(fields) = proposed else {
        return proposed.clone();
    };
    let mut fields = fields.clone();
    for attribute in &block.attributes {
        if let Some(default) = &attribute.default
            && config.field(attribute.name).is_null()
        {
            fields.insert(attribute.name.to_owned(), default.clone());
        }
    }
    Value::Object(fields)
}

/// Marks as unknown each computed attribute that the configuration leaves
/// unset and `select` picks.
fn unset_computed_unknown(
    block: &Block,
    proposed: &Value,
    config: &Value,
    select: impl Fn(&str) -> bool,
) -> Value {
    let Value::Object(fields) = proposed else {
        return proposed.clone();
    };
    let mut fields = fields.clone();
    for attribute in &block.attributes {
        if attribute.computed
            && attribute.default.is_none()
            && config.field(attribute.name).is_null()
            && select(attribute.name)
        {
            fields.insert(attribute.name.to_owned(), Value::Unknown);
        }
    }
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;

    fn block() -> Block {
        Block::new("")
            .attribute(Attribute::string("name").required().requires_replace())
            .attribute(Attribute::string("note").optional())
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("etag").computed())
    }

    fn obj(name: &str, note: Value, id: Value, etag: Value) -> Value {
        Value::object([
            ("name", Value::string(name)),
            ("note", note),
            ("id", id),
            ("etag", etag),
        ])
    }

    #[test]
    fn an_unset_attribute_with_a_default_plans_the_default() {
        let block =
            block().attribute(Attribute::string("policy").default_value(Value::string("D")));
        let with = |policy: Value| {
            let Value::Object(mut fields) =
                obj("a", Value::Null, Value::string("1"), Value::string("e"))
            else {
                unreachable!()
            };
            fields.insert("policy".into(), policy);
            Value::Object(fields)
        };
        let config = with(Value::Null);
        // On create, and when the configuration drops a value it had set.
        let created = plan(&block, &Value::Null, &config, &config);
        assert_eq!(created.planned.get("policy"), Some(&Value::string("D")));
        let prior = with(Value::string("A"));
        let dropped = plan(&block, &prior, &prior, &config);
        assert_eq!(dropped.planned.get("policy"), Some(&Value::string("D")));
        assert!(dropped.requires_replace.is_empty());
    }

    #[test]
    fn create_marks_computed_unknown() {
        let config = obj("a", Value::Null, Value::Null, Value::Null);
        let plan = plan(&block(), &Value::Null, &config, &config);
        assert_eq!(
            plan.planned,
            obj("a", Value::Null, Value::Unknown, Value::Unknown)
        );
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn no_change_keeps_state() {
        let prior = obj("a", Value::Null, Value::string("1"), Value::string("e"));
        let config = obj("a", Value::Null, Value::Null, Value::Null);
        let plan = plan(&block(), &prior, &prior, &config);
        assert_eq!(plan.planned, prior);
    }

    #[test]
    fn replacement_is_reported_and_forgets_computed_values() {
        let prior = obj("a", Value::Null, Value::string("1"), Value::string("e"));
        let proposed = obj("b", Value::Null, Value::string("1"), Value::string("e"));
        let config = obj("b", Value::Null, Value::Null, Value::Null);
        let plan = plan(&block(), &prior, &proposed, &config);
        assert_eq!(plan.requires_replace, vec![AttrPath::root("name")]);
        assert_eq!(
            plan.planned,
            obj("b", Value::Null, Value::Unknown, Value::Unknown)
        );
    }

    #[test]
    fn in_place_update_keeps_only_state_for_unknown_values() {
        let prior = obj("a", Value::Null, Value::string("1"), Value::string("e"));
        let proposed = obj(
            "a",
            Value::string("n"),
            Value::string("1"),
            Value::string("e"),
        );
        let config = obj("a", Value::string("n"), Value::Null, Value::Null);
        let plan = plan(&block(), &prior, &proposed, &config);
        assert!(plan.requires_replace.is_empty());
        assert_eq!(
            plan.planned,
            obj("a", Value::string("n"), Value::string("1"), Value::Unknown)
        );
    }

    #[test]
    fn unknown_config_for_a_replacing_attribute_replaces() {
        let prior = obj("a", Value::Null, Value::string("1"), Value::string("e"));
        let mut proposed = prior.clone();
        if let Value::Object(fields) = &mut proposed {
            fields.insert("name".into(), Value::Unknown);
        }
        let plan = plan(&block(), &prior, &proposed, &proposed);
        assert_eq!(plan.requires_replace, vec![AttrPath::root("name")]);
    }

    #[test]
    fn an_equivalent_value_updates_in_place() {
        let same_ignoring_case = |a: &Value, b: &Value| match (a, b) {
            (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        let block = Block::new("")
            .attribute(
                Attribute::string("name")
                    .required()
                    .replace_unless_equivalent(same_ignoring_case),
            )
            .attribute(Attribute::string("id").computed().use_state_for_unknown());
        let prior = Value::object([("name", Value::string("a")), ("id", Value::string("1"))]);
        let proposed = Value::object([("name", Value::string("A")), ("id", Value::string("1"))]);
        let config = Value::object([("name", Value::string("A")), ("id", Value::Null)]);
        let plan = plan(&block, &prior, &proposed, &config);
        assert!(plan.requires_replace.is_empty());
        assert_eq!(plan.planned, proposed, "the configured spelling, in place");
        let proposed = Value::object([("name", Value::string("b")), ("id", Value::string("1"))]);
        let plan = super::plan(&block, &prior, &proposed, &config);
        assert_eq!(plan.requires_replace, vec![AttrPath::root("name")]);
    }

    #[test]
    fn destroy_plans_null() {
        let prior = obj("a", Value::Null, Value::string("1"), Value::string("e"));
        let plan = plan(&block(), &prior, &Value::Null, &Value::Null);
        assert!(plan.planned.is_null());
    }
}
