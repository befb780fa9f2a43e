//! A 401: renewing the token once, and what the final answer says.

use super::*;

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
    assert_eq!(key.api_key_id.as_deref(), Some("key_abc"));
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
