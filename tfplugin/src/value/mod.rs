//! Terraform's value model as it travels over the plugin protocol: go-cty
//! values (here), their types (`types`) and exact numbers (`number`);
//! attribute paths (`path`), which values, plans and diagnostics share; and
//! what the msgpack and JSON codecs share (`codec`: the walk through a value
//! and the errors both report).
//!
//! Nothing here knows about any particular provider.

use std::collections::BTreeMap;
use std::fmt;

#[cfg(test)]
pub(crate) mod arbitrary;
mod codec;
mod number;
mod path;
mod types;

pub use codec::{DecodeError, EncodeError, MAX_NESTING};
pub(crate) use codec::{Walk, Walker};
pub use number::{Number, NumberError};
pub use path::{AttrPath, PathStep};
pub use types::{Type, TypeParseError};

/// A Terraform value.
///
/// Null and unknown are distinct variants that can stand in for a value of
/// any type. Collections hold their elements in wire order; object
/// attributes and map keys are sorted, as cty itself sorts them when
/// encoding.
///
/// `Dynamic(ty, value)` is what a decoder produces for a known value sent
/// under the `dynamic` type: the wire carries the concrete type next to the
/// value (msgpack `[type-json, value]`, JSON `{"value":…,"type":…}`), and
/// keeping it lets the value be re-encoded byte for byte even when the type
/// cannot be inferred from the value (an empty list, a null in a list...).
/// A null or wholly unknown value under `dynamic` travels bare, so it decodes
/// to plain `Null`/`Unknown`. Accessors and equality look through the
/// wrapper; encoders accept unwrapped values under `dynamic` when their type
/// can be inferred (see [`Value::implied_type`]).
#[derive(Clone)]
pub enum Value {
    /// No value: an attribute the configuration leaves unset, an absent
    /// block, the state of an object that does not exist.
    Null,
    /// A value not known yet (until apply, typically): "known after apply".
    Unknown,
    /// A bool.
    Bool(bool),
    /// An exact decimal number.
    Number(Number),
    /// A string.
    String(String),
    /// A list's elements, in order.
    List(Vec<Value>),
    /// A set's elements, in wire order (equality ignores the order).
    Set(Vec<Value>),
    /// A map's entries, by key.
    Map(BTreeMap<String, Value>),
    /// An object's attributes, by name.
    Object(BTreeMap<String, Value>),
    /// A tuple's elements, in order.
    Tuple(Vec<Value>),
    /// A known value sent under the `dynamic` type, with the concrete type
    /// it travelled with (see above).
    Dynamic(Type, Box<Value>),
}

/// Null: what an attribute holds when nothing was set.
impl Default for Value {
    fn default() -> Self {
        Value::Null
    }
}

/// Stand-in for attributes a caller left out of an object.
pub(crate) static NULL: Value = Value::Null;

impl Value {
    /// A string value.
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    /// A number value.
    pub fn number(number: impl Into<Number>) -> Value {
        Value::Number(number.into())
    }

    /// An object value from its attributes.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(
            attributes
                .into_iter()
                .map(|(name, value)| (name.into(), value))
                .collect(),
        )
    }

    /// A map value from its entries.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(key, value)| (key.into(), value))
                .collect(),
        )
    }

    /// A list value.
    pub fn list(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::List(elements.into_iter().collect())
    }

    /// A set value (elements in the order given).
    pub fn set(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::Set(elements.into_iter().collect())
    }

    /// The value inside any `Dynamic` wrappers.
    pub fn unwrap_dynamic(&self) -> &Value {
        let mut value = self;
        while let Value::Dynamic(_, inner) = value {
            value = inner;
        }
        value
    }

    /// Owned variant of [`Value::unwrap_dynamic`].
    pub fn into_unwrapped(self) -> Value {
        let mut value = self;
        while let Value::Dynamic(_, inner) = value {
            value = *inner;
        }
        value
    }

    /// True when the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Null)
    }

    /// True when the value itself is unknown (its parts are not inspected).
    pub fn is_unknown(&self) -> bool {
        matches!(self.unwrap_dynamic(), Value::Unknown)
    }

    /// True when neither the value nor anything inside it is unknown.
    pub fn is_known(&self) -> bool {
        match self.unwrap_dynamic() {
            Value::Unknown => false,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_known)
            }
            Value::Map(entries) | Value::Object(entries) => entries.values().all(Value::is_known),
            _ => true,
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The flag of a bool value.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    /// The number of a number value.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(number) => Some(number),
            _ => None,
        }
    }

    /// The number, if it is an integer that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// Elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// Entries of a map or attributes of an object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(entries) | Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// An attribute of an object (or an entry of a map). `None` when this is
    /// not an object/map or has no such attribute; a present-but-null
    /// attribute is `Some(Value::Null)`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_entries()?.get(name)
    }

    /// An attribute of an object (or an entry of a map), null when absent
    /// or when this is not an object or map: for reading attributes where
    /// absent and null mean the same.
    pub fn field(&self, name: &str) -> &Value {
        self.get(name).unwrap_or(&NULL)
    }

    /// A short name for the kind of value, for error texts.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic(..) => "dynamic",
        }
    }

    /// The type this value would travel under when stored in a `dynamic`
    /// slot without an explicit [`Value::Dynamic`] wrapper. Null and unknown
    /// have type `dynamic`; an empty or all-null collection gets element
    /// type `dynamic`. `None` when collection elements disagree on a type.
    pub fn implied_type(&self) -> Option<Type> {
        match self {
            Value::Null | Value::Unknown => Some(Type::Dynamic),
            Value::Bool(_) => Some(Type::Bool),
            Value::Number(_) => Some(Type::Number),
            Value::String(_) => Some(Type::String),
            Value::Dynamic(ty, _) => Some(ty.clone()),
            Value::List(items) => common_element_type(items.iter()).map(Type::list),
            Value::Set(items) => common_element_type(items.iter()).map(Type::set),
            Value::Map(entries) => common_element_type(entries.values()).map(Type::map),
            Value::Tuple(items) => items
                .iter()
                .map(Value::implied_type)
                .collect::<Option<_>>()
                .map(Type::Tuple),
            Value::Object(attributes) => attributes
                .iter()
                .map(|(name, value)| Some((name.clone(), value.implied_type()?)))
                .collect::<Option<_>>()
                .map(Type::Object),
        }
    }
}

