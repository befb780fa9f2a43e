//! Writing go-cty's JSON, byte for byte as go-cty writes it.

use std::fmt::Write as _;

use crate::value::{EncodeError, NULL, PathStep, Type, Value, Walk, Walker};

/// Encodes `value` as go-cty's JSON for type `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder {
        output: String::new(),
        walk: Walk::default(),
    };
    encoder.value(value, ty)?;
    Ok(encoder.output.into_bytes())
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
