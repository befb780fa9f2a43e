//! Terraform's value model as it travels over the plugin protocol: go-cty
//! types, values and exact numbers, plus the attribute paths and error types
//! shared by the msgpack and JSON codecs.
//!
//! Nothing here knows about any particular provider.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How deeply values may nest before a decoder gives up. Terraform schemas
/// are far shallower; the limit exists so hostile input cannot exhaust the
/// stack (serde_json applies the same limit to plain JSON nesting).
pub const MAX_NESTING: usize = 128;

/// A cty type, as described by Terraform's type JSON (`"string"`,
/// `["list","string"]`, `["object",{"a":"number"}]`, ...).
///
/// Optional-attribute markers (the third element of an object type) are
/// accepted by [`Type::from_json`] but not kept: they only influence type
/// conversion inside Terraform, never how values are encoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    String,
    Number,
    Bool,
    /// cty's `DynamicPseudoType`: the concrete type travels with the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

/// Why a type description could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TypeParseError {
    #[error("type description is not valid JSON")]
    Syntax,
    #[error("invalid type description: {0}")]
    Invalid(&'static str),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

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
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    Dynamic(Type, Box<Value>),
}

/// Stand-in for attributes a caller left out of an object.
pub(crate) static NULL: Value = Value::Null;

impl Value {
    pub fn string(text: impl Into<String>) -> Value {
        Value::String(text.into())
    }

    pub fn number(number: impl Into<Number>) -> Value {
        Value::Number(number.into())
    }

    pub fn object<K: Into<String>>(attributes: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(
            attributes
                .into_iter()
                .map(|(name, value)| (name.into(), value))
                .collect(),
        )
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(key, value)| (key.into(), value))
                .collect(),
        )
    }

    pub fn list(elements: impl IntoIterator<Item = Value>) -> Value {
        Value::List(elements.into_iter().collect())
    }

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

    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

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

/// Numbers beyond ±1e10000 are refused: printing them in cty's plain
/// decimal notation would take unbounded memory.
const MAX_DECIMAL_MAGNITUDE: i64 = 10_000;

/// An exact decimal number (or ±infinity), as cty's arbitrary-precision
/// numbers are.
///
/// Stored normalised (no leading or trailing zero digits, zero has no sign),
/// so the derived equality is numeric equality: `1.50 == 1.5`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// `(-1)^negative × digits × 10^exponent`; zero is empty `digits`.
    Finite {
        negative: bool,
        digits: String,
        exponent: i64,
    },
    Infinity {
        negative: bool,
    },
}

/// Why text could not be read as a number. Never includes the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("not a valid decimal number")]
    Invalid,
    #[error("number is outside the supported range of ±1e{MAX_DECIMAL_MAGNITUDE}")]
    OutOfRange,
}

impl Number {
    pub const ZERO: Number = Number(Repr::Finite {
        negative: false,
        digits: String::new(),
        exponent: 0,
    });

