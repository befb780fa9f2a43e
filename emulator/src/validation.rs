//! Request validation that reproduces FastAPI + pydantic v2 (lax mode)
//! behaviour and wording, so clients see the same 422 bodies as from the
//! real service.
//!
//! FastAPI's order is kept: a body that is not valid JSON is reported alone
//! and at once; otherwise path-parameter errors come first, then body errors
//! in model-field order, all in one response.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::errors::{ApiError, LocPart, ValidationIssue};

/// A request body after FastAPI's decoding step.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// No bytes at all.
    Missing,
    /// Parsed JSON (any JSON value, not necessarily an object).
    Json(Value),
    /// Bytes sent with a non-JSON content type: FastAPI hands them to
    /// pydantic as-is, which then rejects them as "not an object".
    Raw(String),
}

/// Decodes a body the way FastAPI does: JSON is parsed when the content type
/// is absent, `application/json` or `application/*+json`.
pub fn decode_body(content_type: Option<&str>, bytes: &[u8]) -> Result<Body, ApiError> {
    if bytes.is_empty() {
        return Ok(Body::Missing);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        // Python's json.loads raises UnicodeDecodeError here, which FastAPI
        // answers with its generic 400.
        return Err(ApiError::BadRequest("There was an error parsing the body"));
    };
    if !is_json_content_type(content_type) {
        return Ok(Body::Raw(text.to_owned()));
    }
    serde_json::from_str(text)
        .map(Body::Json)
        .map_err(|error| ApiError::Validation(vec![json_invalid(text, &error)]))
}

fn is_json_content_type(content_type: Option<&str>) -> bool {
    let Some(raw) = content_type else {
        return true;
    };
    let media_type = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media_type.split_once('/') {
        Some(("application", subtype)) => subtype == "json" || subtype.ends_with("+json"),
        _ => false,
    }
}

/// FastAPI's `json_invalid` error: `loc` is `["body", <char position>]` and
/// `ctx.error` is Python's `json` module message. serde_json's messages are
/// mapped onto the closest Python wording.
fn json_invalid(text: &str, error: &serde_json::Error) -> ValidationIssue {
    let message = error.to_string();
    let python_message = python_json_message(&message);
    let position = if error.classify() == serde_json::error::Category::Eof {
        text.chars().count()
    } else {
        char_position(text, error.line(), error.column())
    };
    ValidationIssue::new(
        "json_invalid",
        vec!["body".into(), position.into()],
        "JSON decode error",
        json!({}),
    )
    .with_ctx(json!({ "error": python_message }))
}

fn python_json_message(serde_message: &str) -> &'static str {
    const MAPPING: &[(&str, &str)] = &[
        (
            "key must be a string",
            "Expecting property name enclosed in double quotes",
        ),
        ("expected `:`", "Expecting ':' delimiter"),
        ("expected `,` or", "Expecting ',' delimiter"),
        ("EOF while parsing an object", "Expecting ',' delimiter"),
        ("EOF while parsing a list", "Expecting ',' delimiter"),
        (
            "EOF while parsing a string",
            "Unterminated string starting at",
        ),
        ("trailing characters", "Extra data"),
        ("invalid escape", "Invalid \\escape"),
        ("control character", "Invalid control character at"),
    ];
    MAPPING
        .iter()
        .find(|(needle, _)| serde_message.contains(needle))
        .map_or("Expecting value", |(_, python)| python)
}

/// serde_json reports 1-based line and byte column just past the offending
/// byte; Python reports the 0-based character index of that byte.
fn char_position(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut byte_offset = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(byte_offset) {
        byte_offset -= 1;
    }
    text[..byte_offset].chars().count()
}

/// Validates a path parameter declared as `uuid` in the OpenAPI schema.
pub fn path_uuid(name: &str, raw: &str, issues: &mut Vec<ValidationIssue>) -> Option<Uuid> {
    match Uuid::parse_str(raw) {
        Ok(uuid) => Some(uuid),
        Err(error) => {
            // pydantic-core parses with this same crate and quotes its message.
            issues.push(
                ValidationIssue::new(
                    "uuid_parsing",
                    vec!["path".into(), name.into()],
                    format!("Input should be a valid UUID, {error}"),
                    Value::String(raw.to_owned()),
                )
                .with_ctx(json!({ "error": error.to_string() })),
            );
            None
        }
    }
}

