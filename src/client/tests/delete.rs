//! Revoking a key and deleting an app: retries, and which 404 means
//! already gone.

use super::*;

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
async fn an_app_is_gone_only_when_the_api_says_that_app_is_missing() {
    let server = TestServer::start(vec![json(404, r#"{"detail":"App not found"}"#)]).await;
    let deletion = client_for(&server)
        .delete_app(app_id(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(deletion, Deletion::AlreadyGone);
    // FastAPI's bare answer is also its answer for a route it lacks: an
    // error, with no probe that could pass it for gone.
    let server = TestServer::start(vec![
        json(404, r#"{"detail":"Not Found"}"#),
        json(200, r#"{"apps":[]}"#),
    ])
    .await;
    let err = client_for(&server)
        .delete_app(app_id(), &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err:?}");
    assert_eq!(server.requests().len(), 1);
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
