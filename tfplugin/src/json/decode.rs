//! Reading go-cty's JSON: the wire `DynamicValue.json`, raw resource
//! state, and (through [`Node`]) plain parsed JSON data for the serde
//! bridge.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::value::{
    AttrPath, DecodeError, Number, PathStep, Type, TypeParseError, Value, Walk, Walker,
};

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

fn decode_document(bytes: &[u8], ty: &Type, rules: Rules) -> Result<Value, DecodeError> {
    let root_error = |detail: String| DecodeError::Malformed {
        path: AttrPath::empty(),
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
pub(super) struct Rules {
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
    pub(super) const PLAIN: Rules = Rules {
        drop_unknown_attributes: false,
        wrapped_dynamic: false,
    };
}

/// One level of a JSON document, children still undecoded.
pub(super) enum Shape<N> {
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
pub(super) trait Node: Sized {
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

pub(super) struct Decoder {
    rules: Rules,
    walk: Walk,
}

impl Walker for Decoder {
    fn walk(&mut self) -> &mut Walk {
        &mut self.walk
    }
}

impl Decoder {
    pub(super) fn new(rules: Rules) -> Decoder {
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

    pub(super) fn value<N: Node>(&mut self, node: N, ty: &Type) -> Result<Value, DecodeError> {
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
