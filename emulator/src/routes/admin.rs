//! `/_emulator/*`: unauthenticated loopback tooling, so scripts driving the
//! binary can do what the Rust `Emulator` handle does. Never logged in the
//! request record and never subject to faults or latency.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /_emulator/keys` | live keys, as create-key responses (raw keys included) |
//! | `POST /_emulator/keys/{api_key_id}/revoke` | out-of-band revocation (404 if not live) |
//! | `GET`/`DELETE /_emulator/requests` | request log (`started_ms`/`finished_ms` since start) / clear it |
//! | `POST`/`DELETE /_emulator/faults` | queue a fault (see `FaultSpec`) / drop all queued faults |
//! | `POST /_emulator/latency` | `{"ms": 50}`: latency added to every API request |
//! | `POST /_emulator/apps` | `{"app_name": "x"}` → the app as listed by the API |
//! | `POST /_emulator/billing` | `{"will_invoice": true}`: invoice billing on or off |
//! | `POST /_emulator/clock` | `{"advance_secs": 86400}`: moves the emulator's clock on |
//! | `GET /_emulator/stats` | max concurrency, in-flight requests, pending faults, latency |
//! | `GET /_emulator/logins` | refresh grants served, and every token of emulated logins (secrets included) |

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::errors::{detail_response, json_response};
use crate::faults::{Fault, FaultSpec};
use crate::state::{Shared, lock};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_emulator/keys", get(live_keys))
        .route("/_emulator/keys/{api_key_id}/revoke", post(revoke_key))
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/faults", post(push_fault).delete(clear_faults))
        .route("/_emulator/latency", post(set_latency))
        .route("/_emulator/apps", post(create_app))
        .route("/_emulator/billing", post(set_billing))
        .route("/_emulator/clock", post(advance_clock))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/logins", get(logins))
        .with_state(shared)
}

/// Admin errors carry serde's own message: tooling only needs to know why.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|error| error.to_string())
}

fn unprocessable(reason: &str) -> Response {
    detail_response(StatusCode::UNPROCESSABLE_ENTITY, reason)
}

async fn live_keys(State(shared): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &lock(&shared.store).live_keys())
}

async fn revoke_key(State(shared): State<Arc<Shared>>, Path(api_key_id): Path<String>) -> Response {
    if lock(&shared.store).revoke_key(&api_key_id) {
        json_response(StatusCode::OK, &json!({ "revoked": true }))
    } else {
        detail_response(StatusCode::NOT_FOUND, "API key not found")
    }
}

async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    json_response(StatusCode::OK, &shared.traffic.records_json())
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> Response {
    shared.traffic.clear();
    json_response(StatusCode::OK, &json!({}))
}

async fn push_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed = parse::<FaultSpec>(&body)
        .and_then(|spec| Fault::try_from(spec).map_err(|error| error.to_string()));
    let fault = match parsed {
        Ok(fault) => fault,
        Err(reason) => return unprocessable(&reason),
    };
    let mut faults = lock(&shared.faults);
    faults.push(fault);
    json_response(StatusCode::OK, &json!({ "pending_faults": faults.len() }))
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.faults).clear();
    json_response(StatusCode::OK, &json!({ "pending_faults": 0 }))
}

#[derive(Deserialize)]
struct LatencyRequest {
    ms: u64,
}

async fn set_latency(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<LatencyRequest>(&body) {
        Ok(LatencyRequest { ms }) => {
            shared.set_latency(Duration::from_millis(ms));
            json_response(StatusCode::OK, &json!({ "ms": ms }))
        }
        Err(reason) => unprocessable(&reason),
    }
}

#[derive(Deserialize)]
struct CreateAppRequest {
    app_name: String,
}

async fn create_app(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<CreateAppRequest>(&body) {
        Ok(CreateAppRequest { app_name }) => {
            json_response(StatusCode::OK, &lock(&shared.store).create_app(app_name))
        }
        Err(reason) => unprocessable(&reason),
    }
}

#[derive(Deserialize)]
struct BillingRequest {
    will_invoice: bool,
}

async fn set_billing(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<BillingRequest>(&body) {
        Ok(BillingRequest { will_invoice }) => {
            lock(&shared.store).set_will_invoice(will_invoice);
            json_response(StatusCode::OK, &json!({ "will_invoice": will_invoice }))
        }
        Err(reason) => unprocessable(&reason),
    }
}

#[derive(Deserialize)]
struct ClockRequest {
    advance_secs: u64,
}

async fn advance_clock(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<ClockRequest>(&body) {
        Ok(ClockRequest { advance_secs }) => {
            lock(&shared.store).advance_clock(Duration::from_secs(advance_secs));
            json_response(StatusCode::OK, &json!({ "advanced_secs": advance_secs }))
        }
        Err(reason) => unprocessable(&reason),
    }
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let latency_ms = u64::try_from(shared.latency().as_millis()).unwrap_or(u64::MAX);
    json_response(
        StatusCode::OK,
        &json!({
            "max_concurrent_requests": shared.traffic.max_concurrent(),
            "in_flight_requests": shared.traffic.in_flight(),
            "pending_faults": lock(&shared.faults).len(),
            "latency_ms": latency_ms,
        }),
    )
}

async fn logins(State(shared): State<Arc<Shared>>) -> Response {
    let logins = lock(&shared.logins);
    json_response(
        StatusCode::OK,
        &json!({
            "refreshes": logins.refreshes(),
            "issued_secrets": logins.issued_secrets(),
        }),
    )
}
