//! The bridge between [`Value`] and plain `serde_json::Value` data, for
//! providers that hand values to serde.

use super::decode::{Decoder, Node, Rules, Shape};
use crate::value::{DecodeError, Type, TypeParseError, Value};

/// Plain JSON data for `value`, for handing to serde: dynamic wrappers are
/// dropped, sets/tuples become arrays, maps/objects become objects.
///
/// `None` when anything inside is unknown, or is an infinity (JSON has no
/// way to say either). Integers within i64/u64 stay exact; other numbers
/// become the nearest f64, since `serde_json::Value` holds nothing finer.
pub fn to_json_value(value: &Value) -> Option<serde_json::Value> {
    use serde_json::Value as Json;
    Some(match value.unwrap_dynamic() {
        Value::Unknown => return None,
        Value::Null => Json::Null,
        Value::Bool(flag) => Json::Bool(*flag),
        Value::String(text) => Json::String(text.clone()),
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                Json::from(integer)
            } else if let Some(integer) = number.as_u64() {
                Json::from(integer)
            } else {
                Json::Number(serde_json::Number::from_f64(number.as_f64())?)
            }
        }
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => Json::Array(
            items
                .iter()
                .map(to_json_value)
                .collect::<Option<Vec<_>>>()?,
        ),
        Value::Map(entries) | Value::Object(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, item)| Some((key.clone(), to_json_value(item)?)))
                .collect::<Option<_>>()?,
        ),
        // unwrap_dynamic never yields a wrapper; kept for exhaustiveness.
        Value::Dynamic(_, inner) => return to_json_value(inner),
    })
}

/// The value of type `ty` described by plain JSON data (the inverse of
/// [`to_json_value`]). Where `ty` is `dynamic` the type is inferred from the
/// data: objects become objects, arrays become tuples. Attributes the type
/// does not have are an error; missing ones are null.
pub fn from_json_value(json: &serde_json::Value, ty: &Type) -> Result<Value, DecodeError> {
    Decoder::new(Rules::PLAIN).value(json, ty)
}

impl Node for &serde_json::Value {
    fn shape(&self) -> Result<Shape<Self>, &'static str> {
        use serde_json::Value as Json;
        Ok(match self {
            Json::Null => Shape::Null,
            Json::Bool(flag) => Shape::Bool(*flag),
            Json::Number(number) => Shape::Number(number.to_string()),
            Json::String(text) => Shape::String(text.clone()),
            Json::Array(items) => Shape::Array(items.iter().collect()),
            Json::Object(entries) => {
                Shape::Object(entries.iter().map(|(k, v)| (k.clone(), v)).collect())
            }
        })
    }

    fn to_type(&self) -> Result<Type, TypeParseError> {
        Type::from_json_value(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Number;
    use serde_json::json;

    fn num(text: &str) -> Value {
        Value::Number(Number::parse(text).unwrap())
    }

    #[test]
    fn serde_values_convert_both_ways() {
        let ty = Type::object([
            ("id", Type::String),
            ("count", Type::Number),
            ("ratio", Type::Number),
            ("labels", Type::map(Type::String)),
            ("ids", Type::set(Type::String)),
            ("extra", Type::Dynamic),
            ("absent", Type::Bool),
        ]);
        let json = json!({
            "id": "k-1",
            "count": 3,
            "ratio": 0.1,
            "labels": {"env": "prod"},
            "ids": ["a", "b"],
            "extra": {"x": [1, "y", null]},
        });
        let value = from_json_value(&json, &ty).unwrap();
        assert_eq!(value.get("ratio"), Some(&num("0.1")));
        assert!(value.get("absent").is_some_and(Value::is_null));
        let extra = value.get("extra").unwrap();
        assert_eq!(
            extra.implied_type(),
            Some(Type::object([(
                "x",
                Type::Tuple(vec![Type::Number, Type::String, Type::Dynamic])
            )]))
        );
        let mut expected = json.clone();
        expected["absent"] = serde_json::Value::Null;
        assert_eq!(to_json_value(&value), Some(expected));
        assert_eq!(to_json_value(&Value::list([Value::Unknown])), None);
        assert!(from_json_value(&json!({"nope": 1}), &ty).is_err());
        assert_eq!(
            to_json_value(&num("12345678901234567890")),
            Some(json!(12345678901234567890u64))
        );
    }

    mod properties {
        use super::*;
        use crate::value::arbitrary;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn plain_json_values_never_panic(
                (ty, value) in arbitrary::typed_value(false),
                other in arbitrary::ty(),
            ) {
                if let Some(json) = to_json_value(&value) {
                    let _ = from_json_value(&json, &ty);
                    let _ = from_json_value(&json, &other);
                }
            }
        }
    }
}
