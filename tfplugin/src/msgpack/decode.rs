//! Reading go-cty's msgpack, including the unknowns Terraform refines.

use std::collections::BTreeMap;

use rmp::Marker;

use crate::value::{DecodeError, Number, PathStep, Type, Value, Walk, Walker};

/// Extension type of an unknown value with a refinement payload.
const REFINED_UNKNOWN_EXTENSION: i8 = 0x0c;
/// go-cty rejects larger refinement payloads as abusive; so do we.
const MAX_REFINEMENT_LEN: u32 = 1024;

/// Decodes `DynamicValue.msgpack` bytes as a value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut decoder = Decoder {
        input: bytes,
        walk: Walk::default(),
    };
    let value = decoder.value(ty)?;
    match decoder.input.len() {
        0 => Ok(value),
        count => Err(DecodeError::TrailingData { count }),
    }
}

struct Decoder<'a> {
    /// The bytes not consumed yet; rmp's readers advance this slice.
    input: &'a [u8],
    walk: Walk,
}

impl Walker for Decoder<'_> {
    fn walk(&mut self) -> &mut Walk {
        &mut self.walk
    }
}

/// What a marker announces, named for error texts.
fn marker_kind(marker: Marker) -> &'static str {
    match marker {
        Marker::Null => "nil",
        Marker::True | Marker::False => "bool",
        Marker::FixPos(_)
        | Marker::FixNeg(_)
        | Marker::U8
        | Marker::U16
        | Marker::U32
        | Marker::U64
        | Marker::I8
        | Marker::I16
        | Marker::I32
        | Marker::I64 => "integer",
        Marker::F32 | Marker::F64 => "float",
        Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => "string",
        Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => "binary",
        Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => "array",
        Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => "map",
        Marker::FixExt1
        | Marker::FixExt2
        | Marker::FixExt4
        | Marker::FixExt8
        | Marker::FixExt16
        | Marker::Ext8
        | Marker::Ext16
        | Marker::Ext32 => "extension",
        Marker::Reserved => "reserved byte 0xc1",
    }
}

fn is_extension(marker: Marker) -> bool {
    matches!(
        marker,
        Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32
    )
}

impl<'a> Decoder<'a> {
    fn malformed(&self, detail: impl Into<String>) -> DecodeError {
        DecodeError::Malformed {
            path: self.walk.path(),
            detail: detail.into(),
        }
    }

    /// rmp's errors only ever mean "ran out of bytes" here: markers are
    /// checked before any rmp reader is called.
    fn truncated<E>(&self, _: E) -> DecodeError {
        self.malformed("unexpected end of input")
    }

    fn mismatch(&self, expected: &Type, marker: Marker) -> DecodeError {
        DecodeError::TypeMismatch {
            path: self.walk.path(),
            expected: expected.to_string(),
            found: marker_kind(marker),
        }
    }

    fn peek(&self) -> Result<Marker, DecodeError> {
        match self.input.first() {
            Some(&byte) => Ok(Marker::from_u8(byte)),
            None => Err(self.malformed("unexpected end of input")),
        }
    }

