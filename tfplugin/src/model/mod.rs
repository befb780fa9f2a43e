//! Typed models: an object's config, plan or state as a Rust struct.
//!
//! A provider declares one struct per object with [`model!`](crate::model!);
//! each field is named after its attribute, so a name is written in the
//! schema and in the struct, nowhere else. A callback decodes the value it
//! receives once ([`Model::from_value`]), works on plain Rust fields, and
//! encodes its answer once ([`Model::to_value`]).
//!
//! Field types say what a value may be:
//!
//! | field type            | null        | unknown   | Terraform type        |
//! |-----------------------|-------------|-----------|-----------------------|
//! | `String`, `bool`, `i64`, [`Number`] | error | error | string, bool, number |
//! | `Option<T>`           | `None`      | error     | as `T`                |
//! | [`Maybe<T>`]          | `Null`      | `Unknown` | as `T`                |
//! | `Vec<T>`              | error       | error     | list of `T`           |
//! | `BTreeMap<String, T>` | error       | error     | map of `T`            |
//! | [`Value`]             | as is       | as is     | any (passed through)  |
//! | a struct from `model!`| error       | error     | object or block       |
//!
//! A value that does not fit its field (a wrong type, or null or unknown
//! where the field cannot hold it) is an error diagnostic at that
//! attribute's path, never a panic; every field is read, so one decode
//! reports every problem at once. [`Model::check_schema`] compares a model
//! with the schema it serves, for a unit test per object: a renamed
//! attribute or a changed type fails there, before Terraform ever sends a
//! value.
//!
//! [`attr_path!`](crate::attr_path!) and [`attr_name!`](crate::attr_name!)
//! name an attribute through its field, so the compiler checks the names
//! that diagnostics point at.
//!
//! ```
//! use tfplugin::{Attribute, Block, Value};
//! use tfplugin::model::{Maybe, Model};
//!
//! tfplugin::model! {
//!     /// What a `demo_key` holds.
//!     pub struct DemoKey {
//!         pub name: String,
//!         pub id: Maybe<String>,
//!     }
//! }
//!
//! let block = Block::new("A key.")
//!     .attribute(Attribute::string("name").required())
//!     .attribute(Attribute::string("id").computed());
//! DemoKey::check_schema(&block).unwrap();
//!
//! let planned = Value::object([("name", Value::string("ci")), ("id", Value::Unknown)]);
//! let mut key = DemoKey::from_value(&planned).unwrap();
//! assert!(key.id.is_unknown());
//! key.id = Maybe::Known("k-1".into());
//! assert_eq!(key.to_value().field("id"), &Value::string("k-1"));
//! assert_eq!(tfplugin::attr_path!(DemoKey, id).to_string(), "id");
//! ```

mod fields;

use std::collections::BTreeMap;

pub use fields::Maybe;

#[doc(no_inline)]
pub use crate::value::Number;
use crate::{AttrPath, Block, Diagnostic, Diagnostics, Type, Value};