    /// Parses decimal text such as `-12`, `0.1`, `1e-7`, `1.5E+3` or `+Inf`.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
            return Ok(Number(Repr::Infinity { negative }));
        }
        let (mantissa, exponent_text) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
            None => (unsigned, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return Err(NumberError::Invalid);
        }
        let exponent = match exponent_text {
            Some(text) => parse_exponent(text)?,
            None => 0,
        };
        let fraction_len = i64::try_from(fraction.len()).map_err(|_| NumberError::OutOfRange)?;
        let number = Number::normalised(
            negative,
            format!("{whole}{fraction}"),
            exponent.saturating_sub(fraction_len),
        );
        if number.within_supported_range() {
            Ok(number)
        } else {
            Err(NumberError::OutOfRange)
        }
    }

    /// `None` for NaN, which cty cannot represent.
    pub fn from_f64(value: f64) -> Option<Number> {
        if value.is_nan() {
            return None;
        }
        if value.is_infinite() {
            return Some(Number(Repr::Infinity {
                negative: value < 0.0,
            }));
        }
        // `{:e}` gives the shortest digits that read back as the same f64,
        // which is also how cty prints a number that came in as a float64.
        Number::parse(&format!("{value:e}")).ok()
    }

    fn normalised(negative: bool, digits: String, exponent: i64) -> Number {
        let significant = digits.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        if trimmed.is_empty() {
            return Number::ZERO;
        }
        let trailing_zeros = (significant.len() - trimmed.len()) as i64;
        Number(Repr::Finite {
            negative,
            digits: trimmed.to_owned(),
            exponent: exponent.saturating_add(trailing_zeros),
        })
    }

    fn within_supported_range(&self) -> bool {
        match &self.0 {
            Repr::Infinity { .. } => true,
            Repr::Finite {
                digits, exponent, ..
            } => {
                digits.is_empty()
                    || (*exponent >= -MAX_DECIMAL_MAGNITUDE
                        && exponent.saturating_add(digits.len() as i64) <= MAX_DECIMAL_MAGNITUDE)
            }
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Repr::Infinity { .. })
    }

    pub fn is_negative(&self) -> bool {
        match &self.0 {
            Repr::Finite { negative, .. } | Repr::Infinity { negative } => *negative,
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(&self.0, Repr::Finite { exponent, .. } if *exponent >= 0)
    }

    /// The value as an i128 when it is an integer of at most 38 digits.
    fn as_i128(&self) -> Option<i128> {
        let Repr::Finite {
            negative,
            digits,
            exponent,
        } = &self.0
        else {
            return None;
        };
        if digits.is_empty() {
            return Some(0);
        }
        let exponent = u32::try_from(*exponent).ok()?;
        if digits.len() as u64 + u64::from(exponent) > 38 {
            return None;
        }
        let magnitude = digits
            .parse::<i128>()
            .ok()?
            .checked_mul(10i128.pow(exponent))?;
        Some(if *negative { -magnitude } else { magnitude })
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.as_i128().and_then(|n| i64::try_from(n).ok())
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_i128().and_then(|n| u64::try_from(n).ok())
    }

    /// The nearest f64 (lossy for numbers a float64 cannot hold exactly).
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Infinity { negative: false } => f64::INFINITY,
            Repr::Infinity { negative: true } => f64::NEG_INFINITY,
            Repr::Finite { digits, .. } if digits.is_empty() => 0.0,
            Repr::Finite {
                negative,
                digits,
                exponent,
            } => {
                let sign = if *negative { "-" } else { "" };
                // Rust's float parsing is correctly rounded and saturates to
                // infinity or zero, so this cannot fail on our own output.
                format!("{sign}{digits}e{exponent}")
                    .parse()
                    .unwrap_or(f64::NAN)
            }
        }
    }

    /// The f64 with exactly this value, if there is one (0.5 yes, 0.1 no).
    pub fn to_exact_f64(&self) -> Option<f64> {
        let Repr::Finite { exponent, .. } = &self.0 else {
            return Some(self.as_f64());
        };
        let candidate = self.as_f64();
        if !candidate.is_finite() {
            return None;
        }
        // A float's exact decimal expansion has one fractional digit per
        // fractional bit; ours has exactly `-exponent` of them.
        let fraction_digits = u64::try_from(-exponent).unwrap_or(0);
        if fractional_bits(candidate) != fraction_digits {
            return None;
        }
        // With that many digits the formatting below involves no rounding.
        let precision = usize::try_from(fraction_digits).ok()?;
        let expanded = format!("{candidate:.precision$}");
        (Number::parse(&expanded).ok()? == *self).then_some(candidate)
    }
}

/// How many binary digits after the point a finite f64 needs.
fn fractional_bits(value: f64) -> u64 {
    let bits = value.abs().to_bits();
    let biased_exponent = (bits >> 52) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased_exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased_exponent - 1075)
    };
    if mantissa == 0 {
        return 0;
    }
    let exponent = exponent + i64::from(mantissa.trailing_zeros());
    u64::try_from(-exponent).unwrap_or(0)
}

fn parse_exponent(text: &str) -> Result<i64, NumberError> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::Invalid);
    }
    // Saturate rather than overflow: anything this large is out of range
    // anyway and the range check after normalisation reports it.
    let magnitude = digits.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10).saturating_add(i64::from(b - b'0'))
    });
    Ok(if negative { -magnitude } else { magnitude })
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(text: &str) -> Result<Number, NumberError> {
        Number::parse(text)
    }
}

/// cty's canonical text: plain decimal notation, no exponent, as go-cty's
/// `Text('f', -1)` prints it (`0.0000001`, `12345678901234567890123`);
/// infinities print as `+Inf`/`-Inf`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (negative, digits, exponent) = match &self.0 {
            Repr::Infinity { negative } => {
                return f.write_str(if *negative { "-Inf" } else { "+Inf" });
            }
            Repr::Finite { digits, .. } if digits.is_empty() => return f.write_str("0"),
            Repr::Finite {
                negative,
                digits,
                exponent,
            } => (*negative, digits.as_str(), *exponent),
        };
        if negative {
            f.write_str("-")?;
        }
        let zeros = |count: i64| "0".repeat(usize::try_from(count).unwrap_or(0));
        if exponent >= 0 {
            return write!(f, "{digits}{}", zeros(exponent));
        }
        let whole_len = digits.len() as i64 + exponent;
        if whole_len > 0 {
            let (whole, fraction) = digits.split_at(whole_len as usize);
            write!(f, "{whole}.{fraction}")
        } else {
            write!(f, "0.{}{digits}", zeros(-whole_len))
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Number {
        Number::normalised(value < 0, value.unsigned_abs().to_string(), 0)
    }
}

