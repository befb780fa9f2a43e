//! The JSON half of `DynamicValue` and Terraform's JSON resource state,
//! laid out as go-cty's `cty/json` package lays them out, plus conversions
//! between [`Value`] and plain `serde_json::Value` data for providers.
//!
//! Wire facts (from go-cty):
//! - JSON has no unknowns: encoding one is an error.
//! - numbers are written in plain decimal notation (`0.0000001`, never
//!   `1e-7`) and read exactly: the raw number text is kept, never squeezed
//!   through f64.
//! - like go-cty, strings are accepted where numbers or bools are expected
//!   (`"12"`, `"true"`), and numbers or bools where strings are.
//! - a known value under the `dynamic` type is `{"value":…,"type":…}`.
//! - object attributes are written in sorted order; attributes missing from
//!   the input decode as null.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::value::RawValue;

use super::value::{
    AttributePath, NULL, Number, PathStep, Type, TypeParseError, Value, Walk, Walker,
};
pub use super::value::{DecodeError, EncodeError};

/// Decodes `DynamicValue.json` bytes as a value of type `ty`. Attributes the
/// type does not have are an error.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    decode_document(bytes, ty, Rules::WIRE)
}

/// Decodes raw resource state (`UpgradeResourceState`'s `RawState.json`)
/// as a value of type `ty`. State written by an older schema may hold
/// attributes the current one lacks; they are dropped. Missing attributes
/// are null.
pub fn decode_state(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    decode_document(bytes, ty, Rules::STATE)
}

/// Encodes `value` as go-cty's JSON for type `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder {
        output: String::new(),
        walk: Walk::default(),
    };
    encoder.value(value, ty)?;
    Ok(encoder.output.into_bytes())
}

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

fn decode_document(bytes: &[u8], ty: &Type, rules: Rules) -> Result<Value, DecodeError> {
    let root_error = |detail: String| DecodeError::Malformed {
        path: AttributePath::root(),
        detail,
    };
    let text =
        std::str::from_utf8(bytes).map_err(|_| root_error("input is not UTF-8".to_owned()))?;
    // Parsing into a RawValue validates the whole document (without
    // recursion) and keeps every number's exact text.
    let document: &RawValue = serde_json::from_str(text).map_err(|error| {
        // serde_json's own message could quote the input; position only.
        root_error(format!(
            "invalid JSON at line {} column {}",
            error.line(),
            error.column()
        ))
    })?;
    Decoder::new(rules).value(document, ty)
}

/// How lenient decoding is.
#[derive(Clone, Copy)]
struct Rules {
    /// Drop object attributes the type lacks instead of failing.
    drop_unknown_attributes: bool,
    /// `dynamic` values carry their type in a `{"value","type"}` wrapper;
    /// otherwise the type is inferred from the data.
    wrapped_dynamic: bool,
}

impl Rules {
    const WIRE: Rules = Rules {
        drop_unknown_attributes: false,
        wrapped_dynamic: true,
    };
    const STATE: Rules = Rules {
        drop_unknown_attributes: true,
        wrapped_dynamic: true,
    };
    const PLAIN: Rules = Rules {
        drop_unknown_attributes: false,
        wrapped_dynamic: false,
    };
}

/// One level of a JSON document, children still undecoded.
enum Shape<N> {
    Null,
    Bool(bool),
    /// The number's literal text, exactly as written.
    Number(String),
    String(String),
    Array(Vec<N>),
    Object(Vec<(String, N)>),
}

impl<N> Shape<N> {
    fn kind(&self) -> &'static str {
        match self {
            Shape::Null => "null",
            Shape::Bool(_) => "bool",
            Shape::Number(_) => "number",
            Shape::String(_) => "string",
            Shape::Array(_) => "array",
            Shape::Object(_) => "object",
        }
    }
}

/// A JSON document the decoder can walk: raw wire text or parsed data.
trait Node: Sized {
    /// `Err` carries a detail text that never quotes the input.
    fn shape(&self) -> Result<Shape<Self>, &'static str>;
    fn to_type(&self) -> Result<Type, TypeParseError>;
}

