//! cty types, and the type JSON Terraform describes them with.

use std::collections::BTreeMap;
use std::fmt;

/// A cty type, as described by Terraform's type JSON (`"string"`,
/// `["list","string"]`, `["object",{"a":"number"}]`, ...).
///
/// Optional-attribute markers (the third element of an object type) are
/// accepted by [`Type::from_json`] but not kept: they only influence type
/// conversion inside Terraform, never how values are encoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `string`.
    String,
    /// `number`: exact decimals.
    Number,
    /// `bool`.
    Bool,
    /// cty's `DynamicPseudoType`: the concrete type travels with the value.
    Dynamic,
    /// A list of this element type.
    List(Box<Type>),
    /// A set of this element type.
    Set(Box<Type>),
    /// A map from strings to this element type.
    Map(Box<Type>),
    /// An object with these attribute names and types.
    Object(BTreeMap<String, Type>),
    /// A tuple with these element types, in order.
    Tuple(Vec<Type>),
}

/// Why a type description could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TypeParseError {
    /// The bytes are not JSON at all.
    #[error("type description is not valid JSON")]
    Syntax,
    /// JSON, but not a type description; the text says what is wrong.
    #[error("invalid type description: {0}")]
    Invalid(&'static str),
}

impl Type {
    /// A list of `element`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// A set of `element`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// A map of `element`.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// An object type from its attribute names and types.
    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(
            attributes
                .into_iter()
                .map(|(name, ty)| (name.into(), ty))
                .collect(),
        )
    }

    /// The cty type JSON for this type, e.g. `["list","string"]`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        let kind_and = |kind: &str, inner: Json| Json::Array(vec![Json::from(kind), inner]);
        match self {
            Type::String => Json::from("string"),
            Type::Number => Json::from("number"),
            Type::Bool => Json::from("bool"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(element) => kind_and("list", element.to_json()),
            Type::Set(element) => kind_and("set", element.to_json()),
            Type::Map(element) => kind_and("map", element.to_json()),
            Type::Object(attributes) => {
                let attributes = attributes
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_json()))
                    .collect();
                kind_and("object", Json::Object(attributes))
            }
            Type::Tuple(elements) => kind_and(
                "tuple",
                Json::Array(elements.iter().map(Type::to_json).collect()),
            ),
        }
    }

    /// The compact cty type JSON bytes, as carried in schemas and in the
    /// dynamic-value wrappers of both codecs.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        self.to_json().to_string().into_bytes()
    }

    /// Parses cty type JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Type, TypeParseError> {
        // serde_json's nesting limit also bounds the recursion below.
        let json: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|_| TypeParseError::Syntax)?;
        Type::from_json_value(&json)
    }

    /// Interprets an already parsed cty type JSON document.
    pub fn from_json_value(json: &serde_json::Value) -> Result<Type, TypeParseError> {
        use serde_json::Value as Json;
        let invalid = TypeParseError::Invalid;
        match json {
            Json::String(name) => match name.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                _ => Err(invalid("unknown primitive type name")),
            },
            Json::Array(parts) => {
                let Some(Json::String(kind)) = parts.first() else {
                    return Err(invalid("complex type must start with its kind name"));
                };
                let rest = &parts[1..];
                match (kind.as_str(), rest) {
                    ("list", [element]) => Ok(Type::list(Type::from_json_value(element)?)),
                    ("set", [element]) => Ok(Type::set(Type::from_json_value(element)?)),
                    ("map", [element]) => Ok(Type::map(Type::from_json_value(element)?)),
                    ("object", [Json::Object(attributes)]) => object_from_json(attributes),
                    ("object", [Json::Object(attributes), Json::Array(optional)]) => {
                        if !optional.iter().all(Json::is_string) {
                            return Err(invalid("optional attribute names must be strings"));
                        }
                        object_from_json(attributes)
                    }
                    ("tuple", [Json::Array(elements)]) => elements
                        .iter()
                        .map(Type::from_json_value)
                        .collect::<Result<_, _>>()
                        .map(Type::Tuple),
                    ("list" | "set" | "map" | "object" | "tuple", _) => {
                        Err(invalid("wrong shape for this kind of type"))
                    }
                    _ => Err(invalid("unknown complex type kind")),
                }
            }
            _ => Err(invalid("type must be a string or an array")),
        }
    }
}

fn object_from_json(
    attributes: &serde_json::Map<String, serde_json::Value>,
) -> Result<Type, TypeParseError> {
    attributes
        .iter()
        .map(|(name, ty)| Ok((name.clone(), Type::from_json_value(ty)?)))
        .collect::<Result<_, _>>()
        .map(Type::Object)
}

/// Short human description used in error texts ("list of string").
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(element) => write!(f, "list of {element}"),
            Type::Set(element) => write!(f, "set of {element}"),
            Type::Map(element) => write!(f, "map of {element}"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip_through_json() {
        for text in [
            r#""string""#,
            r#""dynamic""#,
            r#"["list","number"]"#,
            r#"["set",["map","bool"]]"#,
            r#"["object",{"a":"number","b":["tuple",["string","dynamic"]]}]"#,
            r#"["tuple",[]]"#,
        ] {
            let ty = Type::from_json(text.as_bytes()).unwrap();
            assert_eq!(String::from_utf8(ty.to_json_bytes()).unwrap(), text);
        }
    }

    #[test]
    fn object_types_accept_optional_attribute_markers() {
        let ty = Type::from_json(br#"["object",{"a":"string","b":"number"},["b"]]"#).unwrap();
        assert_eq!(ty, Type::object([("a", Type::String), ("b", Type::Number)]));
    }

    #[test]
    fn bad_types_are_rejected() {
        for bad in [
            "",
            "[",
            r#""str""#,
            "42",
            r#"["list"]"#,
            r#"["list","string","string"]"#,
            r#"["object",["a"]]"#,
            r#"["object",{"a":"string"},[1]]"#,
            r#"["tuple","string"]"#,
            r#"["frob","string"]"#,
            r#"[1,"string"]"#,
        ] {
            assert!(Type::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