impl From<u64> for Number {
    fn from(value: u64) -> Number {
        Number::normalised(false, value.to_string(), 0)
    }
}

impl From<i32> for Number {
    fn from(value: i32) -> Number {
        Number::from(i64::from(value))
    }
}

impl From<u32> for Number {
    fn from(value: u32) -> Number {
        Number::from(u64::from(value))
    }
}

/// Where in a value something is, printed the way Terraform prints paths:
/// `.keepers["a"]`, `.rules[0].name`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AttributePath(Vec<PathStep>);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// An object attribute.
    Attribute(String),
    /// A map key.
    Key(String),
    /// A list, set or tuple position (for sets: position on the wire).
    Index(u64),
}

impl AttributePath {
    pub fn root() -> AttributePath {
        AttributePath::default()
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }
}

impl From<&[PathStep]> for AttributePath {
    fn from(steps: &[PathStep]) -> AttributePath {
        AttributePath(steps.to_vec())
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> AttributePath {
        AttributePath(steps)
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for step in &self.0 {
            match step {
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Where a codec is while it walks a value: the path, for error texts, and
/// the nesting depth, counted apart from the path because dynamic wrappers
/// nest without adding path steps.
#[derive(Default)]
pub(crate) struct Walk {
    steps: Vec<PathStep>,
    depth: usize,
}

impl Walk {
    pub(crate) fn path(&self) -> AttributePath {
        AttributePath::from(self.steps.as_slice())
    }
}

/// A codec that walks values, keeping its [`Walk`] up to date.
pub(crate) trait Walker: Sized {
    fn walk(&mut self) -> &mut Walk;

    /// Runs `f` one path step further.
    fn at<R>(&mut self, step: PathStep, f: impl FnOnce(&mut Self) -> R) -> R {
        self.walk().steps.push(step);
        let result = f(self);
        self.walk().steps.pop();
        result
    }

    /// Runs `f` one nesting level deeper, refusing to go past
    /// [`MAX_NESTING`] so hostile input cannot exhaust the stack.
    fn deeper<T, E: From<TooDeep>>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, E> {
        let walk = self.walk();
        if walk.depth >= MAX_NESTING {
            return Err(TooDeep(walk.path()).into());
        }
        walk.depth += 1;
        let result = f(self);
        self.walk().depth -= 1;
        result
    }
}

/// A value nested deeper than [`MAX_NESTING`], at this path.
pub(crate) struct TooDeep(AttributePath);

impl From<TooDeep> for DecodeError {
    fn from(TooDeep(path): TooDeep) -> DecodeError {
        DecodeError::TooDeep { path }
    }
}

impl From<TooDeep> for EncodeError {
    fn from(TooDeep(path): TooDeep) -> EncodeError {
        EncodeError::TooDeep { path }
    }
}

/// Why wire bytes could not be decoded. Texts name the path and the
/// expected/found kinds, never the offending data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("at {path}: malformed input: {detail}")]
    Malformed { path: AttributePath, detail: String },
    #[error("at {path}: expected {expected}, found {found}")]
    TypeMismatch {
        path: AttributePath,
        expected: String,
        found: &'static str,
    },
    #[error("at {path}: unsupported attribute {name:?}")]
    UnexpectedAttribute { path: AttributePath, name: String },
    #[error("at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        path: AttributePath,
        expected: usize,
        found: usize,
    },
    #[error("at {path}: {source}")]
    InvalidNumber {
        path: AttributePath,
        #[source]
        source: NumberError,
    },
    #[error("at {path}: dynamic value carries a bad type: {source}")]
    InvalidDynamicType {
        path: AttributePath,
        #[source]
        source: TypeParseError,
    },
    #[error("at {path}: value nests deeper than {MAX_NESTING} levels")]
    TooDeep { path: AttributePath },
    #[error("{count} unexpected bytes after the value")]
    TrailingData { count: usize },
}

impl DecodeError {
    /// Where the problem is (`None` for trailing bytes after the value).
    pub fn path(&self) -> Option<&AttributePath> {
        match self {
            DecodeError::Malformed { path, .. }
            | DecodeError::TypeMismatch { path, .. }
            | DecodeError::UnexpectedAttribute { path, .. }
            | DecodeError::TupleLength { path, .. }
            | DecodeError::InvalidNumber { path, .. }
            | DecodeError::InvalidDynamicType { path, .. }
            | DecodeError::TooDeep { path } => Some(path),
            DecodeError::TrailingData { .. } => None,
        }
    }
}

/// Why a value could not be encoded under a type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("at {path}: a {found} value cannot be encoded as {expected}")]
    TypeMismatch {
        path: AttributePath,
        expected: String,
        found: &'static str,
    },
    #[error("at {path}: unsupported attribute {name:?}")]
    UnexpectedAttribute { path: AttributePath, name: String },
    #[error("at {path}: expected a tuple of {expected} elements, found {found}")]
    TupleLength {
        path: AttributePath,
        expected: usize,
        found: usize,
    },
    #[error("at {path}: JSON cannot represent unknown values")]
    UnknownInJson { path: AttributePath },
    #[error("at {path}: JSON cannot represent infinity")]
    InfinityInJson { path: AttributePath },
    #[error(
        "at {path}: the type of a value in a dynamic slot cannot be inferred; wrap it in Value::Dynamic"
    )]
    UninferableDynamic { path: AttributePath },
    #[error("at {path}: value nests deeper than {MAX_NESTING} levels")]
    TooDeep { path: AttributePath },
    #[error("at {path}: {detail}")]
    Write { path: AttributePath, detail: String },
}

