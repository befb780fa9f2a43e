//! End-to-end behaviour of `AccountClient` against the canned local server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::test_server::{Reply, TestServer, json, response};
use super::*;

const TOKEN: &str = "tok_account_0123456789abcdef";
const RAW: &str = "par_live_RAWKEY_9876543210";
const APP: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

fn app_id() -> Uuid {
    Uuid::parse_str(APP).unwrap()
}

fn config(base_url: String) -> ClientConfig {
    ClientConfig {
        base_url,
        credentials: Credentials::token(Secret::new(TOKEN), TokenOrigin::Environment),
        max_retries: 3,
        request_timeout: Duration::from_secs(5),
        ca_cert_pem: None,
        user_agent: "tf-test/1.0".into(),
    }
}

fn client_for(server: &TestServer) -> AccountClient {
    AccountClient::new(config(server.base_url())).unwrap()
}

fn key_json() -> serde_json::Value {
    serde_json::json!({
        "api_key_id": "key_abc",
        "api_key_name": "ci",
        "app_id": APP,
        "app_name": "Terraform",
        "created_by_user_id": "user_1",
        "created_by_user_email": "ops@example.com",
        "display_value": "par_…3210",
        "raw_api_key": RAW,
        "created_at": 1_731_000_000
    })
}

fn key_reply() -> Reply {
    json(200, &key_json().to_string())
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    assert!(!text.contains(RAW), "raw key leaked: {text}");
}

#[tokio::test]
async fn create_waits_for_retry_after_then_returns_the_one_key() {
    let server = TestServer::start(vec![
        json(429, r#"{"detail":"Too many requests"}"#).with_header("retry-after", "1"),
        key_reply(),
    ])
    .await;
    let started = Instant::now();
    let key = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After ignored"
    );
    assert_eq!(key.api_key_id, "key_abc");
    assert_eq!(key.raw_api_key.expose(), RAW);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, format!("/account/service/v1/apps/{APP}/keys"));
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("user-agent"), Some("tf-test/1.0"));
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body, serde_json::json!({"api_key_name": "ci"}));
    }
}

