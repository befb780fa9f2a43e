//! Schemas: what a provider, resource or data source accepts and returns,
//! plus the plan behaviour of each attribute, declared next to it so a
//! reader sees a resource's whole life in one screen.

use super::diag::Diagnostics;
use super::proto::tfplugin6 as pb;
use super::validators::{Checked, Validator, Validators};
use super::value::{AttrPath, Type, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Decides, from the prior and the proposed value, whether a change
/// replaces the resource.
pub type ReplaceIf = Arc<dyn Fn(&Value, &Value) -> bool + Send + Sync>;

/// A rule of the generic plan for one attribute, at any depth (inside
/// nested blocks too), as terraform-plugin-framework's plan modifiers.
#[derive(Clone)]
pub enum PlanModifier {
    /// A change of the configured value replaces the resource.
    RequiresReplace,
    /// A change replaces the resource when the function, given the prior
    /// and the proposed value, says so (e.g. not when two spellings of one
    /// UUID are equivalent).
    RequiresReplaceIf(ReplaceIf),
    /// A computed value keeps its prior value in plans unless the resource
    /// is replaced (instead of becoming "known after apply").
    UseStateForUnknown,
}

impl fmt::Debug for PlanModifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlanModifier::RequiresReplace => "RequiresReplace",
            PlanModifier::RequiresReplaceIf(_) => "RequiresReplaceIf(..)",
            PlanModifier::UseStateForUnknown => "UseStateForUnknown",
        })
    }
}

/// One attribute of a block: its name and type, the flags Terraform checks
/// configurations against, and its rules in the generic plan. Built with a
/// constructor ([`Attribute::string`] and its siblings) and the builder
/// methods, as in `Attribute::string("name").required().requires_replace()`.
#[derive(Clone, Debug)]
pub struct Attribute {
    /// The attribute's name, in configuration and in values.
    pub name: &'static str,
    /// Its value type.
    pub ty: Type,
    /// Markdown describing it, for documentation and editors.
    pub description: &'static str,
    /// The configuration must set it.
    pub required: bool,
    /// The configuration may set it.
    pub optional: bool,
    /// The provider may set it. Where the configuration leaves it unset and
    /// no default applies, the generic plan of a create or an update makes
    /// it unknown ("known after apply"), unless
    /// [`PlanModifier::UseStateForUnknown`] keeps the prior value.
    pub computed: bool,
    /// Terraform redacts the value in what it shows (plans, outputs).
    pub sensitive: bool,
    /// Configuration only (Terraform 1.11): Terraform keeps the value out of
    /// plans and states, so a provider reads it from the configuration and
    /// leaves it null in what it returns.
    pub write_only: bool,
    /// Marked deprecated in the schema Terraform receives; the framework
    /// adds no warning of its own.
    pub deprecated: bool,
    /// What the generic plan does with the attribute (see `plan.rs`).
    pub plan_modifiers: Vec<PlanModifier>,
    /// The value planned when the configuration leaves the attribute
    /// unset (the attribute is then optional and computed).
    pub default: Option<Value>,
    /// Checks of its known values, run by the framework whenever Terraform
    /// validates a configuration (see `validators.rs`).
    pub validators: Validators,
}

impl Attribute {
    fn new(name: &'static str, ty: Type) -> Self {
        Attribute {
            name,
            ty,
            description: "",
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            plan_modifiers: Vec::new(),
            default: None,
            validators: Validators(Vec::new()),
        }
    }

    /// A string attribute with no flags set yet.
    pub fn string(name: &'static str) -> Self {
        Self::new(name, Type::String)
    }

    /// A number attribute with no flags set yet.
    pub fn number(name: &'static str) -> Self {
        Self::new(name, Type::Number)
    }

    /// A bool attribute with no flags set yet.
    pub fn bool(name: &'static str) -> Self {
        Self::new(name, Type::Bool)
    }

    /// An attribute of any type (a list, a map, an object...) with no flags
    /// set yet.
    pub fn of_type(name: &'static str, ty: Type) -> Self {
        Self::new(name, ty)
    }

    /// See [`Attribute::required`](field@Attribute::required).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// See [`Attribute::optional`](field@Attribute::optional).
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// See [`Attribute::computed`](field@Attribute::computed).
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// See [`Attribute::sensitive`](field@Attribute::sensitive).
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// See [`Attribute::write_only`](field@Attribute::write_only).
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// See [`Attribute::deprecated`](field@Attribute::deprecated).
    pub fn deprecated(mut self) -> Self {
        self.deprecated = true;
        self
    }

