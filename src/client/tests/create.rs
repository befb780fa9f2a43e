//! Creating a key: retries that are safe, and "may have created" when the API may have acted.

use super::*;

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
    assert_eq!(key.api_key_id.as_deref(), Some("key_abc"));
    assert_eq!(key.raw_api_key.as_ref().map(Secret::expose), Some(RAW));

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
    assert_eq!(key.api_key_id.as_deref(), Some("key_abc"));
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