fn common_element_type<'a>(items: impl Iterator<Item = &'a Value>) -> Option<Type> {
    let mut common = Type::Dynamic;
    for item in items {
        if matches!(item, Value::Null | Value::Unknown) {
            continue;
        }
        let ty = item.implied_type()?;
        if common == Type::Dynamic {
            common = ty;
        } else if common != ty {
            return None;
        }
    }
    Some(common)
}

/// Structural equality with numbers compared by value, sets compared without
/// regard to order, and `Dynamic` wrappers ignored.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self.unwrap_dynamic(), other.unwrap_dynamic()) {
            (Value::Null, Value::Null) | (Value::Unknown, Value::Unknown) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => same_elements_any_order(a, b),
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

fn same_elements_any_order(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut matched = vec![false; b.len()];
    a.iter().all(|item| {
        let found = (0..b.len()).find(|&i| !matched[i] && b[i] == *item);
        found.map(|i| matched[i] = true).is_some()
    })
}

/// String contents never appear here: they may be secrets. Map keys and
/// attribute names do, as they do in error paths.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Unknown => f.write_str("Unknown"),
            Value::Bool(flag) => f.debug_tuple("Bool").field(flag).finish(),
            Value::Number(number) => write!(f, "Number({number})"),
            Value::String(text) => write!(f, "String(<{} bytes>)", text.len()),
            Value::List(items) => f.debug_tuple("List").field(items).finish(),
            Value::Set(items) => f.debug_tuple("Set").field(items).finish(),
            Value::Tuple(items) => f.debug_tuple("Tuple").field(items).finish(),
            Value::Map(entries) => f.debug_tuple("Map").field(entries).finish(),
            Value::Object(entries) => f.debug_tuple("Object").field(entries).finish(),
            Value::Dynamic(ty, inner) => f.debug_tuple("Dynamic").field(ty).field(inner).finish(),
        }
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Value {
        Value::Bool(flag)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::String(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::String(text)
    }
}

impl From<Number> for Value {
    fn from(number: Number) -> Value {
        Value::Number(number)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Value {
        Value::Number(number.into())
    }
}

impl From<u64> for Value {
    fn from(number: u64) -> Value {
        Value::Number(number.into())
    }
}

impl From<i32> for Value {
    fn from(number: i32) -> Value {
        Value::Number(number.into())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_string_contents() {
        let value = Value::object([
            ("token", Value::string("hunter2-secret")),
            ("tags", Value::map([("env", Value::string("prod-secret"))])),
        ]);
        let printed = format!("{value:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("String(<14 bytes>)"), "{printed}");
        assert!(printed.contains("token"), "{printed}");
    }

    #[test]
    fn accessors_look_through_dynamic_wrappers() {
        let inner = Value::object([("name", Value::string("x")), ("n", Value::Null)]);
        let value = Value::Dynamic(inner.implied_type().unwrap(), Box::new(inner.clone()));
        assert_eq!(value.get("name").and_then(Value::as_str), Some("x"));
        assert!(value.get("n").is_some_and(Value::is_null));
        assert!(value.get("missing").is_none());
        assert_eq!(value.field("name").as_str(), Some("x"));
        assert!(value.field("missing").is_null());
        assert!(Value::Null.field("name").is_null());
        assert_eq!(value, inner);
        assert!(value.is_known());
    }

    #[test]
    fn known_means_wholly_known() {
        let value = Value::list([Value::from("a"), Value::object([("x", Value::Unknown)])]);
        assert!(!value.is_known());
        assert!(!value.is_unknown());
        assert!(Value::Unknown.is_unknown());
        assert!(Value::Null.is_known());
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::set([Value::from(1i64), Value::from(2i64), Value::from(2i64)]);
        let b = Value::set([Value::from(2i64), Value::from(1i64), Value::from(2i64)]);
        let c = Value::set([Value::from(2i64), Value::from(1i64), Value::from(1i64)]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(
            Value::list([Value::from(1i64)]),
            Value::set([Value::from(1i64)])
        );
    }

    #[test]
    fn implied_types() {
        let value = Value::list([Value::Null, Value::from("a")]);
        assert_eq!(value.implied_type(), Some(Type::list(Type::String)));
        assert_eq!(
            Value::list([]).implied_type(),
            Some(Type::list(Type::Dynamic))
        );
        let mixed = Value::list([Value::from("a"), Value::from(1i64)]);
        assert_eq!(mixed.implied_type(), None);
        let tuple = Value::Tuple(vec![Value::from("a"), Value::from(true)]);
        assert_eq!(
            tuple.implied_type(),
            Some(Type::Tuple(vec![Type::String, Type::Bool]))
        );
    }
}
