//! What the Account API answers, and lenient reading of a created key.
//!
//! Once the API has answered 2xx to a create, the key exists and its raw
//! value will never be shown again. So the create answer is read field by
//! field: whatever can be read is kept, even when another field is missing
//! or has the wrong type, and the caller gets both the partial key and a
//! description of the problem.

use serde::Deserialize;
use serde_json::{Map, Number, Value};

use super::error::{ApiError, CreateKeyError};
use super::redact::success_excerpt;
use crate::secret::Secret;

/// A freshly created API key, as answered by
/// `POST /service/v1/apps/{app_id}/keys`.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub api_key_id: String,
    pub api_key_name: String,
    pub app_id: String,
    pub app_name: String,
    pub created_by_user_id: String,
    pub created_by_user_email: String,
    /// A masked form of the key, safe to show.
    pub display_value: String,
    /// The key itself; the API shows it only in this answer.
    pub raw_api_key: Secret,
    /// Creation time as the API sent it (a Unix timestamp).
    pub created_at: Number,
}

/// Whatever could be read from a create answer that was not complete.
#[derive(Debug, Clone, Default)]
pub struct PartialKey {
    pub api_key_id: Option<String>,
    pub api_key_name: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub created_by_user_id: Option<String>,
    pub created_by_user_email: Option<String>,
    pub display_value: Option<String>,
    pub raw_api_key: Option<Secret>,
    pub created_at: Option<Number>,
}

impl PartialKey {
    /// The complete key, or `self` back when any field is missing.
    #[allow(clippy::result_large_err)] // see `CreateKeyError`
    pub fn into_complete(self) -> Result<CreatedKey, PartialKey> {
        match self {
            PartialKey {
                api_key_id: Some(api_key_id),
                api_key_name: Some(api_key_name),
                app_id: Some(app_id),
                app_name: Some(app_name),
                created_by_user_id: Some(created_by_user_id),
                created_by_user_email: Some(created_by_user_email),
                display_value: Some(display_value),
                raw_api_key: Some(raw_api_key),
                created_at: Some(created_at),
            } => Ok(CreatedKey {
                api_key_id,
                api_key_name,
                app_id,
                app_name,
                created_by_user_id,
                created_by_user_email,
                display_value,
                raw_api_key,
                created_at,
            }),
            partial => Err(partial),
        }
    }
}

impl From<CreatedKey> for PartialKey {
    fn from(key: CreatedKey) -> Self {
        PartialKey {
            api_key_id: Some(key.api_key_id),
            api_key_name: Some(key.api_key_name),
            app_id: Some(key.app_id),
            app_name: Some(key.app_name),
            created_by_user_id: Some(key.created_by_user_id),
            created_by_user_email: Some(key.created_by_user_email),
            display_value: Some(key.display_value),
            raw_api_key: Some(key.raw_api_key),
            created_at: Some(key.created_at),
        }
    }
}

/// An app of the organization, from `GET /service/v1/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct App {
    pub app_id: String,
    pub app_name: String,
    pub org_id: String,
    #[serde(default)]
    pub org_name: Option<String>,
}

#[derive(Deserialize)]
struct AppsAnswer {
    // The API declares the list nullable; null means "no apps".
    #[serde(default)]
    apps: Option<Vec<App>>,
}

/// Reads the 2xx answer to a create. `status` and `secrets` only serve
/// error texts.
#[allow(clippy::result_large_err)] // see `CreateKeyError`
pub(crate) fn parse_created_key(
    status: u16,
    body: &[u8],
    secrets: &[&str],
) -> Result<CreatedKey, CreateKeyError> {
    let undecodable = |problem: &str| {
        CreateKeyError::MayHaveCreated(ApiError::Undecodable {
            status,
            problem: problem.to_owned(),
            excerpt: success_excerpt(body, secrets),
        })
    };
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) if body.iter().all(u8::is_ascii_whitespace) => {
            return Err(undecodable("empty body"));
        }
        Err(e) => return Err(undecodable(&format!("not JSON: {}", json_error_kind(&e)))),
    };
    let Some(object) = value.as_object() else {
        return Err(undecodable(&format!(
            "expected a JSON object, got {}",
            type_name(&value)
        )));
    };
    // Without an id or a raw value, nothing in the answer names a key.
    if !object.contains_key("api_key_id") && !object.contains_key("raw_api_key") {
        return Err(undecodable(
            "the answer names no key (no api_key_id, no raw_api_key)",
        ));
    }

    let mut problems = Vec::new();
    let mut text = |name: &str| string_field(object, name, &mut problems);
    let mut key = PartialKey {
        api_key_id: text("api_key_id"),
        api_key_name: text("api_key_name"),
        app_id: text("app_id"),
        app_name: text("app_name"),
        created_by_user_id: text("created_by_user_id"),
        created_by_user_email: text("created_by_user_email"),
        display_value: text("display_value"),
        raw_api_key: text("raw_api_key").map(Secret::from),
        created_at: None,
    };
    key.created_at = number_field(object, "created_at", &mut problems);

    // A field is `None` exactly when a problem was recorded for it.
    key.into_complete()
        .map_err(|key| CreateKeyError::Incomplete {
            key,
            problem: problems.join("; "),
        })
}

/// Reads the 2xx answer to a list of apps.
pub(crate) fn parse_apps(status: u16, body: &[u8], secrets: &[&str]) -> Result<Vec<App>, ApiError> {
    serde_json::from_slice::<AppsAnswer>(body)
        .map(|answer| answer.apps.unwrap_or_default())
        .map_err(|e| ApiError::Undecodable {
            status,
            problem: format!("not a list of apps: {}", json_error_kind(&e)),
            excerpt: success_excerpt(body, secrets),
        })
}