/// Returns the body's fields when it is a JSON object; otherwise records the
/// model-level error pydantic raises for a missing or non-object body.
pub fn body_object<'a>(
    body: &'a Body,
    issues: &mut Vec<ValidationIssue>,
) -> Option<&'a Map<String, Value>> {
    let body_loc = || vec![LocPart::from("body")];
    match body {
        Body::Json(Value::Object(fields)) => Some(fields),
        Body::Missing => {
            issues.push(ValidationIssue::new(
                "missing",
                body_loc(),
                "Field required",
                Value::Null,
            ));
            None
        }
        Body::Json(other) => {
            issues.push(not_an_object(body_loc(), other.clone()));
            None
        }
        Body::Raw(text) => {
            issues.push(not_an_object(body_loc(), Value::String(text.clone())));
            None
        }
    }
}

fn not_an_object(loc: Vec<LocPart>, input: Value) -> ValidationIssue {
    ValidationIssue::new(
        "model_attributes_type",
        loc,
        "Input should be a valid dictionary or object to extract fields from",
        input,
    )
}

fn field_loc(name: &str) -> Vec<LocPart> {
    vec!["body".into(), name.into()]
}

fn missing(fields: &Map<String, Value>, name: &str) -> ValidationIssue {
    ValidationIssue::new(
        "missing",
        field_loc(name),
        "Field required",
        Value::Object(fields.clone()),
    )
}

/// Length limits of a `str` field, counted in characters like Python's `len`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StrRules {
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
}

pub fn required_str(
    fields: &Map<String, Value>,
    name: &str,
    rules: StrRules,
    issues: &mut Vec<ValidationIssue>,
) -> Option<String> {
    let Some(value) = fields.get(name) else {
        issues.push(missing(fields, name));
        return None;
    };
    let Value::String(text) = value else {
        // Lax mode still refuses numbers and booleans for `str`.
        issues.push(ValidationIssue::new(
            "string_type",
            field_loc(name),
            "Input should be a valid string",
            value.clone(),
        ));
        return None;
    };
    let length = text.chars().count();
    if let Some(min) = rules.min_length.filter(|min| length < *min) {
        issues.push(
            ValidationIssue::new(
                "string_too_short",
                field_loc(name),
                format!("String should have at least {min} character{}", plural(min)),
                value.clone(),
            )
            .with_ctx(json!({ "min_length": min })),
        );
        return None;
    }
    if let Some(max) = rules.max_length.filter(|max| length > *max) {
        issues.push(
            ValidationIssue::new(
                "string_too_long",
                field_loc(name),
                format!("String should have at most {max} character{}", plural(max)),
                value.clone(),
            )
            .with_ctx(json!({ "max_length": max })),
        );
        return None;
    }
    Some(text.clone())
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Bounds of an `int` field: `gt` is exclusive, `le` inclusive.
#[derive(Debug, Clone, Copy, Default)]
pub struct IntRules {
    pub gt: Option<i64>,
    pub le: Option<i64>,
}

pub fn required_int(
    fields: &Map<String, Value>,
    name: &str,
    rules: IntRules,
    issues: &mut Vec<ValidationIssue>,
) -> Option<i64> {
    let Some(value) = fields.get(name) else {
        issues.push(missing(fields, name));
        return None;
    };
    let number = match lax_int(value) {
        Ok(number) => number,
        Err((kind, msg)) => {
            issues.push(ValidationIssue::new(
                kind,
                field_loc(name),
                msg,
                value.clone(),
            ));
            return None;
        }
    };
    if let Some(gt) = rules.gt.filter(|gt| number <= i128::from(*gt)) {
        issues.push(
            ValidationIssue::new(
                "greater_than",
                field_loc(name),
                format!("Input should be greater than {gt}"),
                value.clone(),
            )
            .with_ctx(json!({ "gt": gt })),
        );
        return None;
    }
    if let Some(le) = rules.le.filter(|le| number > i128::from(*le)) {
        issues.push(
            ValidationIssue::new(
                "less_than_equal",
                field_loc(name),
                format!("Input should be less than or equal to {le}"),
                value.clone(),
            )
            .with_ctx(json!({ "le": le })),
        );
        return None;
    }
    match i64::try_from(number) {
        Ok(number) => Some(number),
        Err(_) => {
            // Only reachable without an upper bound; Python ints are unbounded
            // but nothing in this API needs more than i64.
            issues.push(ValidationIssue::new(
                "int_parsing_size",
                field_loc(name),
                "Unable to parse input string as an integer, exceeded maximum size",
                value.clone(),
            ));
            None
        }
    }
}

type LaxError = (&'static str, &'static str);

/// pydantic's lax `int` coercion for JSON input: integers, whole floats,
/// integer strings and booleans are accepted.
fn lax_int(value: &Value) -> Result<i128, LaxError> {
    const NOT_AN_INT: LaxError = ("int_type", "Input should be a valid integer");
    const FRACTION: LaxError = (
        "int_from_float",
        "Input should be a valid integer, got a number with a fractional part",
    );
    const UNPARSABLE: LaxError = (
        "int_parsing",
        "Input should be a valid integer, unable to parse string as an integer",
    );
    match value {
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                Ok(i128::from(integer))
            } else if let Some(integer) = number.as_u64() {
                Ok(i128::from(integer))
            } else {
                let float = number.as_f64().ok_or(NOT_AN_INT)?;
                whole_float(float).ok_or(FRACTION)
            }
        }
        Value::Bool(flag) => Ok(i128::from(*flag)),
        Value::String(text) => parse_int_string(text).ok_or(UNPARSABLE),
        Value::Null | Value::Array(_) | Value::Object(_) => Err(NOT_AN_INT),
    }
}

