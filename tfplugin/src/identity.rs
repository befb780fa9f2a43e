//! Resource identity (protocol 6.9, Terraform 1.12): the few attributes that
//! name one remote object for good, stored by Terraform beside the state and
//! accepted by `import { identity = {...} }` blocks.
//!
//! An identity attribute is always an attribute of the resource's own
//! schema with the same name and type, and the framework derives the
//! identity from the state it is about to return. So the two can never
//! disagree, and a resource writes no identity code of its own.

use super::diag::{Diagnostic, Diagnostics};
use super::proto::tfplugin6 as pb;
use super::schema::Block;
use super::value::{AttrPath, Type, Value};

/// One attribute of an identity: the resource attribute of the same name
/// and type.
#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    /// The name, shared with the resource attribute it is read from.
    pub name: &'static str,
    /// The type, which must be the resource attribute's.
    pub ty: Type,
    /// Markdown describing it.
    pub description: &'static str,
    /// Must be given in an `import` block's identity.
    pub required_for_import: bool,
    /// May be left out of an `import` block's identity: the provider can
    /// work it out.
    pub optional_for_import: bool,
}

impl IdentityAttribute {
    /// An identity attribute an import must name.
    pub fn required(name: &'static str, ty: Type) -> Self {
        IdentityAttribute {
            name,
            ty,
            description: "",
            required_for_import: true,
            optional_for_import: false,
        }
    }

    /// An identity attribute an import may leave out.
    pub fn optional(name: &'static str, ty: Type) -> Self {
        IdentityAttribute {
            required_for_import: false,
            optional_for_import: true,
            ..Self::required(name, ty)
        }
    }

    /// Sets the Markdown description.
    pub fn description(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }
}

/// What identifies one object of a resource type. Versioned apart from the
/// resource schema: bump `version` when the attributes change, and teach
/// the resource's `upgrade_identity` the old shape.
#[derive(Clone, Debug)]
pub struct IdentitySchema {
    /// The identity's version, independent of the resource schema's.
    pub version: i64,
    /// The attributes that together identify an object.
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// An identity schema of this version with these attributes.
    pub fn new(version: i64, attributes: Vec<IdentityAttribute>) -> Self {
        IdentitySchema {
            version,
            attributes,
        }
    }

    /// The object type of an identity value.
    pub fn value_type(&self) -> Type {
        Type::object(self.attributes.iter().map(|a| (a.name, a.ty.clone())))
    }

    /// The identity of the object whose state this is: each identity
    /// attribute's value in the state. Null for a null state (no object).
    pub fn derive(&self, state: &Value) -> Value {
        if state.is_null() {
            return Value::Null;
        }
        Value::object(self.attributes.iter().map(|a| {
            let value = state.get(a.name).cloned().unwrap_or(Value::Null);
            (a.name, value)
        }))
    }

    /// Checks that every identity attribute is a resource attribute of the
    /// same type, so that `derive` is meaningful. Run once at startup.
    pub(crate) fn check_against(&self, type_name: &str, block: &Block) -> Result<(), String> {
        for attribute in &self.attributes {
            match block.find_attribute(attribute.name) {
                Some(found) if found.ty == attribute.ty => {}
                Some(_) => {
                    return Err(format!(
                        "identity attribute {:?} of {type_name} has a different type than the \
                         resource attribute of that name",
                        attribute.name
                    ));
                }
                None => {
                    return Err(format!(
                        "identity attribute {:?} of {type_name} is not an attribute of the \
                         resource",
                        attribute.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks an identity given by an `import` block: every attribute
    /// required for import is set. Terraform has already checked the shape
    /// against the schema.
    pub fn check_import(&self, identity: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        for attribute in self.attributes.iter().filter(|a| a.required_for_import) {
            let value = identity.get(attribute.name).unwrap_or(&Value::Null);
            if value.is_null() {
                diagnostics.push(
                    Diagnostic::error(
                        "Missing identity attribute",
                        format!(
                            "The import identity must set {:?}: it names the object to import.",
                            attribute.name
                        ),
                    )
                    .at(AttrPath::root(attribute.name)),
                );
            } else if !value.is_known() {
                diagnostics.push(
                    Diagnostic::error(
                        "Identity attribute not known",
                        format!(
                            "The import identity's {:?} must be known when Terraform plans.",
                            attribute.name
                        ),
                    )
                    .at(AttrPath::root(attribute.name)),
                );
            }
        }
        diagnostics
    }

    pub(crate) fn to_proto(&self) -> pb::ResourceIdentitySchema {
        pb::ResourceIdentitySchema {
            version: self.version,
            identity_attributes: self
                .attributes
                .iter()
                .map(|a| pb::resource_identity_schema::IdentityAttribute {
                    name: a.name.to_owned(),
                    r#type: a.ty.to_json_bytes(),
                    required_for_import: a.required_for_import,
                    optional_for_import: a.optional_for_import,
                    description: a.description.to_owned(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Attribute;

    fn key_identity() -> IdentitySchema {
        IdentitySchema::new(
            0,
            vec![
                IdentityAttribute::required("app_id", Type::String),
                IdentityAttribute::required("key_id", Type::String),
            ],
        )
    }

    #[test]
    fn the_identity_is_read_off_the_state() {
        let state = Value::object([
            ("app_id", Value::string("a")),
            ("key_id", Value::string("k")),
            ("secret", Value::string("s")),
        ]);
        assert_eq!(
            key_identity().derive(&state),
            Value::object([
                ("app_id", Value::string("a")),
                ("key_id", Value::string("k"))
            ])
        );
        assert_eq!(key_identity().derive(&Value::Null), Value::Null);
    }

    #[test]
    fn an_identity_attribute_must_be_a_resource_attribute_of_the_same_type() {
        let block = Block::new("")
            .attribute(Attribute::string("app_id"))
            .attribute(Attribute::number("key_id"));
        let err = key_identity().check_against("t", &block).unwrap_err();
        assert!(err.contains("\"key_id\""), "{err}");
        let block = Block::new("").attribute(Attribute::string("app_id"));
        let err = key_identity().check_against("t", &block).unwrap_err();
        assert!(err.contains("not an attribute"), "{err}");
    }

    #[test]
    fn an_import_identity_must_set_what_import_requires() {
        let identity = Value::object([("app_id", Value::string("a")), ("key_id", Value::Null)]);
        let diagnostics = key_identity().check_import(&identity);
        let all: Vec<_> = diagnostics.iter().collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].attribute, Some(AttrPath::root("key_id")));
    }
}