/// One attribute of a model: its name and the check of its type.
#[doc(hidden)]
pub type AttributeCheck = (&'static str, fn(&Type) -> bool);

/// A type that one attribute's value decodes into and encodes from.
pub trait Field: Sized {
    /// Reads `value`, found at `path` (for diagnostics).
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics>;

    /// The value Terraform should see.
    fn encode(&self) -> Value;

    /// The Terraform type this field encodes to; [`Type::Dynamic`] for a
    /// field that takes any value. A model's is the object of its fields',
    /// so a schema attribute holding a list of objects can be declared as
    /// `Type::list(Element::value_type())` rather than spelled out again.
    fn value_type() -> Type;

    /// Whether a value of Terraform type `ty` can decode into this field:
    /// `ty` is [`value_type`](Field::value_type), with any type where that
    /// has [`Type::Dynamic`].
    fn fits(ty: &Type) -> bool {
        conforms(&Self::value_type(), ty)
    }
}

/// Whether `ty` is `field`, reading [`Type::Dynamic`] in `field` as any
/// type.
fn conforms(field: &Type, ty: &Type) -> bool {
    match (field, ty) {
        (Type::Dynamic, _) => true,
        (Type::List(field), Type::List(ty))
        | (Type::Set(field), Type::Set(ty))
        | (Type::Map(field), Type::Map(ty)) => conforms(field, ty),
        (Type::Object(fields), Type::Object(attributes)) => {
            fields.len() == attributes.len()
                && fields
                    .iter()
                    .all(|(name, field)| attributes.get(name).is_some_and(|ty| conforms(field, ty)))
        }
        (Type::Tuple(fields), Type::Tuple(elements)) => {
            fields.len() == elements.len()
                && fields
                    .iter()
                    .zip(elements)
                    .all(|(field, ty)| conforms(field, ty))
        }
        (field, ty) => field == ty,
    }
}

/// A struct that stands for a whole object; implemented by
/// [`model!`](crate::model!).
pub trait Model: Field {
    /// The attribute (and nested block) names, in declaration order, with
    /// the check of each one's type.
    #[doc(hidden)]
    fn attributes() -> &'static [AttributeCheck];

    /// Decodes a whole object (a config, plan or state).
    fn from_value(value: &Value) -> Result<Self, Diagnostics> {
        <Self as Field>::decode(value, &AttrPath::empty())
    }

    /// Encodes the whole object.
    fn to_value(&self) -> Value {
        <Self as Field>::encode(self)
    }

    /// Checks this model against the schema block it decodes: the same
    /// names, and a field type that fits each attribute's type. Meant for
    /// unit tests; the error names every difference.
    fn check_schema(block: &Block) -> Result<(), String> {
        let Type::Object(schema) = block.value_type() else {
            return Err("the block's value type is not an object".into());
        };
        let mut problems = Vec::new();
        for (name, fits) in Self::attributes() {
            match schema.get(*name) {
                None => problems.push(format!("field {name} is not in the schema")),
                Some(ty) if !fits(ty) => problems.push(format!(
                    "field {name} cannot hold the schema's type {}",
                    ty.to_json()
                )),
                Some(_) => {}
            }
        }
        for name in schema.keys() {
            if !Self::attributes().iter().any(|(field, _)| field == name) {
                problems.push(format!("schema attribute {name} has no field"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// The configuration of an object that takes no arguments (a data source
/// that reads everything it answers, say): it decodes from any object and
/// reads nothing of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoArguments;

impl Field for NoArguments {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        object_at(value, path).map(|_| NoArguments)
    }

    fn encode(&self) -> Value {
        Value::Object(BTreeMap::new())
    }

    fn value_type() -> Type {
        Type::Object(BTreeMap::new())
    }

    /// Any object: the arguments are not read.
    fn fits(ty: &Type) -> bool {
        matches!(ty, Type::Object(_))
    }
}

impl Model for NoArguments {
    fn attributes() -> &'static [AttributeCheck] {
        &[]
    }
}

/// Declares a struct that is a [`Model`]: every field is an attribute (or
/// nested block) of the same name, and its type implements [`Field`].
///
/// Written as a declarative macro rather than a derive so the crate needs no
/// proc-macro dependency and the struct reads as plain Rust.
#[macro_export]
macro_rules! model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )*
        }

        impl $crate::model::Model for $name {
            fn attributes() -> &'static [$crate::model::AttributeCheck] {
                &[$((
                    stringify!($field),
                    <$ty as $crate::model::Field>::fits as fn(&$crate::Type) -> bool,
                )),*]
            }
        }

        impl $crate::model::Field for $name {
            fn decode(
                value: &$crate::Value,
                path: &$crate::AttrPath,
            ) -> ::std::result::Result<Self, $crate::Diagnostics> {
                let object = $crate::model::object_at(value, path)?;
                let mut problems = $crate::Diagnostics::new();
                $(
                    let $field = $crate::model::decode_attribute::<$ty>(
                        object, stringify!($field), path, &mut problems,
                    );
                )*
                match ($($field,)*) {
                    ($(::std::option::Option::Some($field),)*) => Ok(Self { $($field,)* }),
                    #[allow(unreachable_patterns)]
                    _ => Err(problems),
                }
            }

            fn encode(&self) -> $crate::Value {
                $crate::Value::object([$(
                    (stringify!($field), $crate::model::Field::encode(&self.$field)),
                )*])
            }

            fn value_type() -> $crate::Type {
                $crate::Type::object([$(
                    (stringify!($field), <$ty as $crate::model::Field>::value_type()),
                )*])
            }
        }
    };
}

/// The name of a model's attribute, checked by the compiler: a field that
/// does not exist fails the build, so a diagnostic's path or an error
/// mapping cannot drift from the model. `attr_name!(KeyModel, app_id)` is
/// `"app_id"`.
#[macro_export]
macro_rules! attr_name {
    ($model:path, $field:ident) => {{
        let _ = |model: &$model| {
            let _ = &model.$field;
        };
        stringify!($field)
    }};
}

/// The path of a model's top-level attribute, checked like
/// [`attr_name!`](crate::attr_name!), for pointing a diagnostic at it.
#[macro_export]
macro_rules! attr_path {
    ($model:path, $field:ident) => {
        $crate::AttrPath::root($crate::attr_name!($model, $field))
    };
}

/// The attributes of the object at `path`, for [`model!`](crate::model!).
#[doc(hidden)]
pub fn object_at<'a>(
    value: &'a Value,
    path: &AttrPath,
) -> Result<&'a BTreeMap<String, Value>, Diagnostics> {
    match value.unwrap_dynamic() {
        Value::Object(fields) => Ok(fields),
        other => Err(mismatch(path, "an object", other)),
    }
}

/// Decodes one attribute (absent counts as null), adding its problems to
/// `problems`.
#[doc(hidden)]
pub fn decode_attribute<T: Field>(
    object: &BTreeMap<String, Value>,
    name: &str,
    path: &AttrPath,
    problems: &mut Diagnostics,
) -> Option<T> {
    let value = object.get(name).unwrap_or(&Value::Null);
    match T::decode(value, &path.clone().attribute(name)) {
        Ok(field) => Some(field),
        Err(diags) => {
            problems.extend(diags);
            None
        }
    }
}

/// The diagnostic for a value that does not fit its field. It names the
/// kind of value, never the value itself, which may be a secret.
pub(crate) fn mismatch(path: &AttrPath, expected: &str, got: &Value) -> Diagnostics {
    let detail = match got.unwrap_dynamic() {
        Value::Null => format!("{path} is null, but the provider needs {expected} here."),
        Value::Unknown => format!(
            "{path} is not known yet, but the provider needs {expected} here. Set it from \
             values known at plan time, or apply in two steps with -target."
        ),
        other => format!(
            "{path} holds a {}, but the provider expects {expected}. Terraform checks values \
             against the provider's schema, so this is a bug in the provider: please report it.",
            other.kind_name()
        ),
    };
    let diagnostic = Diagnostic::error(format!("Unusable value for {path}"), detail);
    let diagnostic = if path.is_empty() {
        diagnostic
    } else {
        diagnostic.at(path.clone())
    };
    diagnostic.into()
}

#[cfg(test)]
mod tests;
