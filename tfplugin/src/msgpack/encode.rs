//! Writing go-cty's msgpack, byte for byte as go-cty writes it.

use crate::value::{EncodeError, NULL, Number, PathStep, Type, Value, Walk, Walker};

/// Extension type of an unknown value without refinements.
const UNKNOWN_EXTENSION: i8 = 0;

/// Encodes `value` as a value of type `ty`, byte for byte as go-cty would.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder {
        output: Vec::new(),
        walk: Walk::default(),
    };
    encoder.value(value, ty)?;
    Ok(encoder.output)
}

struct Encoder {
    output: Vec<u8>,
    walk: Walk,
}

impl Walker for Encoder {
    fn walk(&mut self) -> &mut Walk {
        &mut self.walk
    }
}

impl Encoder {
    /// Writing into a Vec cannot fail; the error is kept only to avoid
    /// unwrapping rmp's results.
    fn write_failed<E: std::fmt::Display>(&self, error: E) -> EncodeError {
        EncodeError::Write {
            path: self.walk.path(),
            detail: format!("msgpack write failed: {error}"),
        }
    }

    fn mismatch(&self, expected: &Type, value: &Value) -> EncodeError {
        EncodeError::TypeMismatch {
            path: self.walk.path(),
            expected: expected.to_string(),
            found: value.kind_name(),
        }
    }

    fn length(&self, len: usize) -> Result<u32, EncodeError> {
        u32::try_from(len).map_err(|_| EncodeError::Write {
            path: self.walk.path(),
            detail: "too long for msgpack".to_owned(),
        })
    }

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
            (_, Value::Unknown) => self.unknown(),
            (_, Value::Null) => self.nil(),
            (Type::String, Value::String(text)) => self.string(text),
            (Type::Number, Value::Number(number)) => self.number(number),
            (Type::Bool, Value::Bool(flag)) => {
                rmp::encode::write_bool(&mut self.output, *flag).map_err(|e| self.write_failed(e))
            }
            (
                Type::List(element) | Type::Set(element),
                Value::List(items) | Value::Set(items) | Value::Tuple(items),
            ) => {
                self.array_len(items.len())?;
                for (index, item) in (0u64..).zip(items) {
                    self.at(PathStep::Index(index), |e| e.value(item, element))?;
                }
                Ok(())
            }
            (Type::Tuple(elements), Value::Tuple(items) | Value::List(items)) => {
                if elements.len() != items.len() {
                    return Err(EncodeError::TupleLength {
                        path: self.walk.path(),
                        expected: elements.len(),
                        found: items.len(),
                    });
                }
                self.array_len(items.len())?;
                for ((index, item), element) in (0u64..).zip(items).zip(elements) {
                    self.at(PathStep::Index(index), |e| e.value(item, element))?;
                }
                Ok(())
            }
            (Type::Map(element), Value::Map(entries) | Value::Object(entries)) => {
                self.map_len(entries.len())?;
                for (key, item) in entries {
                    self.string(key)?;
                    self.at(PathStep::Key(key.clone()), |e| e.value(item, element))?;
                }
                Ok(())
            }
            (Type::Object(attributes), Value::Object(values) | Value::Map(values)) => {
                if let Some(name) = values.keys().find(|name| !attributes.contains_key(*name)) {
                    return Err(EncodeError::UnexpectedAttribute {
                        path: self.walk.path(),
                        name: name.clone(),
                    });
                }
                // Every attribute of the type goes out, in sorted order;
                // ones the caller left out are null.
                self.map_len(attributes.len())?;
                for (name, attribute_type) in attributes {
                    self.string(name)?;
                    let item = values.get(name).unwrap_or(&NULL);
                    self.at(PathStep::Attribute(name.clone()), |e| {
                        e.value(item, attribute_type)
                    })?;
                }
                Ok(())
            }
            _ => Err(self.mismatch(ty, value)),
        }
    }

    /// Known values under `dynamic` carry their type; null and unknown do
    /// not, exactly as go-cty writes them.
    fn dynamic(&mut self, value: &Value) -> Result<(), EncodeError> {
        let (ty, inner) = match value {
            Value::Null => return self.nil(),
            Value::Unknown => return self.unknown(),
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
        self.array_len(2)?;
        rmp::encode::write_bin(&mut self.output, &ty.to_json_bytes())
            .map_err(|e| self.write_failed(e))?;
        self.value(inner, &ty)
    }

    /// go-cty's "totally unknown": extension 0 with a single zero byte,
    /// the most compact extension msgpack has.
    fn unknown(&mut self) -> Result<(), EncodeError> {
        rmp::encode::write_ext_meta(&mut self.output, 1, UNKNOWN_EXTENSION)
            .map_err(|e| self.write_failed(e))?;
        self.output.push(0);
        Ok(())
    }

    fn nil(&mut self) -> Result<(), EncodeError> {
        rmp::encode::write_nil(&mut self.output).map_err(|e| self.write_failed(e))
    }

    fn string(&mut self, text: &str) -> Result<(), EncodeError> {
        self.length(text.len())?;
        rmp::encode::write_str(&mut self.output, text).map_err(|e| self.write_failed(e))
    }

    fn number(&mut self, number: &Number) -> Result<(), EncodeError> {
        if let Some(integer) = number.as_i64() {
            return rmp::encode::write_sint(&mut self.output, integer)
                .map(drop)
                .map_err(|e| self.write_failed(e));
        }
        // go-cty sends float64 only for infinities and for fractions a
        // float64 holds exactly; big integers and inexact fractions go as
        // decimal text so no precision is lost.
        if (number.is_infinite() || !number.is_integer())
            && let Some(float) = number.to_exact_f64()
        {
            return rmp::encode::write_f64(&mut self.output, float)
                .map_err(|e| self.write_failed(e));
        }
        self.string(&number.to_string())
    }

    fn array_len(&mut self, len: usize) -> Result<(), EncodeError> {
        let len = self.length(len)?;
        rmp::encode::write_array_len(&mut self.output, len)
            .map(drop)
            .map_err(|e| self.write_failed(e))
    }

    fn map_len(&mut self, len: usize) -> Result<(), EncodeError> {
        let len = self.length(len)?;
        rmp::encode::write_map_len(&mut self.output, len)
            .map(drop)
            .map_err(|e| self.write_failed(e))
    }
}
