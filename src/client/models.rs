//! What the Account API answers, what a failed key creation means, and
//! lenient reading of a created key.
//!
//! Once the API has answered 2xx to a create, the key exists and its raw
//! value will never be shown again. So the create answer is read field by
//! field: whatever can be read is kept, even when another field is missing
//! or has the wrong type, and the caller gets both the partial key and a
//! description of the problem.

use serde::Deserialize;
use serde_json::{Number, Value};

use super::endpoint::is_usable_segment;
use super::error::ApiError;
use super::lenient::{Members, NotAnObject, read_object};
use super::redact::success_excerpt;
use super::transport::{Answer, MAX_BODY_BYTES};
use crate::secret::Secret;

/// A failed key creation, split by what it means for the key.
///
/// Creating a key is not idempotent and the raw key is shown only once, so
/// the caller must know whether a key may exist that it never received.
///
/// `Incomplete` holds the partial key inline, which makes this error a few
/// hundred bytes; it is built at most once per create, so functions
/// returning it allow `clippy::result_large_err` rather than box it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CreateKeyError {
    /// The API certainly did not create a key; trying again is safe.
    #[error("no API key was created: {0}")]
    NotCreated(ApiError),

    /// A key may exist on Parallel's side even though this call failed
    /// (5xx other than 503, timeout after sending, connection lost, 2xx with
    /// an unreadable body, or cancellation while the request was in flight).
    #[error(
        "creating the API key failed, but Parallel may have created it anyway: {0}. It was not \
         retried, to avoid creating duplicates; look for a stray key in the app on the Parallel \
         platform and delete it if present"
    )]
    MayHaveCreated(ApiError),

    /// Parallel created the key and said so, but part of its answer was
    /// missing or malformed; `key` keeps everything that could be read.
    #[error(
        "Parallel created API key {} but its answer was incomplete ({problem}); the key exists \
         and what could be read was kept",
        partial_key_name(.key)
    )]
    Incomplete { key: NewKey, problem: String },
}

impl CreateKeyError {
    /// Wraps a failed create call according to whether the server may have
    /// acted on it.
    pub(crate) fn from_failure(error: ApiError, may_have_created: bool) -> Self {
        if may_have_created {
            CreateKeyError::MayHaveCreated(error)
        } else {
            CreateKeyError::NotCreated(error)
        }
    }
}

fn partial_key_name(key: &NewKey) -> String {
    match &key.api_key_id {
        Some(id) => format!("`{id}`"),
        None => "(id unknown)".to_owned(),
    }
}