    /// Adds a rule of the generic plan; the shorthands below add one each.
    pub fn plan_modifier(mut self, modifier: PlanModifier) -> Self {
        self.plan_modifiers.push(modifier);
        self
    }

    /// See [`PlanModifier::RequiresReplace`].
    pub fn requires_replace(self) -> Self {
        self.plan_modifier(PlanModifier::RequiresReplace)
    }

    /// See [`PlanModifier::RequiresReplaceIf`].
    pub fn requires_replace_if(
        self,
        replace: impl Fn(&Value, &Value) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.plan_modifier(PlanModifier::RequiresReplaceIf(Arc::new(replace)))
    }

    /// A change replaces the resource unless `equivalent` calls the prior
    /// and proposed values the same (two spellings of one UUID, say): then
    /// it is an in-place update.
    pub fn replace_unless_equivalent(self, equivalent: fn(&Value, &Value) -> bool) -> Self {
        self.requires_replace_if(move |prior, proposed| !equivalent(prior, proposed))
    }

    /// Whether changing the attribute from `prior` to `proposed` replaces
    /// the resource.
    pub fn replaces(&self, prior: &Value, proposed: &Value) -> bool {
        prior != proposed
            && self.plan_modifiers.iter().any(|m| match m {
                PlanModifier::RequiresReplace => true,
                PlanModifier::RequiresReplaceIf(replace) => replace(prior, proposed),
                PlanModifier::UseStateForUnknown => false,
            })
    }

    /// Whether some change of the attribute can replace the resource.
    pub fn may_replace(&self) -> bool {
        self.plan_modifiers.iter().any(|m| {
            matches!(
                m,
                PlanModifier::RequiresReplace | PlanModifier::RequiresReplaceIf(_)
            )
        })
    }

    /// Whether an unchanged resource keeps this computed value from state.
    pub fn keeps_state_value(&self) -> bool {
        self.plan_modifiers
            .iter()
            .any(|m| matches!(m, PlanModifier::UseStateForUnknown))
    }

    /// The value an unset attribute gets, in the plan and so in state.
    /// Makes the attribute optional and computed.
    pub fn default_value(mut self, value: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(value);
        self
    }

    /// See [`PlanModifier::UseStateForUnknown`].
    pub fn use_state_for_unknown(self) -> Self {
        self.plan_modifier(PlanModifier::UseStateForUnknown)
    }

    /// Adds a check of the attribute's known values, such as
    /// `validators::one_of(&["DELETE", "ABANDON"])`.
    pub fn validator(mut self, validator: impl Validator + 'static) -> Self {
        self.validators.0.push(Arc::new(validator));
        self
    }

    /// Markdown; also sent to Terraform as the plain description.
    pub fn description(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        pb::schema::Attribute {
            name: self.name.to_owned(),
            r#type: self.ty.to_json_bytes(),
            nested_type: None,
            description: self.description.to_owned(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            deprecation_message: String::new(),
            write_only: self.write_only,
        }
    }
}

/// How many of a nested block a configuration may write, and so the shape
/// of its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; its value is an object, or null when absent.
    Single,
    /// Any number of blocks, in order; its value is a list of objects.
    List,
    /// Any number of blocks, unordered; its value is a set of objects.
    Set,
}

/// A block inside a block, such as `timeouts { create = "5m" }`.
#[derive(Clone, Debug)]
pub struct NestedBlock {
    /// The block's name in configuration, and its attribute name in the
    /// enclosing object's value.
    pub type_name: &'static str,
    /// How many of it there may be.
    pub nesting: Nesting,
    /// What each one holds.
    pub block: Block,
}

/// The body of a schema, or of a nested block: attributes and nested
/// blocks. A value conforming to it is an object with one attribute per
/// attribute and per nested block (see [`Block::value_type`]).
#[derive(Clone, Debug, Default)]
pub struct Block {
    /// Its attributes, in declaration order.
    pub attributes: Vec<Attribute>,
    /// Its nested blocks, in declaration order.
    pub blocks: Vec<NestedBlock>,
    /// Markdown describing it; a schema's top block describes the whole
    /// object (the resource, data source...).
    pub description: &'static str,
    /// Marked deprecated in the schema Terraform receives.
    pub deprecated: bool,
}