// Problem texts name fields and JSON types only, never values: a value may
// be the raw key itself.

fn string_field(
    object: &Map<String, Value>,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    match object.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(format!(
                "`{name}` is {}, expected a string",
                type_name(other)
            ));
            None
        }
        None => {
            problems.push(format!("`{name}` is missing"));
            None
        }
    }
}

fn number_field(
    object: &Map<String, Value>,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<Number> {
    match object.get(name) {
        Some(Value::Number(n)) => Some(n.clone()),
        Some(other) => {
            problems.push(format!(
                "`{name}` is {}, expected a number",
                type_name(other)
            ));
            None
        }
        None => {
            problems.push(format!("`{name}` is missing"));
            None
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A serde_json error without the input excerpt it may quote.
fn json_error_kind(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let kind = match error.classify() {
        Category::Io => "read error",
        Category::Syntax => "syntax error",
        Category::Data => "unexpected shape",
        Category::Eof => "cut off",
    };
    format!("{kind} at line {} column {}", error.line(), error.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "par_live_SECRET_0123456789";

    fn full_body() -> Value {
        serde_json::json!({
            "api_key_id": "key_123",
            "api_key_name": "ci",
            "app_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
            "app_name": "Terraform",
            "created_by_user_id": "user_1",
            "created_by_user_email": "ops@example.com",
            "display_value": "par_…6789",
            "raw_api_key": RAW,
            "created_at": 1_731_000_000,
            "unknown_extra": {"ignored": true}
        })
    }

    #[allow(clippy::result_large_err)]
    fn parse(value: &Value) -> Result<CreatedKey, CreateKeyError> {
        parse_created_key(200, value.to_string().as_bytes(), &[])
    }

    #[test]
    fn reads_a_complete_answer() {
        let key = parse(&full_body()).unwrap();
        assert_eq!(key.api_key_id, "key_123");
        assert_eq!(key.raw_api_key.expose(), RAW);
        assert_eq!(key.created_at.as_u64(), Some(1_731_000_000));
        assert_eq!(key.app_name, "Terraform");
        assert!(!format!("{key:?}").contains(RAW));
    }

    #[test]
    fn keeps_everything_else_when_a_field_is_missing() {
        let mut body = full_body();
        body.as_object_mut().unwrap().remove("display_value");
        match parse(&body) {
            Err(CreateKeyError::Incomplete { key, problem }) => {
                assert_eq!(problem, "`display_value` is missing");
                assert_eq!(key.api_key_id.as_deref(), Some("key_123"));
                assert_eq!(key.raw_api_key.as_ref().map(Secret::expose), Some(RAW));
                assert!(key.created_at.is_some());
                assert!(key.display_value.is_none());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_types_are_reported_without_values() {
        let mut body = full_body();
        let object = body.as_object_mut().unwrap();
        object.insert("created_at".into(), Value::String("yesterday".into()));
        object.insert("app_name".into(), Value::Null);
        match parse(&body) {
            Err(err @ CreateKeyError::Incomplete { .. }) => {
                let text = err.to_string();
                assert!(
                    text.contains("`app_name` is null, expected a string"),
                    "{text}"
                );
                assert!(
                    text.contains("`created_at` is a string, expected a number"),
                    "{text}"
                );
                assert!(!text.contains("yesterday"), "{text}");
                assert!(text.contains("key_123"), "{text}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_missing_raw_key_is_incomplete_and_a_wrongly_typed_one_is_not_echoed() {
        let mut body = full_body();
        body.as_object_mut()
            .unwrap()
            .insert("raw_api_key".into(), Value::Null);
        assert!(matches!(
            parse(&body),
            Err(CreateKeyError::Incomplete { .. })
        ));
        let mut body = full_body();
        body.as_object_mut()
            .unwrap()
            .insert("raw_api_key".into(), serde_json::json!([RAW]));
        let err = parse(&body).unwrap_err();
        assert!(!format!("{err} {err:?}").contains(RAW));
    }

    #[test]
    fn unreadable_answers_mean_the_key_may_exist() {
        for body in [
            "".as_bytes(),
            b"   ",
            b"<html><body>OK</body></html>",
            b"[1,2]",
            b"{}",
            br#"{"status":"ok"}"#,
            br#"{"api_key_id":"k","raw_api_key":"par_live_SECRET_0123456789""#,
        ] {
            match parse_created_key(200, body, &[]) {
                Err(CreateKeyError::MayHaveCreated(ApiError::Undecodable {
                    excerpt,
                    problem,
                    ..
                })) => {
                    assert!(!excerpt.contains(RAW), "{excerpt}");
                    assert!(!problem.contains(RAW), "{problem}");
                }
                other => panic!("unexpected {other:?} for {body:?}"),
            }
        }
    }

    #[test]
    fn apps_parse_and_tolerate_null() {
        let body = br#"{"apps":[{"app_name":"A","org_name":null,"app_id":"a1","org_id":"o1"},
                                {"app_name":"B","app_id":"b1","org_id":"o1","org_name":"Org"}]}"#;
        let apps = parse_apps(200, body, &[]).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].org_name, None);
        assert_eq!(apps[1].org_name.as_deref(), Some("Org"));
        assert!(
            parse_apps(200, br#"{"apps":null}"#, &[])
                .unwrap()
                .is_empty()
        );
        assert!(parse_apps(200, b"{}", &[]).unwrap().is_empty());
        assert!(matches!(
            parse_apps(200, b"<html>", &[]),
            Err(ApiError::Undecodable { .. })
        ));
        assert!(matches!(
            parse_apps(200, br#"{"apps":[{"app_name":1}]}"#, &[]),
            Err(ApiError::Undecodable { .. })
        ));
    }
}