#[tokio::test]
async fn create_is_not_retried_after_a_500() {
    let server = TestServer::start(vec![json(500, r#"{"detail":"boom"}"#), key_reply()]).await;
    let err = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CreateKeyError::MayHaveCreated(ApiError::Status { status: 500, .. })
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn create_with_html_success_body_may_have_created() {
    let server = TestServer::start(vec![response(
        200,
        &[("content-type", "text/html")],
        "<html><body>Welcome!</body></html>",
    )])
    .await;
    let err = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    match &err {
        CreateKeyError::MayHaveCreated(ApiError::Undecodable {
            status: 200,
            excerpt,
            ..
        }) => {
            assert!(excerpt.contains("Welcome"), "{excerpt}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn create_with_missing_field_keeps_the_rest() {
    let mut body = key_json();
    body.as_object_mut().unwrap().remove("display_value");
    let server = TestServer::start(vec![json(200, &body.to_string())]).await;
    let err = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    match &err {
        CreateKeyError::Incomplete { key, problem } => {
            assert!(problem.contains("display_value"), "{problem}");
            assert_eq!(key.api_key_id.as_deref(), Some("key_abc"));
            assert_eq!(key.raw_api_key.as_ref().map(Secret::expose), Some(RAW));
            assert_eq!(key.app_name.as_deref(), Some("Terraform"));
            assert!(key.display_value.is_none());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_no_secret(&format!("{err} {err:?}"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn create_errors_that_prove_nothing_was_created() {
    let cases = vec![
        (
            json(401, r#"{"detail":"Invalid token"}"#),
            "parallel-cli login",
        ),
        (json(403, r#"{"detail":"Forbidden"}"#), "not allowed"),
        (json(404, r#"{"detail":"App not found"}"#), "App not found"),
        (
            json(
                422,
                r#"{"detail":[{"loc":["body","api_key_name"],"msg":"String should have at most 64 characters","type":"string_too_long"}]}"#,
            ),
            "body.api_key_name: String should have at most 64 characters",
        ),
    ];
    for (reply, expected) in cases {
        let server = TestServer::start(vec![reply]).await;
        let err = client_for(&server)
            .create_key(app_id(), "ci", &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(err, CreateKeyError::NotCreated(_)), "{err:?}");
        assert!(err.to_string().contains(expected), "{err}");
        assert_eq!(server.requests().len(), 1, "{err}");
    }
}

#[tokio::test]
async fn create_honours_retry_after_on_503() {
    let server = TestServer::start(vec![
        json(503, r#"{"detail":"Maintenance"}"#).with_header("retry-after", "1"),
        key_reply(),
    ])
    .await;
    let started = Instant::now();
    let key = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After ignored"
    );
    assert_eq!(key.api_key_id, "key_abc");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn create_retries_503_until_retries_run_out() {
    let server = TestServer::start(vec![
        json(503, "{}"),
        json(503, "{}"),
        json(503, "{}"),
        json(503, "{}"),
        key_reply(),
    ])
    .await;
    let mut cfg = config(server.base_url());
    cfg.max_retries = 1;
    let client = AccountClient::new(cfg).unwrap();
    let err = client
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CreateKeyError::NotCreated(ApiError::Status { status: 503, .. })
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn create_without_retries_makes_one_attempt() {
    let server = TestServer::start(vec![json(429, "{}"), key_reply()]).await;
    let mut cfg = config(server.base_url());
    cfg.max_retries = 0;
    let err = AccountClient::new(cfg)
        .unwrap()
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CreateKeyError::NotCreated(ApiError::RateLimited { .. })
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn create_dropped_mid_response_may_have_created() {
    let cut = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"api_key_id\":\"key_abc\"";
    let server = TestServer::start(vec![Reply::Raw(cut.into()), key_reply()]).await;
    let err = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CreateKeyError::MayHaveCreated(ApiError::Connection { sent: true, .. })
        ),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn create_closed_without_answer_may_have_created() {
    let server = TestServer::start(vec![Reply::Close, key_reply()]).await;
    let err = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, CreateKeyError::MayHaveCreated(_)), "{err:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn create_timeout_is_not_retried() {
    let server = TestServer::start(vec![Reply::Hang, key_reply()]).await;
    let mut cfg = config(server.base_url());
    cfg.request_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = AccountClient::new(cfg)
        .unwrap()
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CreateKeyError::MayHaveCreated(ApiError::Timeout { .. })
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn create_retries_when_the_connection_cannot_be_made() {
    // A port nobody listens on: bind, note it, release it.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut cfg = config(format!("http://127.0.0.1:{port}/account"));
    cfg.max_retries = 2;
    let err = AccountClient::new(cfg)
        .unwrap()
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    match &err {
        CreateKeyError::NotCreated(ApiError::Connection {
            sent: false,
            reason,
        }) => {
            assert!(
                !reason.contains("http://"),
                "the URL is not repeated: {reason}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("could not connect"), "{err}");
}

#[tokio::test]
async fn cancel_during_retry_after_wait_returns_promptly() {
    let server = TestServer::start(vec![
        json(429, "{}").with_header("retry-after", "30"),
        key_reply(),
    ])
    .await;
    let client = client_for(&server);
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let err = client
        .create_key(app_id(), "ci", &cancel)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Nothing was in flight while waiting: the 429 proves no key was made.
    assert!(
        matches!(err, CreateKeyError::NotCreated(ApiError::Cancelled)),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn cancel_while_a_create_is_in_flight_still_returns_its_key() {
    // Ctrl-C arrives while the API is creating the key: abandoning the
    // request would lose the only copy of the raw key.
    let server = TestServer::start(vec![Reply::Delayed(
        Duration::from_millis(300),
        Box::new(key_reply()),
    )])
    .await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        trigger.cancel();
    });
    let key = client_for(&server)
        .create_key(app_id(), "ci", &cancel)
        .await
        .unwrap();
    assert_eq!(key.raw_api_key.expose(), RAW);
}

#[tokio::test]
async fn cancel_stops_retries_of_a_create_after_the_attempt_in_flight() {
    let server = TestServer::start(vec![
        Reply::Delayed(Duration::from_millis(300), Box::new(json(503, "{}"))),
        key_reply(),
    ])
    .await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        trigger.cancel();
    });
    let err = client_for(&server)
        .create_key(app_id(), "ci", &cancel)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CreateKeyError::NotCreated(ApiError::Cancelled)),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1, "no retry after the cancel");
}

#[tokio::test]
async fn cancel_abandons_a_delete_in_flight() {
    let server = TestServer::start(vec![Reply::Hang]).await;
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        trigger.cancel();
    });
    let err = client_for(&server)
        .delete_key(app_id(), "key_abc", &cancel)
        .await
        .unwrap_err();
    assert_eq!(err, ApiError::Cancelled);
}

#[tokio::test]
async fn already_cancelled_sends_nothing() {
    let server = TestServer::start(vec![key_reply()]).await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let err = client_for(&server)
        .create_key(app_id(), "ci", &cancel)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CreateKeyError::NotCreated(ApiError::Cancelled)),
        "{err:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn oversized_success_body_may_have_created_and_its_beginning_is_shown() {
    let big = format!(
        "{{\"pad\":\"{}\"}}",
        "x".repeat(transport::MAX_BODY_BYTES + 10)
    );
    let server = TestServer::start(vec![json(200, &big)]).await;
    let err = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    match &err {
        CreateKeyError::MayHaveCreated(ApiError::Undecodable { excerpt, .. }) => {
            assert!(excerpt.starts_with("{\"pad\":"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("begins with: ."), "{err}");
}

#[tokio::test]
async fn an_oversized_create_answer_keeps_the_key_at_its_beginning() {
    let big = format!(
        r#"{{"api_key_id":"key_big","raw_api_key":"{RAW}","pad":"{}"}}"#,
        "x".repeat(transport::MAX_BODY_BYTES)
    );
    let server = TestServer::start(vec![json(200, &big)]).await;
    let err = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    match &err {
        CreateKeyError::Incomplete { key, problem } => {
            assert_eq!(key.api_key_id.as_deref(), Some("key_big"));
            assert_eq!(key.raw_api_key.as_ref().map(|k| k.expose()), Some(RAW));
            assert!(problem.contains("larger than 1024 KiB"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn echoed_secrets_never_reach_error_texts() {
    let body = format!(r#"{{"detail":"bad header Bearer {TOKEN}","raw_api_key":"{RAW}"}}"#);
    for status in [400, 401, 404, 500] {
        let server = TestServer::start(vec![json(status, &body)]).await;
        let err = client_for(&server)
            .create_key(app_id(), "ci", &CancellationToken::new())
            .await
            .unwrap_err();
        assert_no_secret(&format!("{err} {err:?}"));
    }
    let html = format!("<html>token={TOKEN} CreateKeyResponse(raw_api_key='{RAW}')</html>");
    let server = TestServer::start(vec![response(502, &[], &html)]).await;
    let err = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap_err();
    assert_no_secret(&format!("{err} {err:?}"));
    assert_no_secret(&format!("{:?}", client_for(&server)));
}

#[tokio::test]
async fn delete_retries_503_then_revokes() {
    let server = TestServer::start(vec![json(503, "{}"), response(204, &[], "")]).await;
    let deletion = client_for(&server)
        .delete_key(app_id(), "key_abc", &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(deletion, Deletion::Revoked);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].method, "DELETE");
    assert_eq!(
        requests[1].path,
        format!("/account/service/v1/apps/{APP}/keys/key_abc")
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn delete_retries_after_500_and_timeout() {
    let server = TestServer::start(vec![json(500, "{}"), Reply::Hang, json(200, "{}")]).await;
    let mut cfg = config(server.base_url());
    cfg.request_timeout = Duration::from_millis(300);
    let deletion = AccountClient::new(cfg)
        .unwrap()
        .delete_key(app_id(), "key_abc", &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(deletion, Deletion::Revoked);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn delete_of_a_missing_key_is_already_gone() {
    let server = TestServer::start(vec![json(404, r#"{"detail":"API key not found"}"#)]).await;
    let deletion = client_for(&server)
        .delete_key(app_id(), "key_abc", &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(deletion, Deletion::AlreadyGone);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn delete_404_from_something_else_is_an_error() {
    let server = TestServer::start(vec![response(
        404,
        &[("content-type", "text/html")],
        "<html>nginx: 404</html>",
    )])
    .await;
    let err = client_for(&server)
        .delete_key(app_id(), "key_abc", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::NotFound { detail: None, url } if url.ends_with("/keys/key_abc")),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_404_for_an_unknown_route_is_an_error() {
    // A base_url missing its `/account` part reaches FastAPI's router, which
    // answers any path, the list of apps included, like this.
    let not_found = || json(404, r#"{"detail":"Not Found"}"#);
    let server = TestServer::start(vec![not_found(), not_found()]).await;
    let err = client_for(&server)
        .delete_key(app_id(), "key_abc", &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 2, "the delete and the probe");
}

#[tokio::test]
async fn delete_bare_not_found_is_gone_when_the_api_answers() {
    let server = TestServer::start(vec![
        json(404, r#"{"detail":"Not Found"}"#),
        json(200, r#"{"apps":[]}"#),
    ])
    .await;
    let deletion = client_for(&server)
        .delete_key(app_id(), "key_abc", &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(deletion, Deletion::AlreadyGone);
}

#[tokio::test]
async fn delete_encodes_the_key_id_and_refuses_dot_segments() {
    let server = TestServer::start(vec![response(204, &[], "")]).await;
    let client = client_for(&server);
    let cancel = CancellationToken::new();
    client.delete_key(app_id(), "a/b c", &cancel).await.unwrap();
    assert_eq!(
        server.requests()[0].path,
        format!("/account/service/v1/apps/{APP}/keys/a%2Fb%20c")
    );
    for bad in ["", ".", ".."] {
        let err = client.delete_key(app_id(), bad, &cancel).await.unwrap_err();
        assert!(matches!(err, ApiError::InvalidInput { .. }), "{err:?}");
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn list_apps_reads_the_apps() {
    let server = TestServer::start(vec![json(
        200,
        r#"{"apps":[{"app_name":"Terraform","org_name":"Acme","app_id":"a1","org_id":"o1"}]}"#,
    )])
    .await;
    let apps = client_for(&server)
        .list_apps(&CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(
        apps,
        vec![App {
            app_id: "a1".into(),
            app_name: "Terraform".into(),
            org_id: "o1".into(),
            org_name: Some("Acme".into()),
        }]
    );
    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/account/service/v1/apps")
    );
}

#[test]
fn new_refuses_bad_configuration() {
    let base = "https://api.parallel.ai/account".to_owned();
    type Expectation = fn(&ConfigError) -> bool;
    let cases: Vec<(ClientConfig, Expectation)> = vec![
        (config("http://api.parallel.ai/account".into()), |e| {
            matches!(e, ConfigError::BaseUrlCleartext { .. })
        }),
        (
            ClientConfig {
                credentials: Credentials::token(Secret::new(""), TokenOrigin::Attribute),
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::AccessTokenMissing),
        ),
        (
            ClientConfig {
                request_timeout: Duration::ZERO,
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::ZeroTimeout),
        ),
        (
            ClientConfig {
                user_agent: "bad\nagent".into(),
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::UserAgentMalformed),
        ),
        (
            ClientConfig {
                ca_cert_pem: Some("not a certificate".into()),
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::CaCert { .. }),
        ),
        (
            // Well-formed PEM around a broken certificate: still refused at
            // configuration, not at the first request.
            ClientConfig {
                ca_cert_pem: Some(
                    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into(),
                ),
                ..config(base.clone())
            },
            |e| matches!(e, ConfigError::CaCert { .. }),
        ),
    ];
    for (cfg, expected) in cases {
        let err = AccountClient::new(cfg).unwrap_err();
        assert!(expected(&err), "{err:?}");
        assert_no_secret(&format!("{err} {err:?}"));
    }
    let client = AccountClient::new(ClientConfig::new(Secret::new(TOKEN))).unwrap();
    assert!(format!("{client:?}").contains("https://api.parallel.ai/account"));
    assert_no_secret(&format!("{client:?}"));
}

#[tokio::test]
async fn extra_ca_certificates_are_trusted() {
    let (ca_pem, acceptor) = tls_fixture();
    let apps = r#"{"apps":[]}"#;
    let server = TestServer::start_tls(vec![json(200, apps), json(200, apps)], acceptor).await;
    let base = format!("https://localhost:{}/account", server.port);

    let mut cfg = config(base.clone());
    cfg.ca_cert_pem = Some(ca_pem);
    let trusted = AccountClient::new(cfg).unwrap();
    let apps = trusted.list_apps(&CancellationToken::new()).await.unwrap();
    assert!(apps.is_empty());

    let mut cfg = config(base);
    cfg.max_retries = 0;
    let untrusted = AccountClient::new(cfg).unwrap();
    let err = untrusted
        .list_apps(&CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Connection { sent: false, .. }),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn logs_describe_calls_without_secrets() {
    let logs = Arc::new(Mutex::new(String::new()));
    let subscriber = {
        use tracing_subscriber::layer::SubscriberExt;
        tracing_subscriber::registry().with(capture::Capture(logs.clone()))
    };
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = TestServer::start(vec![
        json(503, "{}"),
        key_reply(),
        json(503, &format!(r#"{{"detail":"{TOKEN}"}}"#)),
        key_reply(),
    ])
    .await;
    // Tests on other threads may register our callsites while this
    // subscriber is being installed, caching "never log" for them. A first
    // call registers every callsite; rebuilding the interest cache then takes
    // this subscriber into account for all of them.
    client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap();
    tracing::callsite::rebuild_interest_cache();
    logs.lock().unwrap().clear();

    let key = client_for(&server)
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(key.raw_api_key.expose(), RAW);

    let text = logs.lock().unwrap().clone();
    assert_no_secret(&text);
    assert!(text.contains("DEBUG Parallel API call"), "{text}");
    assert!(
        text.contains("status=503") && text.contains("status=200"),
        "{text}"
    );
    assert!(text.contains("attempt=2"), "{text}");
    assert!(text.contains("elapsed_ms="), "{text}");
    assert!(
        text.contains(&format!("path=/account/service/v1/apps/{APP}/keys")),
        "{text}"
    );
    assert!(text.contains("TRACE Parallel API response"), "{text}");
    assert!(
        text.contains("key_abc") && text.contains("<redacted>"),
        "{text}"
    );
}

impl Reply {
    /// The same response with one more header.
    fn with_header(self, name: &str, value: &str) -> Reply {
        match self {
            Reply::Raw(text) => {
                Reply::Raw(text.replacen("\r\n", &format!("\r\n{name}: {value}\r\n"), 1))
            }
            other => other,
        }
    }
}

/// A CA certificate (PEM) and a TLS acceptor serving a `localhost`
/// certificate it signed.
fn tls_fixture() -> (String, tokio_rustls::TlsAcceptor) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls;

    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    (
        ca_cert.pem(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

/// A tracing layer writing `LEVEL message field=value ...` lines to a string.
mod capture {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, Layer};

    pub(super) struct Capture(pub Arc<Mutex<String>>);

    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                let _ = write!(self.0, " {value:?}");
            } else {
                let _ = write!(self.0, " {}={value:?}", field.name());
            }
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "message" {
                let _ = write!(self.0, " {value}");
            } else {
                let _ = write!(self.0, " {}={value}", field.name());
            }
        }
    }

    impl<S: tracing::Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
            let mut line = Line(event.metadata().level().to_string());
            event.record(&mut line);
            let mut logs = self.0.lock().unwrap();
            logs.push_str(&line.0);
            logs.push('\n');
        }
    }
}

#[test]
fn client_and_its_futures_can_move_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<AccountClient>();
    let client = AccountClient::new(ClientConfig::new(Secret::new(TOKEN))).unwrap();
    let cancel = CancellationToken::new();
    assert_send(&client.create_key(app_id(), "ci", &cancel));
    assert_send(&client.delete_key(app_id(), "k", &cancel));
    assert_send(&client.list_apps(&cancel));
}

/// A saved-login stand-in: hands out `first`, renews to `second`.
struct Renewing {
    current: Mutex<&'static str>,
    renewals: Mutex<u32>,
}

impl Renewing {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            current: Mutex::new("tok_first"),
            renewals: Mutex::new(0),
        })
    }

    fn renewals(&self) -> u32 {
        *self.renewals.lock().unwrap()
    }
}

#[async_trait::async_trait]
impl TokenSource for Renewing {
    fn origin(&self) -> TokenOrigin {
        TokenOrigin::SavedLogin {
            file: "/home/u/.config/parallel-web-tools/auth.json".into(),
        }
    }

    async fn token(&self, _: &CancellationToken) -> Result<Secret, CredentialsError> {
        Ok(Secret::new(*self.current.lock().unwrap()))
    }

    async fn renew(
        &self,
        rejected: &Secret,
        _: &CancellationToken,
    ) -> Result<Option<Secret>, CredentialsError> {
        assert_eq!(rejected.expose(), "tok_first", "renews the token it sent");
        *self.renewals.lock().unwrap() += 1;
        *self.current.lock().unwrap() = "tok_second";
        Ok(Some(Secret::new("tok_second")))
    }

    fn known_secrets(&self) -> Vec<Secret> {
        vec![Secret::new("tok_first"), Secret::new("tok_second")]
    }
}

fn renewing_client(server: &TestServer, source: Arc<Renewing>) -> AccountClient {
    AccountClient::new(ClientConfig {
        credentials: Credentials::source(source),
        ..config(server.base_url())
    })
    .unwrap()
}

#[tokio::test]
async fn a_create_answered_401_is_renewed_once_and_makes_one_key() {
    let server = TestServer::start(vec![
        json(401, r#"{"detail":"Invalid authentication credentials"}"#),
        key_reply(),
    ])
    .await;
    let source = Renewing::new();
    let key = renewing_client(&server, source.clone())
        .create_key(app_id(), "ci", &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(key.api_key_id, "key_abc");
    assert_eq!(source.renewals(), 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer tok_first")
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer tok_second")
    );
}

#[tokio::test]
async fn a_second_401_is_final_and_says_to_log_in_again() {
    let server = TestServer::start(vec![
        json(401, r#"{"detail":"Invalid authentication credentials"}"#),
        json(401, r#"{"detail":"Invalid authentication credentials"}"#),
        json(401, r#"{"detail":"Invalid authentication credentials"}"#),
    ])
    .await;
    let source = Renewing::new();
    let err = renewing_client(&server, source.clone())
        .list_apps(&CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(source.renewals(), 1, "one renewal per call");
    assert_eq!(server.requests().len(), 2, "one retry after the renewal");
    let text = err.to_string();
    assert!(text.contains("even after refreshing it"), "{text}");
    assert!(text.contains("parallel-cli login"), "{text}");
    assert!(!text.contains("tok_"), "{text}");
}

#[tokio::test]
async fn a_given_token_answered_401_is_not_retried_and_says_it_is_never_refreshed() {
    let server = TestServer::start(vec![json(401, r#"{"detail":"Invalid token"}"#)]).await;
    let err = client_for(&server)
        .list_apps(&CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(server.requests().len(), 1);
    let text = err.to_string();
    assert!(text.contains("given in PARALLEL_ACCESS_TOKEN"), "{text}");
    assert!(text.contains("never refreshed"), "{text}");
}

#[test]
fn key_ids_that_no_api_gives_are_told_apart() {
    for id in ["key_123", "3c90c3cc-0d44-4b50-8888-8dd25736052a", "k.1:a~b"] {
        assert!(super::is_plausible_key_id(id), "{id}");
    }
    let long = "k".repeat(300);
    for id in [
        "",
        "..",
        "not an id",
        "a/b",
        "caf\u{e9}",
        "x?y",
        "\"k\"",
        long.as_str(),
    ] {
        assert!(!super::is_plausible_key_id(id), "{id}");
    }
}
