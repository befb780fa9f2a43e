//! The msgpack half of `DynamicValue`, laid out as go-cty's `cty/msgpack`
//! package lays it out, so Terraform reads back exactly what it expects.
//!
//! Wire facts (from go-cty):
//! - null is msgpack nil; a wholly unknown value is the fixext1 `d4 00 00`
//!   (extension type 0, one zero byte). Any extension of at most one byte is
//!   an unknown; a longer one must be type 12, whose payload is a map of
//!   refinements (not null, string prefix, number/length bounds) that we
//!   accept and drop.
//! - numbers go out as the smallest integer encoding when they fit i64, as
//!   float64 when they are fractional and a float64 holds them exactly, and
//!   otherwise as a decimal string; all three are accepted on input.
//! - lists, sets and tuples are arrays; maps and objects are maps with
//!   string keys, object attributes in sorted order.
//! - a known value under the `dynamic` type is the array
//!   `[type JSON as bin, value]`.

use std::collections::BTreeMap;

use rmp::Marker;

pub use super::value::{DecodeError, EncodeError};
use super::value::{NULL, Number, PathStep, Type, Value, Walk, Walker};

/// Extension type of an unknown value without refinements.
const UNKNOWN_EXTENSION: i8 = 0;
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

/// Encodes `value` as a value of type `ty`, byte for byte as go-cty would.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder {
        output: Vec::new(),
        walk: Walk::default(),
    };
    encoder.value(value, ty)?;
    Ok(encoder.output)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Value {
        Value::Number(Number::parse(text).unwrap())
    }

    fn round_trip(value: &Value, ty: &Type) -> Vec<u8> {
        let bytes = encode(value, ty).unwrap();
        let decoded = decode(&bytes, ty).unwrap();
        assert_eq!(&decoded, value, "value changed through {bytes:02x?}");
        assert_eq!(encode(&decoded, ty).unwrap(), bytes, "bytes changed");
        bytes
    }

    #[test]
    fn go_cty_byte_layouts() {
        let cases: Vec<(Value, Type, Vec<u8>)> = vec![
            (Value::Null, Type::String, vec![0xc0]),
            (Value::Unknown, Type::String, vec![0xd4, 0x00, 0x00]),
            (Value::from(true), Type::Bool, vec![0xc3]),
            (Value::from("hi"), Type::String, vec![0xa2, b'h', b'i']),
            (num("1"), Type::Number, vec![0x01]),
            (num("-1"), Type::Number, vec![0xff]),
            (num("200"), Type::Number, vec![0xcc, 0xc8]),
            (num("-200"), Type::Number, vec![0xd1, 0xff, 0x38]),
            (
                num("0.5"),
                Type::Number,
                vec![0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0],
            ),
            (num("0.1"), Type::Number, vec![0xa3, b'0', b'.', b'1']),
            (
                num("9223372036854775808"),
                Type::Number,
                [&[0xb3][..], b"9223372036854775808"].concat(),
            ),
            (
                Value::Number(Number::parse("+Inf").unwrap()),
                Type::Number,
                vec![0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0],
            ),
            (
                Value::object([("b", Value::from(1i64)), ("a", Value::from("x"))]),
                Type::object([("a", Type::String), ("b", Type::Number)]),
                vec![0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0x01],
            ),
            (
                Value::list([Value::from("x"), Value::Unknown]),
                Type::list(Type::String),
                vec![0x92, 0xa1, b'x', 0xd4, 0, 0],
            ),
            (
                Value::Dynamic(Type::String, Box::new(Value::from("x"))),
                Type::Dynamic,
                [&[0x92, 0xc4, 8][..], b"\"string\"", &[0xa1, b'x']].concat(),
            ),
        ];
        for (value, ty, expected) in cases {
            assert_eq!(encode(&value, &ty).unwrap(), expected, "{value:?} as {ty}");
            assert_eq!(decode(&expected, &ty).unwrap(), value, "{expected:02x?}");
        }
    }

    #[test]
    fn refined_unknowns_as_terraform_sends_them() {
        // {1: false} — "definitely not null".
        let not_null = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        assert_eq!(decode(&not_null, &Type::String).unwrap(), Value::Unknown);
        // {1: false, 2: "ab"} — not null, string prefix "ab".
        let prefix = [0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'];
        assert_eq!(decode(&prefix, &Type::String).unwrap(), Value::Unknown);
        // {5: 200}, four bytes so Go picks fixext4 — list length at least 200.
        let length = [0xd6, 0x0c, 0x81, 0x05, 0xcc, 0xc8];
        assert_eq!(
            decode(&length, &Type::list(Type::String)).unwrap(),
            Value::Unknown
        );
        // Unknown under dynamic, and a zero-length extension.
        assert_eq!(decode(&not_null, &Type::Dynamic).unwrap(), Value::Unknown);
        assert_eq!(
            decode(&[0xc7, 0x00, 0x00], &Type::Number).unwrap(),
            Value::Unknown
        );
        // Re-encoding drops the refinements.
        assert_eq!(
            encode(&Value::Unknown, &Type::String).unwrap(),
            [0xd4, 0, 0]
        );
    }

    #[test]
    fn bad_unknown_extensions_are_rejected() {
        let wrong_type = [0xd5, 0x05, 0x81, 0x05];
        assert!(matches!(
            decode(&wrong_type, &Type::String),
            Err(DecodeError::Malformed { .. })
        ));
        let not_a_map = [0xd5, 0x0c, 0x01, 0x05];
        assert!(decode(&not_a_map, &Type::String).is_err());
        let mut oversize = vec![0xc8, 0x04, 0x01, 0x0c, 0x81];
        oversize.resize(5 + 1024, 0);
        assert!(decode(&oversize, &Type::String).is_err());
    }

    #[test]
    fn nested_values_round_trip() {
        let ty = Type::object([
            ("name", Type::String),
            ("tags", Type::map(Type::String)),
            ("ports", Type::set(Type::Number)),
            (
                "rules",
                Type::list(Type::object([("cidr", Type::String), ("on", Type::Bool)])),
            ),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("empty_list", Type::list(Type::String)),
            ("empty_map", Type::map(Type::Number)),
            ("nothing", Type::String),
            ("later", Type::list(Type::String)),
        ]);
        let value = Value::object([
            ("name", Value::from("héllo ✓ 🦀")),
            (
                "tags",
                Value::map([("a", Value::from("1")), ("b", Value::Unknown)]),
            ),
            ("ports", Value::set([num("443"), num("-80"), num("1.25")])),
            (
                "rules",
                Value::list([
                    Value::object([
                        ("cidr", Value::from("10.0.0.0/8")),
                        ("on", Value::from(true)),
                    ]),
                    Value::object([("cidr", Value::Null), ("on", Value::Unknown)]),
                ]),
            ),
            (
                "pair",
                Value::Tuple(vec![Value::from("x"), num("12345678901234567890123")]),
            ),
            ("empty_list", Value::list([])),
            ("empty_map", Value::map::<String>([])),
            ("nothing", Value::Null),
            ("later", Value::Unknown),
        ]);
        round_trip(&value, &ty);
    }

    #[test]
    fn numbers_round_trip_exactly() {
        for text in [
            "0",
            "-1",
            "127",
            "128",
            "-33",
            "65536",
            "-9223372036854775808",
            "9223372036854775807",
            "18446744073709551615",
            "12345678901234567890123",
            "-12345678901234567890123",
            "0.1",
            "1e-7",
            "3.14159265358979",
            "-0.5",
            "0.000001",
            "1e300",
            "123456789.123456789123456789",
        ] {
            let bytes = round_trip(&num(text), &Type::Number);
            let decoded = decode(&bytes, &Type::Number).unwrap();
            assert_eq!(
                decoded.as_number().unwrap().to_string(),
                num(text).as_number().unwrap().to_string()
            );
        }
    }

    #[test]
    fn accepts_every_number_encoding() {
        let ty = Type::Number;
        assert_eq!(
            decode(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], &ty).unwrap(),
            num("18446744073709551615")
        );
        assert_eq!(decode(&[0xd0, 0x80], &ty).unwrap(), num("-128"));
        assert_eq!(decode(&[0xca, 0x3f, 0xc0, 0, 0], &ty).unwrap(), num("1.5"));
        // A float64 that is not exact decodes to its shortest decimal.
        let tenth = [0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a];
        assert_eq!(decode(&tenth, &ty).unwrap(), num("0.1"));
        assert_eq!(decode(b"\xa41e-7", &ty).unwrap(), num("0.0000001"));
        assert!(matches!(
            decode(b"\xa3abc", &ty),
            Err(DecodeError::InvalidNumber { .. })
        ));
        let nan = [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0];
        assert!(decode(&nan, &ty).is_err());
    }

    #[test]
    fn dynamic_values_round_trip_with_their_type() {
        let cases = [
            Value::Null,
            Value::Unknown,
            Value::Dynamic(Type::list(Type::String), Box::new(Value::list([]))),
            Value::Dynamic(Type::Number, Box::new(Value::Unknown)),
            Value::Dynamic(Type::String, Box::new(Value::Null)),
            Value::Dynamic(
                Type::object([("a", Type::list(Type::Dynamic))]),
                Box::new(Value::object([(
                    "a",
                    Value::list([
                        Value::Null,
                        Value::Dynamic(Type::Bool, Box::new(Value::from(true))),
                    ]),
                )])),
            ),
        ];
        for value in cases {
            let bytes = round_trip(&value, &Type::Dynamic);
            let decoded = decode(&bytes, &Type::Dynamic).unwrap();
            assert_eq!(format!("{decoded:?}"), format!("{value:?}"));
        }
        let in_object = Type::object([("any", Type::Dynamic)]);
        round_trip(
            &Value::object([("any", Value::Dynamic(Type::Number, Box::new(num("2"))))]),
            &in_object,
        );
    }

    #[test]
    fn dynamic_slots_infer_types_of_plain_values() {
        let bytes = encode(&Value::from("x"), &Type::Dynamic).unwrap();
        assert_eq!(
            bytes,
            [&[0x92, 0xc4, 8][..], b"\"string\"", &[0xa1, b'x']].concat()
        );
        let mixed = Value::list([Value::from("x"), Value::from(true)]);
        assert!(matches!(
            encode(&mixed, &Type::Dynamic),
            Err(EncodeError::UninferableDynamic { .. })
        ));
        // The dynamic type JSON may also arrive as a str item.
        let as_str = [&[0x92, 0xa8][..], b"\"number\"", &[0x05]].concat();
        assert_eq!(decode(&as_str, &Type::Dynamic).unwrap(), num("5"));
    }

    #[test]
    fn objects_fill_missing_attributes_and_reject_unknown_ones() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let only_a = [0x81, 0xa1, b'a', 0xa1, b'x'];
        assert_eq!(
            decode(&only_a, &ty).unwrap(),
            Value::object([("a", Value::from("x")), ("b", Value::Null)])
        );
        let extra = [0x81, 0xa1, b'z', 0xc0];
        let err = decode(&extra, &ty).unwrap_err();
        assert_eq!(err.to_string(), "at (root): unsupported attribute \"z\"");
        // Encoding fills in nulls and refuses attributes the type lacks.
        let partial = Value::object([("a", Value::from("x"))]);
        assert_eq!(
            encode(&partial, &ty).unwrap(),
            [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0xc0]
        );
        let stray = Value::object([("zz", Value::Null)]);
        assert!(matches!(
            encode(&stray, &ty),
            Err(EncodeError::UnexpectedAttribute { .. })
        ));
    }

    #[test]
    fn errors_name_the_path_but_not_the_data() {
        let ty = Type::object([("keepers", Type::map(Type::Number))]);
        let bytes = [
            0x81, 0xa7, b'k', b'e', b'e', b'p', b'e', b'r', b's', 0x81, 0xa1, b'a', 0xa6,
        ]
        .iter()
        .copied()
        .chain(*b"secret")
        .collect::<Vec<u8>>();
        let err = decode(&bytes, &ty).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with(r#"at .keepers["a"]: "#), "{text}");
        assert!(!text.contains("secret"), "{text}");

        let wrong = Value::object([("keepers", Value::map([("a", Value::from("secret"))]))]);
        let text = encode(&wrong, &ty).unwrap_err().to_string();
        assert_eq!(
            text,
            r#"at .keepers["a"]: a string value cannot be encoded as number"#
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::Tuple(vec![Type::Bool])),
        ]);
        let good = encode(
            &Value::object([
                ("a", Value::list([Value::from("xyz")])),
                ("b", Value::Tuple(vec![Value::from(false)])),
            ]),
            &ty,
        )
        .unwrap();
        for cut in 0..good.len() {
            assert!(decode(&good[..cut], &ty).is_err(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0xc0);
        assert_eq!(
            decode(&trailing, &ty),
            Err(DecodeError::TrailingData { count: 1 })
        );
        // A huge claimed length with no data behind it.
        assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::String)).is_err());
        assert!(decode(&[0xc1], &Type::String).is_err());
        assert!(decode(&[0xa2, 0xff, 0xfe], &Type::String).is_err());
        assert!(decode(&[0x92, 0x01, 0x02], &Type::Tuple(vec![Type::Number])).is_err());
        assert!(decode(&[0x81, 0x01, 0x02], &Type::map(Type::Number)).is_err());
        assert!(decode(&[0x92, 0xa3, b'b', b'a', b'd', 0x01], &Type::Dynamic).is_err());
        assert!(decode(&[0x93, 0xc0, 0xc0, 0xc0], &Type::Dynamic).is_err());
        assert!(decode(&[0xc3], &Type::String).is_err());
        assert!(decode(&[0xa1, b'x'], &Type::Bool).is_err());
    }

    #[test]
    fn deeply_nested_dynamic_values_are_refused() {
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend_from_slice(&[0x92, 0xa9]);
            bytes.extend_from_slice(b"\"dynamic\"");
        }
        bytes.push(0x01);
        assert!(matches!(
            decode(&bytes, &Type::Dynamic),
            Err(DecodeError::TooDeep { .. })
        ));
    }

    mod properties {
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
            }

            #[test]
            fn corrupted_encodings_never_panic(
                (ty, value) in arbitrary::typed_value(true),
                position in any::<prop::sample::Index>(),
                replacement in any::<u8>(),
            ) {
                let mut bytes = encode(&value, &ty).unwrap();
                if !bytes.is_empty() {
                    let at = position.index(bytes.len());
                    bytes[at] = replacement;
                    let _ = decode(&bytes, &ty);
                    let _ = decode(&bytes[..at], &ty);
                }
            }

            #[test]
            fn values_round_trip((ty, value) in arbitrary::typed_value(true)) {
                let bytes = encode(&value, &ty).unwrap();
                let decoded = decode(&bytes, &ty).unwrap();
                prop_assert_eq!(&decoded, &value);
                prop_assert_eq!(encode(&decoded, &ty).unwrap(), bytes);
            }
        }
    }
}
