//! Turning a non-2xx answer into an [`ApiError`].
//!
//! Parallel's Account API is a FastAPI service: errors come as
//! `{"detail": "text"}`, and request validation failures (422) as
//! `{"detail": [{"loc": ["body", "field"], "msg": "...", "type": "..."}]}`.
//! Anything else (proxies' HTML pages, empty bodies) still yields an error,
//! with a scrubbed excerpt of the body.

use std::time::Duration;

use serde_json::Value;

use super::error::{ApiError, FieldProblem};
use super::redact::{EXCERPT_CHARS, excerpt, scrub, shorten};

/// The error for a non-2xx `status` whose (possibly partial) body is `body`.
pub(crate) fn error_for_status(
    status: u16,
    url: &str,
    body: &[u8],
    retry_after: Option<Duration>,
    secrets: &[&str],
) -> ApiError {
    match status {
        401 => ApiError::Unauthorized {
            detail: detail_text(body, secrets),
            origin: None,
        },
        403 => ApiError::Forbidden {
            detail: detail_text(body, secrets),
        },
        404 => ApiError::NotFound {
            detail: detail_text(body, secrets),
            url: url.to_owned(),
        },
        422 => ApiError::Validation {
            problems: validation_problems(body, secrets),
        },
        429 => ApiError::RateLimited { retry_after },
        _ => ApiError::Status {
            status,
            excerpt: excerpt(body, secrets),
            // Only "unavailable" promises that waiting helps.
            retry_after: retry_after.filter(|_| status == 503),
        },
    }
}

/// The `detail` of a FastAPI error body, scrubbed and shortened; `None` when
/// the body is not such an error at all. A non-string `detail` is rendered
/// as compact JSON.
pub(crate) fn detail_text(body: &[u8], secrets: &[&str]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let detail = value.as_object()?.get("detail")?;
    let text = match detail {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(clean(&text, secrets))
}

/// The problems listed by a 422 body. Never empty: a body that is not the
/// FastAPI shape becomes a single problem holding its excerpt, so the user
/// still sees what the server said.
pub(crate) fn validation_problems(body: &[u8], secrets: &[&str]) -> Vec<FieldProblem> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let detail = parsed
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|o| o.get("detail"));
    let problems: Vec<FieldProblem> = match detail {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| field_problem(item, secrets))
            .collect(),
        Some(Value::String(s)) => vec![FieldProblem {
            loc: Vec::new(),
            msg: clean(s, secrets),
        }],
        _ => Vec::new(),
    };
    if problems.is_empty() {
        let text = excerpt(body, secrets);
        vec![FieldProblem {
            loc: Vec::new(),
            msg: if text.is_empty() {
                "no details given".to_owned()
            } else {
                text
            },
        }]
    } else {
        problems
    }
}

fn field_problem(item: &Value, secrets: &[&str]) -> Option<FieldProblem> {
    let object = item.as_object()?;
    // FastAPI locations mix names and list indices: ["body", "items", 0].
    let loc = object
        .get("loc")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .map(|part| match part {
                    Value::String(s) => clean(s, secrets),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let msg = object.get("msg").and_then(Value::as_str)?;
    Some(FieldProblem {
        loc,
        msg: clean(msg, secrets),
    })
}

fn clean(text: &str, secrets: &[&str]) -> String {
    shorten(&scrub(text, secrets), EXCERPT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://example.test/service/v1/apps";

    const TOKEN: &str = "tok_secret_123456";

    #[test]
    fn parses_fastapi_422() {
        let body = br#"{"detail":[{"loc":["body","api_key_name"],"msg":"Field required","type":"missing","input":{}},
                                 {"loc":["path","app_id",0],"msg":"Input should be a valid UUID","type":"uuid_parsing"}]}"#;
        let problems = validation_problems(body, &[]);
        assert_eq!(
            problems,
            vec![
                FieldProblem {
                    loc: vec!["body".into(), "api_key_name".into()],
                    msg: "Field required".into()
                },
                FieldProblem {
                    loc: vec!["path".into(), "app_id".into(), "0".into()],
                    msg: "Input should be a valid UUID".into()
                },
            ]
        );
    }

    #[test]
    fn odd_422_bodies_still_explain_something() {
        let p = validation_problems(br#"{"detail":"name taken"}"#, &[]);
        assert_eq!(p[0].msg, "name taken");
        assert!(p[0].loc.is_empty());
        let p = validation_problems(b"<html>Unprocessable</html>", &[]);
        assert_eq!(p[0].msg, "<html>Unprocessable</html>");
        let p = validation_problems(b"", &[]);
        assert_eq!(p[0].msg, "no details given");
        let p = validation_problems(br#"{"detail":[{"loc":"x"}]}"#, &[]);
        assert_eq!(p.len(), 1);
        let p = validation_problems(br#"{"detail":[{"loc":null,"msg":"m"}]}"#, &[]);
        assert_eq!(
            p[0],
            FieldProblem {
                loc: vec![],
                msg: "m".into()
            }
        );
    }

    #[test]
    fn maps_statuses() {
        let e = error_for_status(401, URL, br#"{"detail":"Invalid token"}"#, None, &[]);
        assert_eq!(
            e,
            ApiError::Unauthorized {
                detail: Some("Invalid token".into()),
                origin: None,
            }
        );
        let e = error_for_status(403, URL, b"", None, &[]);
        assert_eq!(e, ApiError::Forbidden { detail: None });
        let e = error_for_status(404, URL, b"<h1>Not Found</h1>", None, &[]);
        assert_eq!(
            e,
            ApiError::NotFound {
                detail: None,
                url: URL.into()
            }
        );
        let e = error_for_status(404, URL, br#"{"detail":"Not Found"}"#, None, &[]);
        assert_eq!(
            e,
            ApiError::NotFound {
                detail: Some("Not Found".into()),
                url: URL.into()
            }
        );
        let wait = Some(Duration::from_secs(3));
        assert_eq!(
            error_for_status(429, URL, b"slow down", wait, &[]),
            ApiError::RateLimited { retry_after: wait }
        );
        assert_eq!(
            error_for_status(502, URL, b"<html>\n Bad gateway </html>", None, &[]),
            ApiError::Status {
                status: 502,
                excerpt: "<html> Bad gateway </html>".into(),
                retry_after: None,
            }
        );
    }

    #[test]
    fn details_are_scrubbed_and_short() {
        let body = format!(
            r#"{{"detail":"token {TOKEN} rejected {}"}}"#,
            "x".repeat(500)
        );
        let detail = detail_text(body.as_bytes(), &[TOKEN]).unwrap();
        assert!(!detail.contains(TOKEN));
        assert!(detail.chars().count() <= EXCERPT_CHARS + 1);
        let body = format!(r#"{{"detail":[{{"loc":["body"],"msg":"bad {TOKEN}"}}]}}"#);
        let p = validation_problems(body.as_bytes(), &[TOKEN]);
        assert!(!p[0].msg.contains(TOKEN), "{:?}", p);
        let e = error_for_status(
            500,
            URL,
            format!("raw_api_key={TOKEN}x").as_bytes(),
            None,
            &[],
        );
        assert!(!e.to_string().contains(TOKEN), "{e}");
    }

    #[test]
    fn non_string_detail_is_rendered() {
        let d = detail_text(br#"{"detail":{"code":7}}"#, &[]);
        assert_eq!(d.as_deref(), Some(r#"{"code":7}"#));
        assert_eq!(detail_text(br#"[1,2]"#, &[]), None);
    }
}
