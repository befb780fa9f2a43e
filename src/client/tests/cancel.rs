//! Cancellation: what is abandoned, and what runs to its answer.

use super::*;

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
    assert_eq!(key.raw_api_key.as_ref().map(Secret::expose), Some(RAW));
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