    fn take(&mut self, len: u32) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(len).map_err(|e| self.truncated(e))?;
        if len > self.input.len() {
            return Err(self.malformed("unexpected end of input"));
        }
        let (taken, rest) = self.input.split_at(len);
        self.input = rest;
        Ok(taken)
    }

    fn value(&mut self, ty: &Type) -> Result<Value, DecodeError> {
        self.deeper(|d| d.value_at_depth(ty))
    }

    fn value_at_depth(&mut self, ty: &Type) -> Result<Value, DecodeError> {
        let marker = self.peek()?;
        // Extensions come first: an unknown can stand in for any type,
        // including `dynamic`.
        if is_extension(marker) {
            return self.unknown();
        }
        if marker == Marker::Null {
            self.take(1)?;
            return Ok(Value::Null);
        }
        match ty {
            Type::Dynamic => self.dynamic(marker),
            Type::String => self.string(ty).map(Value::String),
            Type::Number => self.number(marker),
            Type::Bool => match marker {
                Marker::True | Marker::False => rmp::decode::read_bool(&mut self.input)
                    .map(Value::Bool)
                    .map_err(|e| self.truncated(e)),
                _ => Err(self.mismatch(ty, marker)),
            },
            Type::List(element) => self.sequence(ty, element).map(Value::List),
            Type::Set(element) => self.sequence(ty, element).map(Value::Set),
            Type::Map(element) => self.map(ty, element),
            Type::Object(attributes) => self.object(ty, attributes),
            Type::Tuple(elements) => self.tuple(ty, elements),
        }
    }

    fn unknown(&mut self) -> Result<Value, DecodeError> {
        let meta = rmp::decode::read_ext_meta(&mut self.input).map_err(|e| self.truncated(e))?;
        let payload = self.take(meta.size)?;
        if meta.size <= 1 {
            return Ok(Value::Unknown);
        }
        if meta.typeid != REFINED_UNKNOWN_EXTENSION {
            return Err(self.malformed(format!(
                "unsupported extension type {} of {} bytes",
                meta.typeid, meta.size
            )));
        }
        if meta.size > MAX_REFINEMENT_LEN {
            return Err(self.malformed("oversize unknown value refinement"));
        }
        // Refinements are dropped, but like go-cty we insist the payload is
        // at least shaped as a map.
        let mut payload = payload;
        rmp::decode::read_map_len(&mut payload)
            .map_err(|_| self.malformed("unknown value refinement is not a map"))?;
        Ok(Value::Unknown)
    }

    fn dynamic(&mut self, marker: Marker) -> Result<Value, DecodeError> {
        if self.array_len(&Type::Dynamic, marker)? != 2 {
            return Err(self.malformed("dynamic value must be a [type, value] pair"));
        }
        let type_json = match self.peek()? {
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                let len =
                    rmp::decode::read_str_len(&mut self.input).map_err(|e| self.truncated(e))?;
                self.take(len)?
            }
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
                let len =
                    rmp::decode::read_bin_len(&mut self.input).map_err(|e| self.truncated(e))?;
                self.take(len)?
            }
            _ => return Err(self.malformed("dynamic value type must be JSON bytes")),
        };
        let ty = Type::from_json(type_json).map_err(|source| DecodeError::InvalidDynamicType {
            path: self.walk.path(),
            source,
        })?;
        let value = self.value(&ty)?;
        Ok(Value::Dynamic(ty, Box::new(value)))
    }

    /// A UTF-8 string from a str or bin item (go-cty accepts both).
    fn string(&mut self, expected: &Type) -> Result<String, DecodeError> {
        let marker = self.peek()?;
        let len = match marker {
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                rmp::decode::read_str_len(&mut self.input)
            }
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
                rmp::decode::read_bin_len(&mut self.input)
            }
            _ => return Err(self.mismatch(expected, marker)),
        }
        .map_err(|e| self.truncated(e))?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed("string is not valid UTF-8"))
    }

    fn number(&mut self, marker: Marker) -> Result<Value, DecodeError> {
        let number = match marker {
            Marker::FixPos(_) | Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => {
                rmp::decode::read_int::<u64, _>(&mut self.input)
                    .map(Number::from)
                    .map_err(|e| self.truncated(e))?
            }
            Marker::FixNeg(_) | Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => {
                rmp::decode::read_int::<i64, _>(&mut self.input)
                    .map(Number::from)
                    .map_err(|e| self.truncated(e))?
            }
            Marker::F32 | Marker::F64 => {
                let float = if marker == Marker::F32 {
                    rmp::decode::read_f32(&mut self.input).map(f64::from)
                } else {
                    rmp::decode::read_f64(&mut self.input)
                }
                .map_err(|e| self.truncated(e))?;
                Number::from_f64(float).ok_or_else(|| self.malformed("number is NaN"))?
            }
            _ => {
                let text = self.string(&Type::Number)?;
                Number::parse(&text).map_err(|source| DecodeError::InvalidNumber {
                    path: self.walk.path(),
                    source,
                })?
            }
        };
        Ok(Value::Number(number))
    }

    fn array_len(&mut self, expected: &Type, marker: Marker) -> Result<u32, DecodeError> {
        match marker {
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => {
                rmp::decode::read_array_len(&mut self.input).map_err(|e| self.truncated(e))
            }
            _ => Err(self.mismatch(expected, marker)),
        }
    }

    fn map_len(&mut self, expected: &Type, marker: Marker) -> Result<u32, DecodeError> {
        match marker {
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => {
                rmp::decode::read_map_len(&mut self.input).map_err(|e| self.truncated(e))
            }
            _ => Err(self.mismatch(expected, marker)),
        }
    }

    /// Room for `len` items, capped by the bytes left (every item takes at
    /// least one) so a lying length cannot force a huge allocation.
    fn capacity(&self, len: u32) -> usize {
        usize::try_from(len).map_or(0, |len| len.min(self.input.len()))
    }

    fn sequence(&mut self, ty: &Type, element: &Type) -> Result<Vec<Value>, DecodeError> {
        let len = self.array_len(ty, self.peek()?)?;
        let mut items = Vec::with_capacity(self.capacity(len));
        for index in 0..len {
            items.push(self.at(PathStep::Index(index.into()), |d| d.value(element))?);
        }
        Ok(items)
    }

    fn tuple(&mut self, ty: &Type, elements: &[Type]) -> Result<Value, DecodeError> {
        let len = self.array_len(ty, self.peek()?)?;
        if usize::try_from(len).ok() != Some(elements.len()) {
            return Err(DecodeError::TupleLength {
                path: self.walk.path(),
                expected: elements.len(),
                found: usize::try_from(len).unwrap_or(usize::MAX),
            });
        }
        let mut items = Vec::with_capacity(elements.len());
        for (index, element) in (0u64..).zip(elements) {
            items.push(self.at(PathStep::Index(index), |d| d.value(element))?);
        }
        Ok(Value::Tuple(items))
    }

    fn key(&mut self) -> Result<String, DecodeError> {
        match self.peek()? {
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                self.string(&Type::String)
            }
            _ => Err(self.malformed("map keys must be strings")),
        }
    }

    fn map(&mut self, ty: &Type, element: &Type) -> Result<Value, DecodeError> {
        let len = self.map_len(ty, self.peek()?)?;
        let mut entries = BTreeMap::new();
        for _ in 0..len {
            let key = self.key()?;
            let value = self.at(PathStep::Key(key.clone()), |d| d.value(element))?;
            entries.insert(key, value);
        }
        Ok(Value::Map(entries))
    }

    fn object(
        &mut self,
        ty: &Type,
        attributes: &BTreeMap<String, Type>,
    ) -> Result<Value, DecodeError> {
        let len = self.map_len(ty, self.peek()?)?;
        let mut values = BTreeMap::new();
        for _ in 0..len {
            let name = self.key()?;
            let Some(attribute_type) = attributes.get(&name) else {
                return Err(DecodeError::UnexpectedAttribute {
                    path: self.walk.path(),
                    name,
                });
            };
            let value = self.at(PathStep::Attribute(name.clone()), |d| {
                d.value(attribute_type)
            })?;
            values.insert(name, value);
        }
        for name in attributes.keys() {
            if !values.contains_key(name) {
                values.insert(name.clone(), Value::Null);
            }
        }
        Ok(Value::Object(values))
    }
}