impl<'a> Node for &'a RawValue {
    fn shape(&self) -> Result<Shape<Self>, &'static str> {
        // The whole document was validated up front, so these parses of
        // its parts cannot fail in practice.
        let text: &'a str = self.get();
        let unreadable = |_| "unreadable JSON value";
        Ok(match text.as_bytes().first() {
            Some(b'n') => Shape::Null,
            Some(b't') => Shape::Bool(true),
            Some(b'f') => Shape::Bool(false),
            Some(b'"') => Shape::String(serde_json::from_str(text).map_err(unreadable)?),
            Some(b'[') => Shape::Array(serde_json::from_str(text).map_err(unreadable)?),
            Some(b'{') => {
                // Later duplicates win, as in go-cty.
                let entries: BTreeMap<String, &'a RawValue> =
                    serde_json::from_str(text).map_err(unreadable)?;
                Shape::Object(entries.into_iter().collect())
            }
            Some(b'-' | b'0'..=b'9') => Shape::Number(text.to_owned()),
            _ => return Err("unreadable JSON value"),
        })
    }

    fn to_type(&self) -> Result<Type, TypeParseError> {
        Type::from_json(self.get().as_bytes())
    }
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

struct Decoder {
    rules: Rules,
    walk: Walk,
}

impl Walker for Decoder {
    fn walk(&mut self) -> &mut Walk {
        &mut self.walk
    }
}

impl Decoder {
    fn new(rules: Rules) -> Decoder {
        Decoder {
            rules,
            walk: Walk::default(),
        }
    }

    fn malformed(&self, detail: &str) -> DecodeError {
        DecodeError::Malformed {
            path: self.walk.path(),
            detail: detail.to_owned(),
        }
    }

    fn mismatch<N>(&self, expected: &Type, found: &Shape<N>) -> DecodeError {
        DecodeError::TypeMismatch {
            path: self.walk.path(),
            expected: expected.to_string(),
            found: found.kind(),
        }
    }

    fn number(&self, text: &str) -> Result<Number, DecodeError> {
        Number::parse(text).map_err(|source| DecodeError::InvalidNumber {
            path: self.walk.path(),
            source,
        })
    }

    fn value<N: Node>(&mut self, node: N, ty: &Type) -> Result<Value, DecodeError> {
        self.deeper(|d| d.value_at_depth(node, ty))
    }

    fn value_at_depth<N: Node>(&mut self, node: N, ty: &Type) -> Result<Value, DecodeError> {
        let shape = node.shape().map_err(|detail| self.malformed(detail))?;
        match (ty, shape) {
            (_, Shape::Null) => Ok(Value::Null),
            (Type::Dynamic, shape) if self.rules.wrapped_dynamic => self.wrapped_dynamic(shape),
            (Type::Dynamic, shape) => {
                let (ty, value) = self.implied(shape)?;
                Ok(Value::Dynamic(ty, Box::new(value)))
            }
            (Type::String, Shape::String(text) | Shape::Number(text)) => Ok(Value::String(text)),
            (Type::String, Shape::Bool(flag)) => Ok(Value::String(flag.to_string())),
            (Type::Number, Shape::Number(text) | Shape::String(text)) => {
                self.number(&text).map(Value::Number)
            }
            (Type::Bool, Shape::Bool(flag)) => Ok(Value::Bool(flag)),
            (Type::Bool, Shape::String(text)) => match text.as_str() {
                "true" | "1" => Ok(Value::Bool(true)),
                "false" | "0" => Ok(Value::Bool(false)),
                _ => {
                    Err(self.malformed("a bool written as a string must be \"true\" or \"false\""))
                }
            },
            (Type::List(element), Shape::Array(items)) => {
                self.elements(items, element).map(Value::List)
            }
            (Type::Set(element), Shape::Array(items)) => {
                self.elements(items, element).map(Value::Set)
            }
            (Type::Tuple(elements), Shape::Array(items)) => {
                if items.len() != elements.len() {
                    return Err(DecodeError::TupleLength {
                        path: self.walk.path(),
                        expected: elements.len(),
                        found: items.len(),
                    });
                }
                (0u64..)
                    .zip(items.into_iter().zip(elements))
                    .map(|(index, (item, ty))| {
                        self.at(PathStep::Index(index), |d| d.value(item, ty))
                    })
                    .collect::<Result<_, _>>()
                    .map(Value::Tuple)
            }
            (Type::Map(element), Shape::Object(entries)) => entries
                .into_iter()
                .map(|(key, item)| {
                    let value = self.at(PathStep::Key(key.clone()), |d| d.value(item, element))?;
                    Ok((key, value))
                })
                .collect::<Result<_, _>>()
                .map(Value::Map),
            (Type::Object(attributes), Shape::Object(entries)) => self.object(entries, attributes),
            (ty, shape) => Err(self.mismatch(ty, &shape)),
        }
    }

