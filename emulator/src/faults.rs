//! Scripted misbehaviour: tests queue faults, and each matching request
//! consumes the first matching one, in the order they were pushed.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use http::Method;
use serde::Deserialize;

/// One scripted fault. It applies to the next `times` requests whose method
/// matches (`None` = any) and whose path contains `path_contains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub method: Option<Method>,
    pub path_contains: String,
    pub times: u32,
    pub kind: FaultKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer this status instead, without acting. Without a body the answer
    /// is FastAPI-shaped: `{"detail": "<reason phrase>"}`.
    Status {
        code: u16,
        retry_after: Option<String>,
        body: Option<String>,
    },
    /// Wait, then act normally.
    Latency(Duration),
    /// Perform the operation, then hold the (normal) answer this long
    /// before sending it: the window in which a client killed after
    /// sending can never learn what was done.
    HoldAfterActing(Duration),
    /// Close the TCP connection without any response; the store is untouched.
    DropBeforeActing,
    /// Perform the operation, then close the connection without a response.
    DropAfterActing,
    /// Perform the operation, then answer `status` with this (broken) body.
    MalformedBodyAfterActing { body: String, status: u16 },
    /// Perform the operation, then answer as usual but without this field
    /// of the JSON answer (an API that changed its schema under us).
    OmitFieldAfterActing { field: String },
    /// Perform the operation, then answer as usual but with the value of
    /// each top-level field in `replace` written as the given raw text
    /// (inserted verbatim, so it may be invalid JSON such as `1e400`; a
    /// field the answer lacks is added), and `append` after the closing
    /// brace: a real answer, with the real key in it, and one bad part.
    EditBodyAfterActing {
        replace: BTreeMap<String, String>,
        append: String,
    },
}

impl Fault {
    /// A fault for the next request, whatever its method and path.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            method: None,
            path_contains: String::new(),
            times: 1,
            kind,
        }
    }

    /// Restricts the fault to one method and to paths containing a fragment.
    pub fn on(mut self, method: Method, path_contains: impl Into<String>) -> Fault {
        self.method = Some(method);
        self.path_contains = path_contains.into();
        self
    }

    pub fn times(mut self, times: u32) -> Fault {
        self.times = times;
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|wanted| wanted == method)
            && path.contains(&self.path_contains)
    }
}

impl FaultKind {
    /// A bare status answer, e.g. `FaultKind::status(503)`.
    pub fn status(code: u16) -> FaultKind {
        FaultKind::Status {
            code,
            retry_after: None,
            body: None,
        }
    }

    /// Short name used in request records and admin output.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Status { .. } => "status",
            FaultKind::Latency(_) => "latency",
            FaultKind::HoldAfterActing(_) => "hold_after_acting",
            FaultKind::DropBeforeActing => "drop_before_acting",
            FaultKind::DropAfterActing => "drop_after_acting",
            FaultKind::MalformedBodyAfterActing { .. } => "malformed_body_after_acting",
            FaultKind::OmitFieldAfterActing { .. } => "omit_field_after_acting",
            FaultKind::EditBodyAfterActing { .. } => "edit_body_after_acting",
        }
    }
}

#[derive(Debug, Default)]
pub struct FaultQueue {
    faults: VecDeque<Fault>,
}

impl FaultQueue {
    pub fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.faults.push_back(fault);
        }
    }

    pub fn clear(&mut self) {
        self.faults.clear();
    }

    pub fn len(&self) -> usize {
        self.faults.len()
    }

    /// Consumes one use of the first fault matching this request.
    pub fn take(&mut self, method: &Method, path: &str) -> Option<FaultKind> {
        let index = self
            .faults
            .iter()
            .position(|fault| fault.matches(method, path))?;
        let fault = self.faults.get_mut(index)?;
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            self.faults.remove(index);
        }
        Some(kind)
    }
}

/// The JSON form accepted by `POST /_emulator/faults`, e.g.
/// `{"method": "POST", "path_contains": "/keys", "times": 2, "kind": "status", "code": 503, "retry_after": "1"}`.
#[derive(Debug, Deserialize)]
pub struct FaultSpec {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path_contains: String,
    #[serde(default = "one")]
    times: u32,
    #[serde(flatten)]
    kind: FaultKindSpec,
}

fn one() -> u32 {
    1
}

