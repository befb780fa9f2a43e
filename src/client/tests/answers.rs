//! Answers too large or echoing secrets: what is kept and what is shown.

use super::*;

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
