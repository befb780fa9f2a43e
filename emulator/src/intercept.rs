//! Middleware around every API request: logs it, counts concurrency, adds
//! the configured latency and applies the next matching scripted fault.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::detail_response;
use crate::faults::FaultKind;
use crate::server::ConnectionKiller;
use crate::state::{Shared, lock};
use crate::traffic::InFlight;

pub async fn intercept(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let killer = request.extensions().get::<ConnectionKiller>().cloned();
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut in_flight = shared.traffic.begin(method, path, user_agent);
    let fault = lock(&shared.faults).take(in_flight.method(), in_flight.path());
    if let Some(fault) = &fault {
        in_flight.set_fault(fault.name());
    }

    let latency = shared.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let response = match fault {
        None => next.run(request).await,
        Some(FaultKind::Latency(extra)) => {
            tokio::time::sleep(extra).await;
            next.run(request).await
        }
        Some(FaultKind::HoldAfterActing(hold)) => {
            let acted = next.run(request).await;
            tokio::time::sleep(hold).await;
            acted
        }
        Some(FaultKind::Status {
            code,
            retry_after,
            body,
        }) => scripted_status(code, retry_after.as_deref(), body),
        Some(FaultKind::DropBeforeActing) => return drop_connection(in_flight, killer).await,
        Some(FaultKind::DropAfterActing) => {
            let _acted = next.run(request).await;
            return drop_connection(in_flight, killer).await;
        }
        Some(FaultKind::MalformedBodyAfterActing { body, status }) => {
            let _acted = next.run(request).await;
            raw_response(status_or_500(status), body)
        }
        Some(FaultKind::OmitFieldAfterActing { field }) => {
            let acted = next.run(request).await;
            without_field(acted, &field).await
        }
        Some(FaultKind::EditBodyAfterActing { replace, append }) => {
            let acted = next.run(request).await;
            edited(acted, &replace, &append).await
        }
    };
    in_flight.finish(Some(response.status().as_u16()));
    response
}

/// Logs the request as unanswered, then has the accept loop drop the socket.
/// This future never completes: the connection task drops it.
async fn drop_connection(in_flight: InFlight, killer: Option<ConnectionKiller>) -> Response {
    in_flight.finish(None);
    match killer {
        Some(killer) => {
            killer.kill();
            std::future::pending().await
        }
        // Only reachable when the router is driven without our accept loop,
        // which has no connection to cut.
        None => detail_response(
            StatusCode::BAD_GATEWAY,
            "connection dropped by emulator fault",
        ),
    }
}

/// The same answer with one top-level field of its JSON body removed.
async fn without_field(response: Response, field: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return detail_response(StatusCode::INTERNAL_SERVER_ERROR, "unreadable answer");
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.remove(field);
            serde_json::Value::Object(object).to_string().into_bytes()
        }
        _ => bytes.to_vec(),
    };
    // The length changed; let the server compute it again.
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// The same answer written out member by member, with the raw texts of
/// `replace` as values and `append` after it (see
/// `FaultKind::EditBodyAfterActing`).
async fn edited(response: Response, replace: &BTreeMap<String, String>, append: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return detail_response(StatusCode::INTERNAL_SERVER_ERROR, "unreadable answer");
    };
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let quoted = |name: &str| serde_json::Value::from(name).to_string();
    let mut members: Vec<String> = object
        .iter()
        .map(|(name, value)| match replace.get(name) {
            Some(raw) => format!("{}:{raw}", quoted(name)),
            None => format!("{}:{value}", quoted(name)),
        })
        .collect();
    for (name, raw) in replace {
        if !object.contains_key(name) {
            members.push(format!("{}:{raw}", quoted(name)));
        }
    }
    let text = format!("{{{}}}{append}", members.join(","));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

fn status_or_500(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn scripted_status(code: u16, retry_after: Option<&str>, body: Option<String>) -> Response {
    let status = status_or_500(code);
    let mut response = match body {
        Some(body) => raw_response(status, body),
        None => detail_response(status, status.canonical_reason().unwrap_or("Error")),
    };
    if let Some(value) = retry_after.and_then(|text| HeaderValue::from_str(text).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A scripted body is sent as-is. It is labelled HTML when it looks like
/// markup (a proxy error page) and JSON otherwise, so a broken body also
/// carries a misleading content type, as it would from a faulty upstream.
fn raw_response(status: StatusCode, body: String) -> Response {
    let content_type = if body.trim_start().starts_with('<') {
        "text/html; charset=utf-8"
    } else {
        "application/json"
    };
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        Body::from(body),
    )
        .into_response()
}