    fn elements<N: Node>(
        &mut self,
        items: Vec<N>,
        element: &Type,
    ) -> Result<Vec<Value>, DecodeError> {
        (0u64..)
            .zip(items)
            .map(|(index, item)| self.at(PathStep::Index(index), |d| d.value(item, element)))
            .collect()
    }

    fn object<N: Node>(
        &mut self,
        entries: Vec<(String, N)>,
        attributes: &BTreeMap<String, Type>,
    ) -> Result<Value, DecodeError> {
        let mut values = BTreeMap::new();
        for (name, item) in entries {
            let Some(ty) = attributes.get(&name) else {
                if self.rules.drop_unknown_attributes {
                    continue;
                }
                return Err(DecodeError::UnexpectedAttribute {
                    path: self.walk.path(),
                    name,
                });
            };
            let value = self.at(PathStep::Attribute(name.clone()), |d| d.value(item, ty))?;
            values.insert(name, value);
        }
        for name in attributes.keys() {
            if !values.contains_key(name) {
                values.insert(name.clone(), Value::Null);
            }
        }
        Ok(Value::Object(values))
    }

    /// go-cty's `{"value":…,"type":…}` (either order, both required).
    fn wrapped_dynamic<N: Node>(&mut self, shape: Shape<N>) -> Result<Value, DecodeError> {
        let Shape::Object(entries) = shape else {
            return Err(self.mismatch(&Type::Dynamic, &shape));
        };
        let (mut ty, mut body) = (None, None);
        for (key, item) in entries {
            match key.as_str() {
                "type" => {
                    let parsed =
                        item.to_type()
                            .map_err(|source| DecodeError::InvalidDynamicType {
                                path: self.walk.path(),
                                source,
                            })?;
                    ty = Some(parsed);
                }
                "value" => body = Some(item),
                _ => {
                    return Err(
                        self.malformed("dynamic value may only have \"value\" and \"type\"")
                    );
                }
            }
        }
        let (Some(ty), Some(body)) = (ty, body) else {
            return Err(self.malformed("dynamic value needs both \"value\" and \"type\""));
        };
        let value = self.value(body, &ty)?;
        Ok(Value::Dynamic(ty, Box::new(value)))
    }

    /// Type and value of plain data, as go-cty's implied-type rules see it:
    /// arrays are tuples, objects are objects, null is a dynamic null.
    fn implied<N: Node>(&mut self, shape: Shape<N>) -> Result<(Type, Value), DecodeError> {
        Ok(match shape {
            Shape::Null => (Type::Dynamic, Value::Null),
            Shape::Bool(flag) => (Type::Bool, Value::Bool(flag)),
            Shape::Number(text) => (Type::Number, Value::Number(self.number(&text)?)),
            Shape::String(text) => (Type::String, Value::String(text)),
            Shape::Array(items) => {
                let mut types = Vec::with_capacity(items.len());
                let mut values = Vec::with_capacity(items.len());
                for (index, item) in (0u64..).zip(items) {
                    let (ty, value) = self.at(PathStep::Index(index), |d| d.implied_node(item))?;
                    types.push(ty);
                    values.push(value);
                }
                (Type::Tuple(types), Value::Tuple(values))
            }
            Shape::Object(entries) => {
                let mut types = BTreeMap::new();
                let mut values = BTreeMap::new();
                for (name, item) in entries {
                    let step = PathStep::Attribute(name.clone());
                    let (ty, value) = self.at(step, |d| d.implied_node(item))?;
                    types.insert(name.clone(), ty);
                    values.insert(name, value);
                }
                (Type::Object(types), Value::Object(values))
            }
        })
    }

    fn implied_node<N: Node>(&mut self, node: N) -> Result<(Type, Value), DecodeError> {
        self.deeper(|d| {
            let shape = node.shape().map_err(|detail| d.malformed(detail))?;
            d.implied(shape)
        })
    }
}

struct Encoder {
    output: String,
    walk: Walk,
}

impl Walker for Encoder {
    fn walk(&mut self) -> &mut Walk {
        &mut self.walk
    }
}