/// proptest generators for types and conforming values, shared by the
/// codecs' property tests.
impl EncodeError {
    /// Where the problem is.
    pub fn path(&self) -> &AttributePath {
        match self {
            EncodeError::TypeMismatch { path, .. }
            | EncodeError::UnexpectedAttribute { path, .. }
            | EncodeError::TupleLength { path, .. }
            | EncodeError::UnknownInJson { path }
            | EncodeError::InfinityInJson { path }
            | EncodeError::UninferableDynamic { path }
            | EncodeError::TooDeep { path }
            | EncodeError::Write { path, .. } => path,
        }
    }
}

#[cfg(test)]
pub(crate) mod arbitrary {
    use super::{Number, Type, Value};
    use proptest::prelude::*;

    pub fn number() -> impl Strategy<Value = Number> {
        prop_oneof![
            any::<i64>().prop_map(Number::from),
            any::<u64>().prop_map(Number::from),
            any::<f64>().prop_filter_map("finite floats", |f| {
                f.is_finite().then(|| Number::from_f64(f)).flatten()
            }),
            (any::<bool>(), "[0-9]{1,40}", -60i64..60).prop_filter_map(
                "in range",
                |(negative, digits, exponent)| {
                    let sign = if negative { "-" } else { "" };
                    Number::parse(&format!("{sign}{digits}e{exponent}")).ok()
                }
            ),
        ]
    }

