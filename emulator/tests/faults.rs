//! Each fault kind, seen from a real HTTP client.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Api, read};
use parallel_emulator::{Emulator, Fault, FaultKind};
use reqwest::Method;
use serde_json::json;

fn create_key_path(api: &Api) -> String {
    let app = api.emulator.create_app("demo");
    format!("/service/v1/apps/{}/keys", app.app_id)
}

#[tokio::test]
async fn status_fault_answers_without_acting() {
    let api = Api::start();
    let path = create_key_path(&api);
    api.emulator.push_fault(
        Fault::new(FaultKind::Status {
            code: 429,
            retry_after: Some("1".into()),
            body: None,
        })
        .on(Method::POST, "/keys")
        .times(2),
    );
    for _ in 0..2 {
        let response = api
            .authed(Method::POST, &path)
            .json(&json!({"api_key_name": "k"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "1");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body, json!({"detail": "Too Many Requests"}));
    }
    assert!(api.emulator.live_keys().is_empty());
    let (status, _) = api
        .call(Method::POST, &path, Some(json!({"api_key_name": "k"})))
        .await;
    assert_eq!(status, 200, "the fault is used up");
    assert_eq!(api.emulator.live_keys().len(), 1);
    assert_eq!(api.emulator.pending_faults(), 0);
}

#[tokio::test]
async fn status_fault_can_carry_a_custom_body() {
    let api = Api::start();
    api.emulator.push_fault(Fault::new(FaultKind::Status {
        code: 502,
        retry_after: None,
        body: Some("<html>bad gateway</html>".into()),
    }));
    let response = api
        .authed(Method::GET, "/service/v1/balance")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(response.text().await.unwrap(), "<html>bad gateway</html>");
}

#[tokio::test]
async fn latency_fault_delays_then_acts() {
    let api = Api::start();
    let path = create_key_path(&api);
    api.emulator.push_fault(
        Fault::new(FaultKind::Latency(Duration::from_millis(150))).on(Method::POST, "/keys"),
    );
    let started = Instant::now();
    let (status, _) = api
        .call(Method::POST, &path, Some(json!({"api_key_name": "k"})))
        .await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(api.emulator.live_keys().len(), 1);
    assert_eq!(api.emulator.requests()[0].fault, Some("latency"));
}

#[tokio::test]
async fn drop_before_acting_is_a_connection_error_and_changes_nothing() {
    let api = Api::start();
    let path = create_key_path(&api);
    api.emulator
        .push_fault(Fault::new(FaultKind::DropBeforeActing).on(Method::POST, "/keys"));
    let error = api
        .authed(Method::POST, &path)
        .json(&json!({"api_key_name": "k"}))
        .send()
        .await
        .expect_err("no response at all");
    assert!(error.status().is_none(), "no status: {error}");
    assert!(
        error.is_request() || error.is_connect() || error.is_body(),
        "{error:?}"
    );
    assert!(api.emulator.live_keys().is_empty());
    let record = &api.emulator.requests()[0];
    assert_eq!(
        (record.status, record.fault),
        (None, Some("drop_before_acting"))
    );

    // The same client recovers on a fresh connection.
    let (status, _) = api
        .call(Method::POST, &path, Some(json!({"api_key_name": "k"})))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn drop_after_acting_creates_the_key_but_never_answers() {
    let api = Api::start();
    let path = create_key_path(&api);
    api.emulator
        .push_fault(Fault::new(FaultKind::DropAfterActing).on(Method::POST, "/keys"));
    let error = api
        .authed(Method::POST, &path)
        .json(&json!({"api_key_name": "orphan"}))
        .send()
        .await
        .expect_err("no response at all");
    assert!(error.status().is_none(), "no status: {error}");
    let live = api.emulator.live_keys();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].api_key_name, "orphan");
}