fn whole_float(float: f64) -> Option<i128> {
    // The range check keeps the cast exact; beyond it no bound in this API
    // could be satisfied anyway.
    let in_range = float.is_finite() && float.abs() < 1e30;
    (in_range && float.fract() == 0.0).then_some(float as i128)
}

fn parse_int_string(text: &str) -> Option<i128> {
    let trimmed = text.trim();
    // pydantic strips a trailing `.0…` before parsing ("5.00" is 5).
    let without_zero_fraction = match trimmed.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') => {
            whole
        }
        _ => trimmed,
    };
    without_zero_fraction.replace('_', "").parse().ok()
}

/// An optional `bool` field with a default, coerced like pydantic's lax mode.
pub fn optional_bool(
    fields: &Map<String, Value>,
    name: &str,
    default: bool,
    issues: &mut Vec<ValidationIssue>,
) -> Option<bool> {
    let Some(value) = fields.get(name) else {
        return Some(default);
    };
    let unparsable = || {
        ValidationIssue::new(
            "bool_parsing",
            field_loc(name),
            "Input should be a valid boolean, unable to interpret input",
            value.clone(),
        )
    };
    let parsed = match value {
        Value::Bool(flag) => Ok(*flag),
        Value::Number(number) => match number.as_f64() {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            _ => Err(unparsable()),
        },
        Value::String(text) => match text.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
            _ => Err(unparsable()),
        },
        Value::Null | Value::Array(_) | Value::Object(_) => Err(ValidationIssue::new(
            "bool_type",
            field_loc(name),
            "Input should be a valid boolean",
            value.clone(),
        )),
    };
    parsed.map_err(|issue| issues.push(issue)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues_for_json(text: &str) -> Vec<ValidationIssue> {
        match decode_body(Some("application/json"), text.as_bytes()) {
            Err(ApiError::Validation(issues)) => issues,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn invalid_json_reports_python_position_and_message() {
        let issue = &issues_for_json(r#"{"a": }"#)[0];
        assert_eq!(issue.kind, "json_invalid");
        assert_eq!(issue.loc, vec![LocPart::from("body"), LocPart::from(6)]);
        assert_eq!(issue.msg, "JSON decode error");
        assert_eq!(issue.input, json!({}));
        assert_eq!(issue.ctx, Some(json!({"error": "Expecting value"})));

        let issue = &issues_for_json("{bad}")[0];
        assert_eq!(issue.loc[1], LocPart::from(1));
        assert_eq!(
            issue.ctx,
            Some(json!({"error": "Expecting property name enclosed in double quotes"}))
        );

        let issue = &issues_for_json("{} x")[0];
        assert_eq!(issue.loc[1], LocPart::from(3));
        assert_eq!(issue.ctx, Some(json!({"error": "Extra data"})));
    }

    #[test]
    fn positions_count_characters_across_lines() {
        let issue = &issues_for_json("{\n  \"é\": ,\n}")[0];
        // `,` sits at character index 9 ({, \n, 2 spaces, ", é, ", :, space).
        assert_eq!(issue.loc[1], LocPart::from(9));
    }

    #[test]
    fn truncated_json_points_at_the_end() {
        let issue = &issues_for_json("   ")[0];
        assert_eq!(issue.loc[1], LocPart::from(3));
        assert_eq!(issue.ctx, Some(json!({"error": "Expecting value"})));
    }

    #[test]
    fn content_type_decides_whether_json_is_parsed() {
        assert_eq!(decode_body(None, b"{}").unwrap(), Body::Json(json!({})));
        assert_eq!(
            decode_body(Some("application/vnd.api+json; charset=utf-8"), b"[1]").unwrap(),
            Body::Json(json!([1]))
        );
        assert_eq!(
            decode_body(Some("text/plain"), b"{}").unwrap(),
            Body::Raw("{}".to_owned())
        );
        assert_eq!(
            decode_body(Some("application/json"), b"").unwrap(),
            Body::Missing
        );
        assert!(matches!(
            decode_body(None, &[0xff, 0xfe]),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn missing_and_non_object_bodies_are_model_errors() {
        let mut issues = Vec::new();
        assert!(body_object(&Body::Missing, &mut issues).is_none());
        assert!(body_object(&Body::Json(json!([1])), &mut issues).is_none());
        assert_eq!(issues[0].kind, "missing");
        assert_eq!(issues[0].loc, vec![LocPart::from("body")]);
        assert_eq!(issues[0].input, Value::Null);
        assert_eq!(issues[1].kind, "model_attributes_type");
        assert_eq!(issues[1].input, json!([1]));
    }

    #[test]
    fn uuid_errors_quote_the_parser() {
        let mut issues = Vec::new();
        assert!(path_uuid("app_id", "not-a-uuid", &mut issues).is_none());
        let issue = &issues[0];
        assert_eq!(issue.kind, "uuid_parsing");
        assert_eq!(
            issue.loc,
            vec![LocPart::from("path"), LocPart::from("app_id")]
        );
        assert!(
            issue
                .msg
                .starts_with("Input should be a valid UUID, invalid")
        );
        let ctx_error = issue
            .ctx
            .as_ref()
            .and_then(|ctx| ctx["error"].as_str())
            .unwrap();
        assert!(issue.msg.ends_with(ctx_error));

        let braced = "{67e55044-10b1-426f-9247-bb680e5fe0c8}";
        assert!(path_uuid("app_id", braced, &mut issues).is_some());
    }

    #[test]
    fn strings_check_type_and_length() {
        let fields = json!({"name": "", "long": "abcd", "number": 5})
            .as_object()
            .unwrap()
            .clone();
        let mut issues = Vec::new();
        let non_empty = StrRules {
            min_length: Some(1),
            max_length: None,
        };
        assert!(required_str(&fields, "name", non_empty, &mut issues).is_none());
        let short = StrRules {
            min_length: None,
            max_length: Some(3),
        };
        assert!(required_str(&fields, "long", short, &mut issues).is_none());
        assert!(required_str(&fields, "number", StrRules::default(), &mut issues).is_none());
        assert!(required_str(&fields, "absent", StrRules::default(), &mut issues).is_none());

        assert_eq!(issues[0].msg, "String should have at least 1 character");
        assert_eq!(issues[0].ctx, Some(json!({"min_length": 1})));
        assert_eq!(issues[1].msg, "String should have at most 3 characters");
        assert_eq!(issues[2].kind, "string_type");
        assert_eq!(issues[3].kind, "missing");
        assert_eq!(issues[3].input, Value::Object(fields));
    }

    #[test]
    fn integers_are_coerced_laxly_and_bounded() {
        let fields = json!({
            "ok": 100, "float": 7.0, "text": " 42 ", "zeros": "3.00", "flag": true,
            "fraction": 1.5, "word": "abc", "null": null, "zero": 0, "huge": 10001
        });
        let fields = fields.as_object().unwrap();
        let rules = IntRules {
            gt: Some(0),
            le: Some(10_000),
        };
        let mut issues = Vec::new();
        let mut check = |name: &str| required_int(fields, name, rules, &mut issues);
        assert_eq!(check("ok"), Some(100));
        assert_eq!(check("float"), Some(7));
        assert_eq!(check("text"), Some(42));
        assert_eq!(check("zeros"), Some(3));
        assert_eq!(check("flag"), Some(1));
        for name in ["fraction", "word", "null", "zero", "huge"] {
            assert_eq!(check(name), None, "{name}");
        }
        let kinds: Vec<_> = issues.iter().map(|issue| issue.kind).collect();
        assert_eq!(
            kinds,
            [
                "int_from_float",
                "int_parsing",
                "int_type",
                "greater_than",
                "less_than_equal"
            ]
        );
        assert_eq!(issues[3].msg, "Input should be greater than 0");
        assert_eq!(issues[4].msg, "Input should be less than or equal to 10000");
        assert_eq!(issues[4].ctx, Some(json!({"le": 10000})));
    }

    #[test]
    fn booleans_follow_pydantic_lax_rules() {
        let fields = json!({"yes": "YES", "one": 1, "bad": "maybe", "null": null});
        let fields = fields.as_object().unwrap();
        let mut issues = Vec::new();
        assert_eq!(
            optional_bool(fields, "absent", false, &mut issues),
            Some(false)
        );
        assert_eq!(optional_bool(fields, "yes", false, &mut issues), Some(true));
        assert_eq!(optional_bool(fields, "one", false, &mut issues), Some(true));
        assert_eq!(optional_bool(fields, "bad", false, &mut issues), None);
        assert_eq!(optional_bool(fields, "null", false, &mut issues), None);
        assert_eq!(issues[0].kind, "bool_parsing");
        assert_eq!(issues[1].kind, "bool_type");
    }
}
