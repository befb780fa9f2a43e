//! The generic half of PlanResourceChange, driven by each attribute's plan
//! modifiers and default in the schema, at every depth (attributes of
//! nested blocks too): which changes force replacement, which computed
//! values stay as they are in state instead of becoming "known after
//! apply", and what an unset attribute with a default gets.

use super::schema::{Block, Nesting};
use super::value::{AttrPath, Value};
use std::collections::BTreeMap;

/// What the generic rules planned, before the resource's own
/// `modify_plan`.
pub struct GenericPlan {
    /// The planned new state: null for a destroy.
    pub planned: Value,
    /// The attributes whose change replaces the resource; empty for an
    /// in-place update, a create or a destroy.
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
            planned: mark_unknown(block, proposed, config, Keep::Nothing),
            requires_replace: Vec::new(),
        };
    }
    let mut requires_replace = Vec::new();
    replacing_paths(
        block,
        prior,
        proposed,
        &AttrPath::empty(),
        &mut requires_replace,
    );
    let planned = if !requires_replace.is_empty() {
        // The replacement is a new remote object: nothing computed carries over.
        mark_unknown(block, proposed, config, Keep::Nothing)
    } else if proposed != prior {
        mark_unknown(block, proposed, config, Keep::StateValues)
    } else {
        proposed.clone()
    };
    GenericPlan {
        planned,
        requires_replace,
    }
}

/// Which computed values an update keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Nothing,
    /// Those whose attribute says `UseStateForUnknown`.
    StateValues,
}

/// The nested objects of a block value, each with its path step: one for a
/// single block, by index for a list; none for a set (its elements have no
/// stable identity to compare).
fn elements(nesting: Nesting, value: &Value) -> Vec<(Option<u64>, &Value)> {
    match (nesting, value) {
        (Nesting::Single, value) if !value.is_null() => vec![(None, value)],
        (Nesting::List, Value::List(items)) => {
            (0..).zip(items).map(|(i, v)| (Some(i), v)).collect()
        }
        _ => Vec::new(),
    }
}

fn step(path: &AttrPath, name: &str, index: Option<u64>) -> AttrPath {
    let path = path.clone().attribute(name);
    match index {
        Some(i) => path.index(i),
        None => path,
    }
}

/// Collects the path of every attribute, at any depth, whose change
/// replaces the resource.
fn replacing_paths(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    path: &AttrPath,
    out: &mut Vec<AttrPath>,
) {
    for attribute in &block.attributes {
        if attribute.replaces(prior.field(attribute.name), proposed.field(attribute.name)) {
            out.push(path.clone().attribute(attribute.name));
        }
    }
    for nested in &block.blocks {
        let (old, new) = (
            prior.field(nested.type_name),
            proposed.field(nested.type_name),
        );
        let (old_items, new_items) = (elements(nested.nesting, old), elements(nested.nesting, new));
        let replaces_inside = nested.block.attributes.iter().any(|a| a.may_replace());
        if nested.nesting == Nesting::Set || old_items.len() != new_items.len() {
            // Elements came or went (or a set changed): that replaces the
            // resource when any attribute inside would.
            if replaces_inside && old != new {
                out.push(path.clone().attribute(nested.type_name));
            }
            continue;
        }
        for ((index, old), (_, new)) in old_items.into_iter().zip(new_items) {
            replacing_paths(
                &nested.block,
                old,
                new,
                &step(path, nested.type_name, index),
                out,
            );
        }
    }
}

/// Puts each attribute's default where the configuration leaves it unset,
/// before anything is compared: a default replaces whatever the prior
/// state held (Terraform proposes the prior value for an unset computed
/// attribute).
fn with_defaults(block: &Block, proposed: &Value, config: &Value) -> Value {
    map_object(
        block,
        proposed,
        config,
        &|attribute, value, configured| match (&attribute.default, configured.is_null()) {
            (Some(default), true) => default.clone(),
            _ => value.clone(),
        },
    )
}