impl Block {
    /// An empty block with this Markdown description.
    pub fn new(description: &'static str) -> Self {
        Block {
            description,
            ..Block::default()
        }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// Adds a nested block named `type_name`.
    pub fn block(mut self, type_name: &'static str, nesting: Nesting, block: Block) -> Self {
        self.blocks.push(NestedBlock {
            type_name,
            nesting,
            block,
        });
        self
    }

    /// Runs the validators of its attributes, at any depth, on the known,
    /// non-null parts of `value` (a configuration of this block): what the
    /// framework does at every Validate*Config.
    pub fn validate(&self, value: &Value) -> Diagnostics {
        validate_at(self, value, &AttrPath::empty())
    }

    /// The attribute of this block (not of its nested blocks) named `name`.
    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The object type of a value conforming to this block.
    pub fn value_type(&self) -> Type {
        let mut fields: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.to_owned(), a.ty.clone()))
            .collect();
        for nested in &self.blocks {
            let inner = nested.block.value_type();
            let ty = match nested.nesting {
                Nesting::Single => inner,
                Nesting::List => Type::List(Box::new(inner)),
                Nesting::Set => Type::Set(Box::new(inner)),
            };
            fields.insert(nested.type_name.to_owned(), ty);
        }
        Type::Object(fields)
    }

    fn to_proto(&self, version: i64) -> pb::schema::Block {
        use pb::schema::nested_block::NestingMode;
        pb::schema::Block {
            version,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self
                .blocks
                .iter()
                .map(|nested| pb::schema::NestedBlock {
                    type_name: nested.type_name.to_owned(),
                    block: Some(nested.block.to_proto(version)),
                    nesting: match nested.nesting {
                        Nesting::Single => NestingMode::Single,
                        Nesting::List => NestingMode::List,
                        Nesting::Set => NestingMode::Set,
                    } as i32,
                    // Terraform insists that a single block's min and max
                    // match; 0/0 makes it optional.
                    min_items: 0,
                    max_items: 0,
                })
                .collect(),
            description: self.description.to_owned(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            deprecation_message: String::new(),
        }
    }
}

/// What a provider, resource, data source, ephemeral resource, list
/// resource or action accepts and returns: a versioned top-level block.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Bumped whenever the stored state's shape changes; older states are
    /// then passed through the resource's upgrade hook.
    pub version: i64,
    /// The top-level block: the whole configuration, or state.
    pub block: Block,
}

impl Schema {
    /// A schema of this version with this block.
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }

    pub(crate) fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }
}

/// Runs every validator of `block`'s attributes, at any depth, on the
/// known, non-null parts of `value`, found at `path`.
fn validate_at(block: &Block, value: &Value, path: &AttrPath) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if value.is_unknown() || value.is_null() {
        return diags;
    }
    for attribute in &block.attributes {
        if attribute.validators.0.is_empty() {
            continue;
        }
        let Some(found) = value.get(attribute.name) else {
            continue;
        };
        let found = found.unwrap_dynamic();
        if !found.is_known() || found.is_null() {
            continue;
        }
        let at = path.clone().attribute(attribute.name);
        let checked = Checked {
            path: &at,
            value: found,
            sensitive: attribute.sensitive,
        };
        for validator in &attribute.validators.0 {
            if let Err(diag) = validator.check(&checked) {
                diags.push(diag);
            }
        }
    }
    for nested in &block.blocks {
        let Some(found) = value.get(nested.type_name) else {
            continue;
        };
        let at = path.clone().attribute(nested.type_name);
        match nested.nesting {
            Nesting::Single => diags.extend(validate_at(&nested.block, found, &at)),
            Nesting::List | Nesting::Set => {
                for (i, element) in found.as_elements().unwrap_or_default().iter().enumerate() {
                    let at = at.clone().index(i as u64);
                    diags.extend(validate_at(&nested.block, element, &at));
                }
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_type_covers_attributes_and_blocks() {
        let block = Block::new("")
            .attribute(Attribute::string("name").required())
            .block(
                "timeouts",
                Nesting::Single,
                Block::new("").attribute(Attribute::string("create").optional()),
            );
        let Type::Object(fields) = block.value_type() else {
            panic!("a block is an object");
        };
        assert_eq!(fields.get("name"), Some(&Type::String));
        assert!(matches!(fields.get("timeouts"), Some(Type::Object(_))));
    }

    #[test]
    fn single_blocks_are_optional() {
        let schema = Schema::new(
            0,
            Block::new("").block("timeouts", Nesting::Single, Block::new("")),
        );
        let proto = schema.to_proto();
        let block = proto.block.expect("block");
        assert_eq!(
            (
                block.block_types[0].min_items,
                block.block_types[0].max_items
            ),
            (0, 0)
        );
    }
}