/// A key as `POST /service/v1/apps/{app_id}/keys` answered it. From a
/// successful `create_key` every field is `Some`; in
/// `CreateKeyError::Incomplete` it holds whatever could be read. One type
/// for both, so what the answer said is recorded the same way either way.
#[derive(Debug, Clone, Default)]
pub struct NewKey {
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

impl NewKey {
    /// The fields the answer lacked, by name.
    fn missing(&self) -> Vec<&'static str> {
        [
            ("api_key_id", self.api_key_id.is_none()),
            ("api_key_name", self.api_key_name.is_none()),
            ("app_id", self.app_id.is_none()),
            ("app_name", self.app_name.is_none()),
            ("created_by_user_id", self.created_by_user_id.is_none()),
            (
                "created_by_user_email",
                self.created_by_user_email.is_none(),
            ),
            ("display_value", self.display_value.is_none()),
            ("raw_api_key", self.raw_api_key.is_none()),
            ("created_at", self.created_at.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect()
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

impl App {
    /// Whether this is the app `id`. IDs are compared as UUIDs, so any
    /// spelling of one (case, braces, `urn:uuid:`) matches.
    pub fn has_id(&self, id: uuid::Uuid) -> bool {
        uuid::Uuid::parse_str(&self.app_id).is_ok_and(|own| own == id)
    }
}

#[derive(Deserialize)]
struct AppsAnswer {
    // The API declares the list nullable; null means "no apps".
    #[serde(default)]
    apps: Option<Vec<App>>,
}

/// Reads the 2xx answer to a create, member by member (see `lenient`):
/// whatever can be read is kept. `truncated` says the body was cut at the
/// size limit. `status` and `secrets` only serve error texts.
#[allow(clippy::result_large_err)] // see `CreateKeyError`
pub(crate) fn parse_created_key(
    status: u16,
    body: &[u8],
    truncated: bool,
    secrets: &[&str],
) -> Result<NewKey, CreateKeyError> {
    let undecodable = |problem: String| {
        CreateKeyError::MayHaveCreated(ApiError::Undecodable {
            status,
            problem,
            excerpt: success_excerpt(body, secrets),
        })
    };
    let members = match read_object(body) {
        Ok(members) => members,
        Err(NotAnObject::Empty) => return Err(undecodable("empty body".to_owned())),
        Err(NotAnObject::Other(shape)) => {
            return Err(undecodable(format!("expected a JSON object, got {shape}")));
        }
    };
    let mut problems = Vec::new();
    if truncated {
        problems.push(format!(
            "the answer is larger than {} KiB and only its beginning was read",
            MAX_BODY_BYTES / 1024
        ));
    }
    problems.extend(members.damage.iter().cloned());
    // Without an id or a raw value, nothing in the answer names a key.
    if !members.contains("api_key_id") && !members.contains("raw_api_key") {
        problems.insert(
            0,
            "the answer names no key (no api_key_id, no raw_api_key)".to_owned(),
        );
        return Err(undecodable(problems.join("; ")));
    }

    let mut text = |name: &str| string_field(&members, name, &mut problems);
    let mut key = NewKey {
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
    key.created_at = number_field(&members, "created_at", &mut problems);
    // An id that cannot be put in a request path cannot revoke the key:
    // it is as good as none, and saying so now beats failing every destroy.
    if let Some(id) = key.api_key_id.take_if(|id| !is_usable_segment(id)) {
        problems.push(format!(
            "`api_key_id` is {}, which cannot address the key in a request",
            if id.is_empty() {
                "empty".to_owned()
            } else {
                format!("`{id}`")
            }
        ));
    }

    if !problems.is_empty() {
        return Err(CreateKeyError::Incomplete {
            key,
            problem: problems.join("; "),
        });
    }
    // Every field is `Some` unless a problem was recorded for it; should
    // one be missing anyway, the answer is incomplete, never a panic.
    let missing = key.missing();
    if missing.is_empty() {
        Ok(key)
    } else {
        Err(CreateKeyError::Incomplete {
            key,
            problem: format!("the answer lacks {}", missing.join(", ")),
        })
    }
}

/// Reads a 2xx JSON answer as `T`; `truncated` says the body was cut at
/// the size limit, and `what` names the answer in the error (e.g. "a list
/// of apps").
pub(crate) fn parse_answer<T: serde::de::DeserializeOwned>(
    answer: &Answer,
    secrets: &[&str],
    what: &str,
) -> Result<T, ApiError> {
    let undecodable = |problem: String| ApiError::Undecodable {
        status: answer.status,
        problem,
        excerpt: success_excerpt(&answer.body, secrets),
    };
    if answer.truncated {
        return Err(undecodable(format!(
            "the answer is larger than {} KiB",
            MAX_BODY_BYTES / 1024
        )));
    }
    serde_json::from_slice::<T>(&answer.body)
        .map_err(|e| undecodable(format!("not {what}: {}", json_error_kind(&e))))
}

/// Reads the 2xx answer to a list of apps.
pub(crate) fn parse_apps(answer: &Answer, secrets: &[&str]) -> Result<Vec<App>, ApiError> {
    parse_answer::<AppsAnswer>(answer, secrets, "a list of apps")
        .map(|answer| answer.apps.unwrap_or_default())
}

// Problem texts name fields and JSON types only, never values: a value may
// be the raw key itself.

fn string_field(members: &Members, name: &str, problems: &mut Vec<String>) -> Option<String> {
    match members.read.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(format!(
                "`{name}` is {}, expected a string",
                type_name(other)
            ));
            None
        }
        None => {
            problems.push(absent(members, name));
            None
        }
    }
}

fn number_field(members: &Members, name: &str, problems: &mut Vec<String>) -> Option<Number> {
    match members.read.get(name) {
        Some(Value::Number(n)) => Some(n.clone()),
        Some(other) => {
            problems.push(format!(
                "`{name}` is {}, expected a number",
                type_name(other)
            ));
            None
        }
        None => {
            problems.push(absent(members, name));
            None
        }
    }
}

fn absent(members: &Members, name: &str) -> String {
    match members.why_unreadable(name) {
        Some(why) => format!("`{name}` could not be read ({why})"),
        None => format!("`{name}` is missing"),
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
pub(super) fn json_error_kind(error: &serde_json::Error) -> String {
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

    /// A whole 200 answer with this body.
    fn ok(body: &[u8]) -> Answer {
        Answer {
            status: 200,
            body: body.to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn create_error_classes() {
        let not = CreateKeyError::from_failure(ApiError::Cancelled, false);
        assert!(matches!(
            not,
            CreateKeyError::NotCreated(ApiError::Cancelled)
        ));
        let may = CreateKeyError::from_failure(ApiError::Cancelled, true);
        assert!(matches!(
            may,
            CreateKeyError::MayHaveCreated(ApiError::Cancelled)
        ));
        assert!(may.to_string().contains("may have created"), "{may}");
    }

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
    fn parse(value: &Value) -> Result<NewKey, CreateKeyError> {
        parse_created_key(200, value.to_string().as_bytes(), false, &[])
    }

    #[test]
    fn reads_a_complete_answer() {
        let key = parse(&full_body()).unwrap();
        assert_eq!(key.api_key_id.as_deref(), Some("key_123"));
        assert_eq!(key.raw_api_key.as_ref().map(Secret::expose), Some(RAW));
        assert_eq!(
            key.created_at.as_ref().and_then(Number::as_u64),
            Some(1_731_000_000)
        );
        assert_eq!(key.app_name.as_deref(), Some("Terraform"));
        assert!(key.missing().is_empty());
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
            br#"{"status":"ok"} trailing"#,
        ] {
            match parse_created_key(200, body, false, &[]) {
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

    /// Breaks `full_body` textually: `created_at` becomes `created_at`'s
    /// replacement, and `suffix` follows the closing brace.
    fn broken(created_at: &str, suffix: &str) -> Vec<u8> {
        let text = full_body().to_string().replace("1731000000", created_at);
        format!("{text}{suffix}").into_bytes()
    }

    #[track_caller]
    fn assert_kept(body: &[u8], expected_problem: &str) -> NewKey {
        match parse_created_key(200, body, false, &[]) {
            Err(CreateKeyError::Incomplete { key, problem }) => {
                assert!(problem.contains(expected_problem), "{problem}");
                assert!(!problem.contains(RAW), "{problem}");
                assert_eq!(key.api_key_id.as_deref(), Some("key_123"));
                assert_eq!(key.raw_api_key.as_ref().map(Secret::expose), Some(RAW));
                key
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_four_malformations_keep_the_key() {
        let key = assert_kept(&broken("1e400", ""), "`created_at` could not be read");
        assert!(key.created_at.is_none() && key.app_name.is_some());
        let key = assert_kept(&broken("1731000000", "{}"), "2 unexpected byte(s) follow");
        assert!(key.created_at.is_some());
        assert_kept(
            &broken(r#""\ud800""#, ""),
            "`created_at` could not be read (",
        );
        // Unreadable members the provider does not use cost nothing.
        let deep = format!("1,\"deep\":{}{}", "[".repeat(300), "]".repeat(300));
        let key = parse_created_key(200, &broken(&deep, ""), false, &[]).unwrap();
        assert_eq!(key.raw_api_key.as_ref().map(Secret::expose), Some(RAW));
        let key = parse_created_key(200, &broken(r#"1,"x":"\ud800""#, ""), false, &[]).unwrap();
        assert_eq!(key.api_key_id.as_deref(), Some("key_123"));
    }

    #[test]
    fn a_cut_off_answer_keeps_the_members_before_the_cut() {
        let body = br#"{"api_key_id":"key_123","raw_api_key":"par_live_SECRET_0123456789""#;
        let key = assert_kept(body, "cut off after 2 members");
        assert!(key.app_name.is_none());
        let body = br#"{"api_key_id":"key_123","raw_api_key":"par_live_SEC"#;
        match parse_created_key(200, body, false, &[]) {
            Err(CreateKeyError::Incomplete { key, .. }) => {
                assert_eq!(key.api_key_id.as_deref(), Some("key_123"));
                assert!(key.raw_api_key.is_none());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn an_id_unusable_in_a_path_counts_as_missing() {
        for (id, said) in [("", "is empty"), ("..", "is `..`"), (".", "is `.`")] {
            let mut body = full_body();
            body["api_key_id"] = Value::from(id);
            match parse(&body) {
                Err(CreateKeyError::Incomplete { key, problem }) => {
                    assert!(key.api_key_id.is_none(), "{id:?}");
                    assert!(key.raw_api_key.is_some(), "{id:?}");
                    assert!(problem.contains(said), "{problem}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn a_truncated_answer_is_incomplete_whatever_it_holds() {
        let body = full_body().to_string();
        match parse_created_key(200, body.as_bytes(), true, &[]) {
            Err(CreateKeyError::Incomplete { key, problem }) => {
                assert!(problem.contains("larger than 1024 KiB"), "{problem}");
                assert!(key.raw_api_key.is_some());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn apps_parse_and_tolerate_null() {
        let body = br#"{"apps":[{"app_name":"A","org_name":null,"app_id":"a1","org_id":"o1"},
                                {"app_name":"B","app_id":"b1","org_id":"o1","org_name":"Org"}]}"#;
        let apps = parse_apps(&ok(body), &[]).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].org_name, None);
        assert_eq!(apps[1].org_name.as_deref(), Some("Org"));
        assert!(
            parse_apps(&ok(br#"{"apps":null}"#), &[])
                .unwrap()
                .is_empty()
        );
        assert!(parse_apps(&ok(b"{}"), &[]).unwrap().is_empty());
        assert!(matches!(
            parse_apps(&ok(b"<html>"), &[]),
            Err(ApiError::Undecodable { .. })
        ));
        assert!(matches!(
            parse_apps(&ok(br#"{"apps":[{"app_name":1}]}"#), &[]),
            Err(ApiError::Undecodable { .. })
        ));
    }
}