impl Encoder {
    fn value(&mut self, value: &Value, ty: &Type) -> Result<(), EncodeError> {
        self.deeper(|e| e.value_at_depth(value, ty))
    }

    fn value_at_depth(&mut self, value: &Value, ty: &Type) -> Result<(), EncodeError> {
        if *ty == Type::Dynamic {
            return self.dynamic(value);
        }
        // A wrapper's own type is irrelevant when the slot's type is fixed.
        let value = value.unwrap_dynamic();
        match (ty, value) {
            (_, Value::Unknown) => Err(EncodeError::UnknownInJson {
                path: self.walk.path(),
            }),
            (_, Value::Null) => {
                self.output.push_str("null");
                Ok(())
            }
            (Type::String, Value::String(text)) => {
                write_string(&mut self.output, text);
                Ok(())
            }
            (Type::Number, Value::Number(number)) => {
                if number.is_infinite() {
                    return Err(EncodeError::InfinityInJson {
                        path: self.walk.path(),
                    });
                }
                // Display is already cty's plain-decimal canonical text.
                let _ = write!(self.output, "{number}");
                Ok(())
            }
            (Type::Bool, Value::Bool(flag)) => {
                self.output.push_str(if *flag { "true" } else { "false" });
                Ok(())
            }
            (
                Type::List(element) | Type::Set(element),
                Value::List(items) | Value::Set(items) | Value::Tuple(items),
            ) => self.array(items.iter().map(|item| (item, element.as_ref()))),
            (Type::Tuple(elements), Value::Tuple(items) | Value::List(items)) => {
                if elements.len() != items.len() {
                    return Err(EncodeError::TupleLength {
                        path: self.walk.path(),
                        expected: elements.len(),
                        found: items.len(),
                    });
                }
                self.array(items.iter().zip(elements))
            }
            (Type::Map(element), Value::Map(entries) | Value::Object(entries)) => self.object(
                entries
                    .iter()
                    .map(|(key, item)| (PathStep::Key(key.clone()), key, item, element.as_ref())),
            ),
            (Type::Object(attributes), Value::Object(values) | Value::Map(values)) => {
                if let Some(name) = values.keys().find(|name| !attributes.contains_key(*name)) {
                    return Err(EncodeError::UnexpectedAttribute {
                        path: self.walk.path(),
                        name: name.clone(),
                    });
                }
                // Every attribute of the type goes out; ones the caller
                // left out are null.
                self.object(attributes.iter().map(|(name, ty)| {
                    let item = values.get(name).unwrap_or(&NULL);
                    (PathStep::Attribute(name.clone()), name, item, ty)
                }))
            }
            _ => Err(EncodeError::TypeMismatch {
                path: self.walk.path(),
                expected: ty.to_string(),
                found: value.kind_name(),
            }),
        }
    }