    pub fn ty() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![
            Just(Type::String),
            Just(Type::Number),
            Just(Type::Bool),
            Just(Type::Dynamic),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4)
                    .prop_map(Type::Object),
                prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
            ]
        })
    }

    /// A type and a value conforming to it; unknowns only if allowed.
    pub fn typed_value(allow_unknown: bool) -> impl Strategy<Value = (Type, Value)> {
        ty().prop_flat_map(move |ty| {
            value(&ty, allow_unknown, 2).prop_map(move |value| (ty.clone(), value))
        })
    }

    /// `dynamic_budget` bounds how often a dynamic slot may pick a fresh
    /// type that itself contains dynamic slots.
    pub fn value(ty: &Type, allow_unknown: bool, dynamic_budget: u32) -> BoxedStrategy<Value> {
        let known: BoxedStrategy<Value> = match ty {
            Type::String => any::<String>().prop_map(Value::String).boxed(),
            Type::Number => number().prop_map(Value::Number).boxed(),
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Dynamic if dynamic_budget == 0 => Just(Value::Null).boxed(),
            Type::Dynamic => self::ty()
                .prop_flat_map(move |concrete| {
                    value(&concrete, allow_unknown, dynamic_budget - 1)
                        .prop_map(move |inner| Value::Dynamic(concrete.clone(), Box::new(inner)))
                })
                .boxed(),
            Type::List(element) => {
                prop::collection::vec(value(element, allow_unknown, dynamic_budget), 0..4)
                    .prop_map(Value::List)
                    .boxed()
            }
            Type::Set(element) => {
                prop::collection::vec(value(element, allow_unknown, dynamic_budget), 0..4)
                    .prop_map(Value::Set)
                    .boxed()
            }
            Type::Map(element) => prop::collection::btree_map(
                any::<String>(),
                value(element, allow_unknown, dynamic_budget),
                0..4,
            )
            .prop_map(Value::Map)
            .boxed(),
            Type::Object(attributes) => attributes
                .iter()
                .map(|(name, ty)| {
                    let name = name.clone();
                    value(ty, allow_unknown, dynamic_budget)
                        .prop_map(move |value| (name.clone(), value))
                })
                .collect::<Vec<_>>()
                .prop_map(|attributes| Value::Object(attributes.into_iter().collect()))
                .boxed(),
            Type::Tuple(elements) => elements
                .iter()
                .map(|ty| value(ty, allow_unknown, dynamic_budget))
                .collect::<Vec<_>>()
                .prop_map(Value::Tuple)
                .boxed(),
        };
        if allow_unknown {
            prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
        } else {
            prop_oneof![1 => Just(Value::Null), 7 => known].boxed()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn numbers_print_in_plain_decimal_notation() {
        assert_eq!(num("1e-7").to_string(), "0.0000001");
        assert_eq!(num("1.5E+3").to_string(), "1500");
        assert_eq!(num("-0.000").to_string(), "0");
        assert_eq!(num("00012.3400").to_string(), "12.34");
        assert_eq!(num(".5").to_string(), "0.5");
        assert_eq!(num("5.").to_string(), "5");
        assert_eq!(num("-3.14159265358979").to_string(), "-3.14159265358979");
        assert_eq!(
            num("12345678901234567890123").to_string(),
            "12345678901234567890123"
        );
        assert_eq!(num("-inf").to_string(), "-Inf");
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(num("1.50"), num("1.5"));
        assert_eq!(num("150e-2"), num("1.5"));
        assert_eq!(num("-0"), Number::ZERO);
        assert_ne!(num("1.5"), num("-1.5"));
        assert_eq!(Number::from(-42i64), num("-42"));
        assert_eq!(Number::from(u64::MAX), num("18446744073709551615"));
    }

    #[test]
    fn malformed_or_huge_numbers_are_rejected() {
        for bad in [
            "", "-", ".", "1e", "1e+", "abc", "1.2.3", "0x10", " 1", "1 ", "--1", "NaN",
        ] {
            assert_eq!(Number::parse(bad), Err(NumberError::Invalid), "{bad:?}");
        }
        for huge in ["1e10001", "1e-10001", "1e99999999999999999999999"] {
            assert_eq!(Number::parse(huge), Err(NumberError::OutOfRange), "{huge}");
        }
        assert!(Number::parse("0e99999999999999999999999").is_ok());
    }

    #[test]
    fn integer_accessors() {
        assert_eq!(num("1e3").as_i64(), Some(1000));
        assert_eq!(num("-9223372036854775808").as_i64(), Some(i64::MIN));
        assert_eq!(num("9223372036854775808").as_i64(), None);
        assert_eq!(num("9223372036854775808").as_u64(), Some(1 << 63));
        assert_eq!(num("1.5").as_i64(), None);
        assert_eq!(num("1e40").as_i64(), None);
        assert!(num("1e40").is_integer());
    }

    #[test]
    fn floats_convert_to_their_shortest_decimal() {
        assert_eq!(Number::from_f64(0.1).unwrap().to_string(), "0.1");
        assert_eq!(
            Number::from_f64(-2.5e-7).unwrap().to_string(),
            "-0.00000025"
        );
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::ZERO);
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).unwrap().is_infinite());
        assert_eq!(num("0.1").as_f64(), 0.1);
    }

    #[test]
    fn exact_float_detection() {
        assert_eq!(num("0.5").to_exact_f64(), Some(0.5));
        assert_eq!(num("-3.25").to_exact_f64(), Some(-3.25));
        assert_eq!(num("0.1").to_exact_f64(), None);
        assert_eq!(num("1e-7").to_exact_f64(), None);
        assert_eq!(num("3.14159265358979").to_exact_f64(), None);
        // The exact expansion of the float nearest 0.1 is itself exact.
        let exact_tenth = "0.1000000000000000055511151231257827021181583404541015625";
        assert_eq!(num(exact_tenth).to_exact_f64(), Some(0.1));
        assert_eq!(num("4.9406564584124654e-324").to_exact_f64(), None);
        assert_eq!(num("1e400").to_exact_f64(), None);
    }

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

    #[test]
    fn paths_print_like_terraform() {
        let path = AttributePath::from(vec![
            PathStep::Attribute("keepers".into()),
            PathStep::Key("a".into()),
            PathStep::Index(3),
        ]);
        assert_eq!(path.to_string(), r#".keepers["a"][3]"#);
        assert_eq!(AttributePath::root().to_string(), "(root)");
    }
}
