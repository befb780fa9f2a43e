//! [`Field`] for the types a model's fields are made of.

use std::collections::BTreeMap;

use super::{Field, mismatch};
use crate::value::Number;
use crate::{AttrPath, Diagnostics, Type, Value};

/// A value that may also be null or not yet known: for config (where any
/// attribute can come from something unknown at plan time) and for plans
/// (where computed attributes are unknown until apply).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Maybe<T> {
    /// Null: not set. The default.
    #[default]
    Null,
    /// Not known yet ("known after apply").
    Unknown,
    /// A known, non-null value.
    Known(T),
}

impl<T> Maybe<T> {
    /// The value, when known and not null.
    pub fn known(&self) -> Option<&T> {
        match self {
            Maybe::Known(value) => Some(value),
            _ => None,
        }
    }

    /// Owned variant of [`Maybe::known`].
    pub fn into_known(self) -> Option<T> {
        match self {
            Maybe::Known(value) => Some(value),
            _ => None,
        }
    }

    /// True for [`Maybe::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Maybe::Null)
    }

    /// True for [`Maybe::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Maybe::Unknown)
    }
}

/// `None` becomes null.
impl<T> From<Option<T>> for Maybe<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Maybe::Null, Maybe::Known)
    }
}

impl<T: Field> Field for Maybe<T> {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        match value.unwrap_dynamic() {
            Value::Null => Ok(Maybe::Null),
            Value::Unknown => Ok(Maybe::Unknown),
            _ => T::decode(value, path).map(Maybe::Known),
        }
    }

    fn encode(&self) -> Value {
        match self {
            Maybe::Null => Value::Null,
            Maybe::Unknown => Value::Unknown,
            Maybe::Known(value) => value.encode(),
        }
    }

    fn value_type() -> Type {
        T::value_type()
    }
}

impl<T: Field> Field for Option<T> {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        match value.unwrap_dynamic() {
            Value::Null => Ok(None),
            _ => T::decode(value, path).map(Some),
        }
    }

    fn encode(&self) -> Value {
        self.as_ref().map_or(Value::Null, Field::encode)
    }

    fn value_type() -> Type {
        T::value_type()
    }
}

impl Field for String {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        match value.unwrap_dynamic() {
            Value::String(text) => Ok(text.clone()),
            other => Err(mismatch(path, "a string", other)),
        }
    }

    fn encode(&self) -> Value {
        Value::String(self.clone())
    }

    fn value_type() -> Type {
        Type::String
    }
}

impl Field for bool {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        match value.unwrap_dynamic() {
            Value::Bool(flag) => Ok(*flag),
            other => Err(mismatch(path, "a bool", other)),
        }
    }

    fn encode(&self) -> Value {
        Value::Bool(*self)
    }

    fn value_type() -> Type {
        Type::Bool
    }
}

impl Field for Number {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        match value.unwrap_dynamic() {
            Value::Number(number) => Ok(number.clone()),
            other => Err(mismatch(path, "a number", other)),
        }
    }

    fn encode(&self) -> Value {
        Value::Number(self.clone())
    }

    fn value_type() -> Type {
        Type::Number
    }
}

/// A number that must be a whole number within `i64`.
impl Field for i64 {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        match value.unwrap_dynamic() {
            Value::Number(number) => number
                .as_i64()
                .ok_or_else(|| mismatch(path, "a whole number", value)),
            other => Err(mismatch(path, "a whole number", other)),
        }
    }

    fn encode(&self) -> Value {
        Value::number(*self)
    }

    fn value_type() -> Type {
        Type::Number
    }
}

/// Passed through untouched: for attributes a provider does not interpret
/// (free-form maps it only stores, blocks a helper reads).
impl Field for Value {
    fn decode(value: &Value, _path: &AttrPath) -> Result<Self, Diagnostics> {
        Ok(value.clone())
    }

    fn encode(&self) -> Value {
        self.clone()
    }

    fn value_type() -> Type {
        Type::Dynamic
    }
}

impl<T: Field> Field for Vec<T> {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        let Value::List(elements) = value.unwrap_dynamic() else {
            return Err(mismatch(path, "a list", value.unwrap_dynamic()));
        };
        let mut problems = Diagnostics::new();
        let mut decoded = Vec::with_capacity(elements.len());
        for (index, element) in elements.iter().enumerate() {
            match T::decode(element, &path.clone().index(index as u64)) {
                Ok(field) => decoded.push(field),
                Err(diags) => problems.extend(diags),
            }
        }
        if problems.is_empty() {
            Ok(decoded)
        } else {
            Err(problems)
        }
    }

    fn encode(&self) -> Value {
        Value::list(self.iter().map(Field::encode))
    }

    fn value_type() -> Type {
        Type::list(T::value_type())
    }
}

impl<T: Field> Field for BTreeMap<String, T> {
    fn decode(value: &Value, path: &AttrPath) -> Result<Self, Diagnostics> {
        let Value::Map(entries) = value.unwrap_dynamic() else {
            return Err(mismatch(path, "a map", value.unwrap_dynamic()));
        };
        let mut problems = Diagnostics::new();
        let mut decoded = BTreeMap::new();
        for (key, entry) in entries {
            match T::decode(entry, &path.clone().key(key)) {
                Ok(field) => {
                    decoded.insert(key.clone(), field);
                }
                Err(diags) => problems.extend(diags),
            }
        }
        if problems.is_empty() {
            Ok(decoded)
        } else {
            Err(problems)
        }
    }

    fn encode(&self) -> Value {
        Value::map(
            self.iter()
                .map(|(key, entry)| (key.clone(), entry.encode())),
        )
    }

    fn value_type() -> Type {
        Type::map(T::value_type())
    }
}