    fn array<'v>(
        &mut self,
        items: impl Iterator<Item = (&'v Value, &'v Type)>,
    ) -> Result<(), EncodeError> {
        self.output.push('[');
        for (index, (item, ty)) in (0u64..).zip(items) {
            if index > 0 {
                self.output.push(',');
            }
            self.at(PathStep::Index(index), |e| e.value(item, ty))?;
        }
        self.output.push(']');
        Ok(())
    }

    fn object<'v>(
        &mut self,
        entries: impl Iterator<Item = (PathStep, &'v String, &'v Value, &'v Type)>,
    ) -> Result<(), EncodeError> {
        self.output.push('{');
        for (position, (step, key, item, ty)) in entries.enumerate() {
            if position > 0 {
                self.output.push(',');
            }
            write_string(&mut self.output, key);
            self.output.push(':');
            self.at(step, |e| e.value(item, ty))?;
        }
        self.output.push('}');
        Ok(())
    }

    /// Known values under `dynamic` carry their type; null does not.
    fn dynamic(&mut self, value: &Value) -> Result<(), EncodeError> {
        let (ty, inner) = match value {
            Value::Null => {
                self.output.push_str("null");
                return Ok(());
            }
            Value::Unknown => {
                return Err(EncodeError::UnknownInJson {
                    path: self.walk.path(),
                });
            }
            Value::Dynamic(ty, inner) => (ty.clone(), inner.as_ref()),
            other => match other.implied_type() {
                Some(ty) => (ty, other),
                None => {
                    return Err(EncodeError::UninferableDynamic {
                        path: self.walk.path(),
                    });
                }
            },
        };
        // go-cty writes the value first.
        self.output.push_str(r#"{"value":"#);
        self.value(inner, &ty)?;
        self.output.push_str(r#","type":"#);
        self.output.push_str(&ty.to_json().to_string());
        self.output.push('}');
        Ok(())
    }
}

/// A JSON string literal escaped the way Go's encoding/json escapes it
/// (HTML-sensitive characters and U+2028/U+2029 as `\u` sequences), so the
/// bytes match what go-cty produces.
fn write_string(output: &mut String, text: &str) {
    output.push('"');
    for c in text.chars() {
        match c {
            '"' => output.push_str("\\\""),
            '\\' => output.push_str("\\\\"),
            '\n' => output.push_str("\\n"),
            '\r' => output.push_str("\\r"),
            '\t' => output.push_str("\\t"),
            // Go 1.22 and later write these two short forms too.
            '\u{8}' => output.push_str("\\b"),
            '\u{c}' => output.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(output, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(output, "\\u{:04x}", u32::from(c));
            }
            c => output.push(c),
        }
    }
    output.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::value::MAX_NESTING;
    use super::*;
    use serde_json::json;

    fn num(text: &str) -> Value {
        Value::Number(Number::parse(text).unwrap())
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    fn round_trip(value: &Value, ty: &Type) -> String {
        let bytes = encode(value, ty).unwrap();
        let decoded = decode(&bytes, ty).unwrap();
        assert_eq!(
            &decoded,
            value,
            "value changed through {}",
            text(bytes.clone())
        );
        assert_eq!(encode(&decoded, ty).unwrap(), bytes, "bytes changed");
        text(bytes)
    }

    #[test]
    fn go_cty_layouts() {
        let ty = Type::object([
            ("b", Type::Number),
            ("a", Type::list(Type::String)),
            ("c", Type::map(Type::Bool)),
            ("d", Type::Dynamic),
        ]);
        let value = Value::object([
            ("a", Value::list([Value::from("x<y>&\"\n"), Value::Null])),
            ("b", num("1e-7")),
            (
                "c",
                Value::map([("z", Value::from(true)), ("k", Value::from(false))]),
            ),
            (
                "d",
                Value::Dynamic(Type::list(Type::Number), Box::new(Value::list([num("1")]))),
            ),
        ]);
        assert_eq!(
            round_trip(&value, &ty),
            r#"{"a":["x\u003cy\u003e\u0026\"\n",null],"b":0.0000001,"c":{"k":false,"z":true},"d":{"value":[1],"type":["list","number"]}}"#
        );
        assert_eq!(round_trip(&Value::Null, &Type::Dynamic), "null");
        assert_eq!(round_trip(&Value::Null, &ty), "null");
    }

    #[test]
    fn numbers_are_exact() {
        for (input, canonical) in [
            ("12345678901234567890123", "12345678901234567890123"),
            ("-12345678901234567890123", "-12345678901234567890123"),
            ("0.1", "0.1"),
            ("1e-7", "0.0000001"),
            ("3.14159265358979", "3.14159265358979"),
            ("1.50", "1.5"),
            ("-0", "0"),
            ("2E3", "2000"),
        ] {
            let value = decode(input.as_bytes(), &Type::Number).unwrap();
            assert_eq!(value, num(input));
            assert_eq!(text(encode(&value, &Type::Number).unwrap()), canonical);
        }
    }

    #[test]
    fn primitives_convert_like_go_cty() {
        assert_eq!(decode(br#""42.5""#, &Type::Number).unwrap(), num("42.5"));
        assert_eq!(
            decode(br#"1.50"#, &Type::String).unwrap(),
            Value::from("1.50")
        );
        assert_eq!(
            decode(br#"true"#, &Type::String).unwrap(),
            Value::from("true")
        );
        assert_eq!(
            decode(br#""false""#, &Type::Bool).unwrap(),
            Value::from(false)
        );
        assert!(decode(br#""yes""#, &Type::Bool).is_err());
        assert!(decode(br#""ten""#, &Type::Number).is_err());
        assert!(decode(br#"[1]"#, &Type::String).is_err());
    }

    #[test]
    fn unknowns_and_infinity_cannot_be_encoded() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let value = Value::object([("a", Value::list([Value::Unknown]))]);
        let err = encode(&value, &ty).unwrap_err();
        assert_eq!(
            err,
            EncodeError::UnknownInJson {
                path: vec![PathStep::Attribute("a".into()), PathStep::Index(0)].into()
            }
        );
        assert_eq!(
            err.to_string(),
            "at .a[0]: JSON cannot represent unknown values"
        );
        assert!(encode(&Value::Unknown, &Type::Dynamic).is_err());
        let infinity = Value::Number(Number::parse("-Inf").unwrap());
        assert!(matches!(
            encode(&infinity, &Type::Number),
            Err(EncodeError::InfinityInJson { .. })
        ));
    }

    #[test]
    fn nested_values_round_trip() {
        let ty = Type::object([
            ("name", Type::String),
            ("set", Type::set(Type::Number)),
            (
                "tuple",
                Type::Tuple(vec![Type::String, Type::Bool, Type::Dynamic]),
            ),
            ("objects", Type::list(Type::object([("x", Type::Number)]))),
            ("empty", Type::map(Type::String)),
            ("unicode", Type::map(Type::String)),
        ]);
        let value = Value::object([
            ("name", Value::from("tab\there \u{1} \u{2028}")),
            ("set", Value::set([num("-1"), num("0.25"), num("1e30")])),
            (
                "tuple",
                Value::Tuple(vec![Value::from("a"), Value::Null, Value::Null]),
            ),
            (
                "objects",
                Value::list([
                    Value::object([("x", num("1"))]),
                    Value::object([("x", Value::Null)]),
                ]),
            ),
            ("empty", Value::map::<String>([])),
            ("unicode", Value::map([("clé ✓", Value::from("🦀 naïve"))])),
        ]);
        round_trip(&value, &ty);
    }

    #[test]
    fn whitespace_and_escapes_are_read() {
        let ty = Type::object([("a", Type::list(Type::String)), ("n", Type::Number)]);
        let input = b" {\n \"a\" : [ \"x\\u0000\\u00e9\\ud83e\\udd80\" ] ,\t\"n\": -1.5E+2 } ";
        assert_eq!(
            decode(input, &ty).unwrap(),
            Value::object([
                ("a", Value::list([Value::from("x\u{0}é🦀")])),
                ("n", num("-150")),
            ])
        );
        let encoded = text(encode(&Value::from("\u{0}\u{1f}\u{8}\u{c}"), &Type::String).unwrap());
        assert_eq!(encoded, r#""\u0000\u001f\b\f""#);
    }

    #[test]
    fn wire_decoding_is_strict_about_attributes() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        assert_eq!(
            decode(br#"{"a":"x"}"#, &ty).unwrap(),
            Value::object([("a", Value::from("x")), ("b", Value::Null)])
        );
        let err = decode(br#"{"a":"x","gone":1}"#, &ty).unwrap_err();
        assert_eq!(err.to_string(), "at (root): unsupported attribute \"gone\"");
    }

    #[test]
    fn state_decoding_drops_attributes_the_schema_lost() {
        let ty = Type::object([
            ("id", Type::String),
            ("nested", Type::list(Type::object([("keep", Type::Bool)]))),
            ("added_later", Type::String),
        ]);
        let state = br#"{"id":"k-1","old":{"deep":[1,2]},"nested":[{"keep":true,"drop":"x"}]}"#;
        assert_eq!(
            decode_state(state, &ty).unwrap(),
            Value::object([
                ("id", Value::from("k-1")),
                (
                    "nested",
                    Value::list([Value::object([("keep", Value::from(true))])])
                ),
                ("added_later", Value::Null),
            ])
        );
        assert!(decode(state, &ty).is_err());
    }

    #[test]
    fn dynamic_wrappers() {
        let bytes = br#"{"type":["tuple",["string","number"]],"value":["a",1]}"#;
        let value = decode(bytes, &Type::Dynamic).unwrap();
        assert_eq!(
            value.implied_type(),
            Some(Type::Tuple(vec![Type::String, Type::Number]))
        );
        assert_eq!(
            text(encode(&value, &Type::Dynamic).unwrap()),
            r#"{"value":["a",1],"type":["tuple",["string","number"]]}"#
        );
        for bad in [
            r#"{"value":1}"#,
            r#"{"type":"number"}"#,
            r#"{"type":"number","value":1,"extra":true}"#,
            r#"{"type":"numbr","value":1}"#,
            r#"[1]"#,
        ] {
            assert!(decode(bad.as_bytes(), &Type::Dynamic).is_err(), "{bad}");
        }
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

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let good = br#"{"a":["x","y"]}"#;
        for cut in 0..good.len() {
            assert!(decode(&good[..cut], &ty).is_err(), "cut at {cut}");
        }
        for bad in [
            &b"\xff"[..],
            br#"{"a":["x"]} trailing"#,
            br#"{"a":"x"}"#,
            br#"{"a":[{}]}"#,
            br#"{"a":[01]}"#,
            br#"{"a":["\ud800"]}"#,
        ] {
            assert!(
                decode(bad, &ty).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let huge = decode(br#"[1e999999]"#, &Type::list(Type::Number));
        assert!(matches!(huge, Err(DecodeError::InvalidNumber { .. })));
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let nested_list = (0..200).fold(Type::Number, |ty, _| Type::list(ty));
        assert!(matches!(
            decode(deep.as_bytes(), &nested_list),
            Err(DecodeError::TooDeep { .. })
        ));
        let deep_dynamic = format!(
            "{}1{}",
            r#"{"type":"dynamic","value":"#.repeat(1000),
            "}".repeat(1000)
        );
        assert!(decode(deep_dynamic.as_bytes(), &Type::Dynamic).is_err());
    }

    #[test]
    fn both_codecs_share_one_nesting_limit() {
        let wrap = |levels: usize| {
            let ty = (0..levels).fold(Type::Number, |ty, _| Type::list(ty));
            let value = (0..levels).fold(num("1"), |value, _| Value::list([value]));
            (ty, value)
        };
        let (ty, value) = wrap(MAX_NESTING - 1);
        let json = encode(&value, &ty).unwrap();
        assert_eq!(decode(&json, &ty).unwrap(), value);
        let packed = super::super::msgpack::encode(&value, &ty).unwrap();
        assert_eq!(super::super::msgpack::decode(&packed, &ty).unwrap(), value);
        let plain = to_json_value(&value).unwrap();
        assert_eq!(from_json_value(&plain, &ty).unwrap(), value);

        let (ty, value) = wrap(MAX_NESTING);
        assert!(matches!(
            encode(&value, &ty),
            Err(EncodeError::TooDeep { .. })
        ));
        let plain = to_json_value(&value).unwrap();
        assert!(matches!(
            from_json_value(&plain, &Type::Dynamic),
            Err(DecodeError::TooDeep { .. })
        ));
    }

    #[test]
    fn syntax_errors_do_not_quote_the_input() {
        let err = decode(br#"{"a": "secret-value" oops}"#, &Type::map(Type::String)).unwrap_err();
        let message = err.to_string();
        assert!(!message.contains("secret"), "{message}");
        assert!(message.contains("line 1"), "{message}");
        let err = decode(br#"{"a": "secret-value"}"#, &Type::map(Type::Number)).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    mod properties {
        use super::super::super::msgpack;
        use super::super::super::value::arbitrary;
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(
                bytes in prop::collection::vec(any::<u8>(), 0..256),
                ty in arbitrary::ty(),
            ) {
                let _ = decode(&bytes, &ty);
                let _ = decode_state(&bytes, &ty);
            }

            #[test]
            fn json_like_text_never_panics(
                text in r#"[\[\]{}":, 0-9a-z.eE+\-]{0,64}"#,
                ty in arbitrary::ty(),
            ) {
                let _ = decode(text.as_bytes(), &ty);
                let _ = decode_state(text.as_bytes(), &ty);
            }

            #[test]
            fn values_round_trip((ty, value) in arbitrary::typed_value(false)) {
                let bytes = encode(&value, &ty).unwrap();
                let decoded = decode(&bytes, &ty).unwrap();
                prop_assert_eq!(&decoded, &value);
                prop_assert_eq!(encode(&decoded, &ty).unwrap(), bytes.clone());
                prop_assert_eq!(decode_state(&bytes, &ty).unwrap(), value.clone());
                // Both codecs agree on what the value is.
                let via_msgpack = msgpack::decode(&msgpack::encode(&value, &ty).unwrap(), &ty).unwrap();
                prop_assert_eq!(via_msgpack, decoded);
            }

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