#[tokio::test]
async fn drop_after_acting_on_delete_removes_the_key() {
    let api = Api::start();
    let path = create_key_path(&api);
    let (_, key) = api
        .call(Method::POST, &path, Some(json!({"api_key_name": "k"})))
        .await;
    let key_path = format!("{path}/{}", key["api_key_id"].as_str().unwrap());
    api.emulator
        .push_fault(Fault::new(FaultKind::DropAfterActing).on(Method::DELETE, "/keys/"));
    assert!(api.authed(Method::DELETE, &key_path).send().await.is_err());
    assert!(api.emulator.live_keys().is_empty());
    let (status, _) = api.call(Method::DELETE, &key_path, None).await;
    assert_eq!(status, 404, "the retry finds the key already gone");
}

#[tokio::test]
async fn omit_field_after_acting() {
    let api = Api::start();
    let path = create_key_path(&api);
    api.emulator.push_fault(
        Fault::new(FaultKind::OmitFieldAfterActing {
            field: "created_at".into(),
        })
        .on(Method::POST, "/keys"),
    );
    let (status, key) = api
        .call(Method::POST, &path, Some(json!({"api_key_name": "k"})))
        .await;
    assert_eq!(status, 200);
    assert!(key.get("created_at").is_none(), "{key}");
    assert!(key.get("api_key_id").is_some(), "{key}");
    assert_eq!(api.emulator.live_keys().len(), 1, "it acted");
}

#[tokio::test]
async fn edit_body_after_acting_keeps_the_real_key_and_breaks_one_part() {
    let api = Api::start();
    let path = create_key_path(&api);
    api.emulator.push_fault(
        Fault::new(FaultKind::EditBodyAfterActing {
            replace: [("created_at".to_owned(), "1e400".to_owned())].into(),
            append: " trailing".into(),
        })
        .on(Method::POST, "/keys"),
    );
    let response = api
        .authed(Method::POST, &path)
        .json(&json!({"api_key_name": "k"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let live = api.emulator.live_keys();
    assert_eq!(live.len(), 1, "it acted");
    assert!(text.contains("\"created_at\":1e400,"), "{text}");
    assert!(text.ends_with("} trailing"), "{text}");
    assert!(
        text.contains(&format!("\"api_key_id\":\"{}\"", live[0].api_key_id)),
        "{text}"
    );
    assert!(
        text.contains(&live[0].raw_api_key),
        "the real secret is in it"
    );
}

#[tokio::test]
async fn malformed_body_after_acting() {
    let api = Api::start();
    let path = create_key_path(&api);
    api.emulator.push_fault(
        Fault::new(FaultKind::MalformedBodyAfterActing {
            body: "{\"api_key_id\": ".into(),
            status: 200,
        })
        .on(Method::POST, "/keys"),
    );
    let response = api
        .authed(Method::POST, &path)
        .json(&json!({"api_key_name": "k"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
    assert_eq!(api.emulator.live_keys().len(), 1, "it acted");
}

#[test]
fn dropped_connection_seen_by_a_raw_socket() {
    let emulator = Emulator::start().unwrap();
    emulator.push_fault(Fault::new(FaultKind::DropBeforeActing));
    let address = emulator.base_url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let request = format!(
        "GET /service/v1/balance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        emulator.token()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut received = Vec::new();
    // EOF (Ok) or reset (Err) are both a dropped connection; what matters is
    // that not a single response byte arrived.
    let _ = stream.read_to_end(&mut received);
    assert!(
        received.is_empty(),
        "got {:?}",
        String::from_utf8_lossy(&received)
    );
}

#[tokio::test]
async fn faults_skip_requests_that_do_not_match() {
    let api = Api::start();
    api.emulator
        .push_fault(Fault::new(FaultKind::status(500)).on(Method::POST, "/balance/add"));
    let (status, _) = api.call(Method::GET, "/service/v1/balance", None).await;
    assert_eq!(status, 200);
    let (status, _) = read(
        api.authed(Method::POST, "/service/v1/balance/add")
            .json(&json!({"amount_cents": 1, "idempotency_key": "12345678"})),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(api.emulator.balance().credit_balance_cents, 1000);
}