fn ok_status() -> u16 {
    200
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum FaultKindSpec {
    Status {
        code: u16,
        #[serde(default)]
        retry_after: Option<String>,
        #[serde(default)]
        body: Option<String>,
    },
    Latency {
        ms: u64,
    },
    HoldAfterActing {
        ms: u64,
    },
    DropBeforeActing,
    DropAfterActing,
    MalformedBodyAfterActing {
        body: String,
        #[serde(default = "ok_status")]
        status: u16,
    },
    OmitFieldAfterActing {
        field: String,
    },
    EditBodyAfterActing {
        #[serde(default)]
        replace: BTreeMap<String, String>,
        #[serde(default)]
        append: String,
    },
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FaultSpecError {
    #[error("invalid HTTP method {0:?}")]
    Method(String),
    #[error("invalid HTTP status code {0}")]
    Status(u16),
}

fn checked_status(code: u16) -> Result<u16, FaultSpecError> {
    http::StatusCode::from_u16(code)
        .map(|_| code)
        .map_err(|_| FaultSpecError::Status(code))
}

impl TryFrom<FaultSpec> for Fault {
    type Error = FaultSpecError;

    fn try_from(spec: FaultSpec) -> Result<Fault, FaultSpecError> {
        let method = match spec.method {
            None => None,
            Some(text) => Some(
                Method::from_bytes(text.to_ascii_uppercase().as_bytes())
                    .map_err(|_| FaultSpecError::Method(text))?,
            ),
        };
        let kind = match spec.kind {
            FaultKindSpec::Status {
                code,
                retry_after,
                body,
            } => FaultKind::Status {
                code: checked_status(code)?,
                retry_after,
                body,
            },
            FaultKindSpec::Latency { ms } => FaultKind::Latency(Duration::from_millis(ms)),
            FaultKindSpec::HoldAfterActing { ms } => {
                FaultKind::HoldAfterActing(Duration::from_millis(ms))
            }
            FaultKindSpec::DropBeforeActing => FaultKind::DropBeforeActing,
            FaultKindSpec::DropAfterActing => FaultKind::DropAfterActing,
            FaultKindSpec::MalformedBodyAfterActing { body, status } => {
                FaultKind::MalformedBodyAfterActing {
                    body,
                    status: checked_status(status)?,
                }
            }
            FaultKindSpec::OmitFieldAfterActing { field } => {
                FaultKind::OmitFieldAfterActing { field }
            }
            FaultKindSpec::EditBodyAfterActing { replace, append } => {
                FaultKind::EditBodyAfterActing { replace, append }
            }
        };
        Ok(Fault {
            method,
            path_contains: spec.path_contains,
            times: spec.times,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order_and_by_count() {
        let mut queue = FaultQueue::default();
        queue.push(
            Fault::new(FaultKind::status(503))
                .on(Method::POST, "/keys")
                .times(2),
        );
        queue.push(Fault::new(FaultKind::DropAfterActing).on(Method::POST, "/keys"));
        let take = |queue: &mut FaultQueue| queue.take(&Method::POST, "/service/v1/apps/x/keys");
        assert_eq!(take(&mut queue), Some(FaultKind::status(503)));
        assert_eq!(take(&mut queue), Some(FaultKind::status(503)));
        assert_eq!(take(&mut queue), Some(FaultKind::DropAfterActing));
        assert_eq!(take(&mut queue), None);
    }

    #[test]
    fn non_matching_requests_leave_faults_alone() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::new(FaultKind::DropBeforeActing).on(Method::DELETE, "/keys/"));
        assert_eq!(queue.take(&Method::POST, "/service/v1/apps/x/keys"), None);
        assert_eq!(queue.take(&Method::DELETE, "/service/v1/apps/x"), None);
        assert_eq!(
            queue.take(&Method::DELETE, "/service/v1/apps/x/keys/y"),
            Some(FaultKind::DropBeforeActing)
        );
    }

    #[test]
    fn later_faults_serve_requests_earlier_ones_do_not_match() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::new(FaultKind::status(500)).on(Method::GET, "/balance"));
        queue.push(Fault::new(FaultKind::status(429)));
        assert_eq!(
            queue.take(&Method::POST, "/service/v1/apps"),
            Some(FaultKind::status(429))
        );
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn zero_times_is_never_queued() {
        let mut queue = FaultQueue::default();
        queue.push(Fault::new(FaultKind::DropBeforeActing).times(0));
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn admin_json_converts_to_faults() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"method":"post","path_contains":"/keys","times":2,"kind":"status","code":429,"retry_after":"3"}"#,
        )
        .unwrap();
        let fault = Fault::try_from(spec).unwrap();
        assert_eq!(fault.method, Some(Method::POST));
        assert_eq!(fault.times, 2);
        assert_eq!(
            fault.kind,
            FaultKind::Status {
                code: 429,
                retry_after: Some("3".into()),
                body: None
            }
        );

        let spec: FaultSpec = serde_json::from_str(r#"{"kind":"latency","ms":20}"#).unwrap();
        let fault = Fault::try_from(spec).unwrap();
        assert_eq!(fault.kind, FaultKind::Latency(Duration::from_millis(20)));
        assert_eq!((fault.method, fault.times), (None, 1));

        let spec: FaultSpec =
            serde_json::from_str(r#"{"kind":"hold_after_acting","ms":3000}"#).unwrap();
        assert_eq!(
            Fault::try_from(spec).unwrap().kind,
            FaultKind::HoldAfterActing(Duration::from_secs(3))
        );

        let spec: FaultSpec =
            serde_json::from_str(r#"{"kind":"malformed_body_after_acting","body":"<html>"}"#)
                .unwrap();
        assert_eq!(
            Fault::try_from(spec).unwrap().kind,
            FaultKind::MalformedBodyAfterActing {
                body: "<html>".into(),
                status: 200
            }
        );
    }

    #[test]
    fn admin_json_edits_bodies() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"kind":"edit_body_after_acting","replace":{"created_at":"1e400"},"append":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            Fault::try_from(spec).unwrap().kind,
            FaultKind::EditBodyAfterActing {
                replace: BTreeMap::from([("created_at".to_owned(), "1e400".to_owned())]),
                append: "x".into()
            }
        );
    }

    #[test]
    fn admin_json_rejects_bad_codes_and_methods() {
        let spec: FaultSpec = serde_json::from_str(r#"{"kind":"status","code":42}"#).unwrap();
        assert_eq!(Fault::try_from(spec), Err(FaultSpecError::Status(42)));
        let spec: FaultSpec =
            serde_json::from_str(r#"{"method":"NOT A METHOD","kind":"drop_after_acting"}"#)
                .unwrap();
        assert!(matches!(
            Fault::try_from(spec),
            Err(FaultSpecError::Method(_))
        ));
    }
}