/// Marks as unknown each computed attribute, at any depth, that the
/// configuration leaves unset and has no default, except what `keep`
/// keeps from state.
fn mark_unknown(block: &Block, proposed: &Value, config: &Value, keep: Keep) -> Value {
    map_object(block, proposed, config, &|attribute, value, configured| {
        let unset = attribute.computed && attribute.default.is_none() && configured.is_null();
        let kept = keep == Keep::StateValues && attribute.keeps_state_value();
        if unset && !kept {
            Value::Unknown
        } else {
            value.clone()
        }
    })
}

/// Rewrites each attribute of an object value and of its nested blocks'
/// objects, given the attribute, its value and its configured value.
fn map_object(
    block: &Block,
    value: &Value,
    config: &Value,
    rewrite: &dyn Fn(&super::schema::Attribute, &Value, &Value) -> Value,
) -> Value {
    let Value::Object(fields) = value else {
        return value.clone();
    };
    let mut fields: BTreeMap<String, Value> = fields.clone();
    for attribute in &block.attributes {
        let new = rewrite(
            attribute,
            value.field(attribute.name),
            config.field(attribute.name),
        );
        fields.insert(attribute.name.to_owned(), new);
    }
    for nested in &block.blocks {
        let (inner, configured) = (
            value.field(nested.type_name),
            config.field(nested.type_name),
        );
        let mapped = match (nested.nesting, inner) {
            (Nesting::Single, inner) if !inner.is_null() => {
                map_object(&nested.block, inner, configured, rewrite)
            }
            (Nesting::List, Value::List(items)) => Value::List(
                (0..)
                    .zip(items)
                    .map(|(i, item)| {
                        let configured = configured
                            .as_elements()
                            .and_then(|c| c.get(i))
                            .unwrap_or(&Value::Null);
                        map_object(&nested.block, item, configured, rewrite)
                    })
                    .collect(),
            ),
            _ => continue,
        };
        fields.insert(nested.type_name.to_owned(), mapped);
    }
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Nesting};

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
    fn modifiers_apply_inside_nested_blocks_at_their_paths() {
        let text = |s: &str| Value::string(s);
        let block = Block::new("")
            .attribute(Attribute::string("name").required())
            .block(
                "settings",
                Nesting::Single,
                Block::new("")
                    .attribute(Attribute::string("region").optional().requires_replace())
                    .attribute(Attribute::string("etag").computed().use_state_for_unknown())
                    .attribute(Attribute::string("stamp").computed()),
            );
        let value = |name: &str, region: Value, etag: Value, stamp: Value| {
            Value::object([
                ("name", text(name)),
                (
                    "settings",
                    Value::object([("region", region), ("etag", etag), ("stamp", stamp)]),
                ),
            ])
        };
        let prior = value("a", text("eu"), text("e1"), text("t1"));

        let config = value("a", text("us"), Value::Null, Value::Null);
        let proposed = value("a", text("us"), text("e1"), text("t1"));
        let moved = plan(&block, &prior, &proposed, &config);
        assert_eq!(
            moved.requires_replace,
            [AttrPath::root("settings").attribute("region")]
        );
        // A replacement carries nothing computed over.
        assert_eq!(
            moved.planned.field("settings").field("etag"),
            &Value::Unknown
        );

        let config = value("b", text("eu"), Value::Null, Value::Null);
        let proposed = value("b", text("eu"), text("e1"), text("t1"));
        let renamed = plan(&block, &prior, &proposed, &config);
        assert!(renamed.requires_replace.is_empty());
        assert_eq!(renamed.planned.field("settings").field("etag"), &text("e1"));
        assert_eq!(
            renamed.planned.field("settings").field("stamp"),
            &Value::Unknown
        );
    }

    #[test]
    fn a_conditional_replacement_asks_its_function() {
        let same_letters = |a: &Value, b: &Value| {
            a.as_str().map(str::to_lowercase) == b.as_str().map(str::to_lowercase)
        };
        let block = Block::new("").attribute(
            Attribute::string("name")
                .required()
                .requires_replace_if(move |a, b| !same_letters(a, b)),
        );
        let of = |name: &str| Value::object([("name", Value::string(name))]);
        let case_only = plan(&block, &of("a"), &of("A"), &of("A"));
        assert!(case_only.requires_replace.is_empty());
        let other = plan(&block, &of("a"), &of("b"), &of("b"));
        assert_eq!(other.requires_replace, [AttrPath::root("name")]);
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
