//! The organization's prepaid balance: reading it
//! (`GET /service/v1/balance`) and adding to it
//! (`POST /service/v1/balance/add`).
//!
//! Adding balance charges the organization's default payment method, so a
//! call charges at most once: it carries an idempotency key that the API
//! de-duplicates on (for at least 24 h), every attempt of the call sends the
//! same key, and it is retried only when the API certainly did not act
//! (429, 503, a connection never established). After any other failure the
//! charge may have happened, and the caller is told so: invoking again with
//! the same key is then safe, and answers the balance without a second
//! charge.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Number;
use tokio_util::sync::CancellationToken;

use super::AccountClient;
use super::error::ApiError;
use super::models::parse_answer;
use super::retry::Idempotency;
use super::transport::{Answer, Call, as_strs};

/// Smallest and largest amount one add-balance call accepts, in cents.
pub const MIN_ADD_CENTS: i64 = 1;
pub const MAX_ADD_CENTS: i64 = 10_000;
/// Length limits of an idempotency key, in characters.
pub const MIN_IDEMPOTENCY_KEY_CHARS: usize = 8;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// The organization's balance, as both balance endpoints answer it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Balance {
    pub org_id: String,
    /// Prepaid credit, in cents; 0 for an invoice-billed organization.
    pub credit_balance_cents: Number,
    /// Usage not yet debited, in cents; 0 for an invoice-billed organization.
    pub pending_debit_balance_cents: Number,
    /// The organization is billed by invoice and cannot add balance.
    pub will_invoice: bool,
}

/// A failed add-balance call, split by what it means for the money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddBalanceError {
    /// The API certainly did not charge; trying again is safe.
    #[error("nothing was charged: {0}")]
    NotCharged(ApiError),

    /// The charge may have happened although the call failed (5xx other
    /// than 503, timeout or broken connection after sending, an unreadable
    /// 2xx answer, or cancellation while the request was in flight).
    #[error("the charge may have been made: {0}")]
    MayHaveCharged(ApiError),
}

impl AddBalanceError {
    pub fn api_error(&self) -> &ApiError {
        match self {
            AddBalanceError::NotCharged(err) | AddBalanceError::MayHaveCharged(err) => err,
        }
    }
}

impl AccountClient {
    /// Reads the organization's balance.
    pub async fn balance(&self, cancel: &CancellationToken) -> Result<Balance, ApiError> {
        let answer = self.get(&["service", "v1", "balance"], cancel).await?;
        parse_balance(&answer, &as_strs(&self.inner.transport.secrets()))
    }

    /// Adds `amount_cents` to the balance, charging the organization's
    /// default payment method once for `idempotency_key`.
    ///
    /// Every attempt sends the same key. Like a key creation, it is retried
    /// only when the API certainly did not act, and an attempt already sent
    /// runs to its end even when `cancel` fires: only its answer tells
    /// whether money moved.
    pub async fn add_balance(
        &self,
        amount_cents: i64,
        idempotency_key: &str,
        cancel: &CancellationToken,
    ) -> Result<Balance, AddBalanceError> {
        let url = self
            .url(&["service", "v1", "balance", "add"])
            .map_err(AddBalanceError::NotCharged)?;
        let body = serde_json::json!({
            "amount_cents": amount_cents,
            "idempotency_key": idempotency_key,
        });
        let call = Call {
            method: Method::POST,
            url: &url,
            json_body: Some(body.to_string().into_bytes()),
            idempotency: Idempotency::NotIdempotent,
        };
        let answer = self
            .inner
            .transport
            .call(&call, cancel)
            .await
            .map_err(|f| {
                if f.may_have_acted {
                    AddBalanceError::MayHaveCharged(f.error)
                } else {
                    AddBalanceError::NotCharged(f.error)
                }
            })?;
        // A 2xx means the API acted: an answer that cannot be read still
        // leaves the charge made.
        parse_balance(&answer, &as_strs(&self.inner.transport.secrets()))
            .map_err(AddBalanceError::MayHaveCharged)
    }
}

/// Reads the 2xx answer of either balance endpoint.
fn parse_balance(answer: &Answer, secrets: &[&str]) -> Result<Balance, ApiError> {
    parse_answer(answer, secrets, "a balance")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::test_server::{Reply, TestServer, json};
    use super::super::{ClientConfig, Secret};
    use super::*;

    const TOKEN: &str = "tok_account_0123456789abcdef";
    const BALANCE: &str = r#"{"org_id":"org_1","credit_balance_cents":1500,"pending_debit_balance_cents":25.5,"will_invoice":false}"#;

    fn client(server: &TestServer) -> AccountClient {
        AccountClient::new(ClientConfig {
            base_url: server.base_url(),
            max_retries: 3,
            request_timeout: Duration::from_secs(5),
            user_agent: "tf-test/1.0".into(),
            ..ClientConfig::new(Secret::new(TOKEN))
        })
        .expect("client")
    }

    fn sent_keys(server: &TestServer) -> Vec<String> {
        server
            .requests()
            .iter()
            .map(|r| {
                let body: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON body");
                assert_eq!(body["amount_cents"], 500, "{body}");
                body["idempotency_key"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    #[tokio::test]
    async fn the_balance_is_read_with_its_numbers_as_sent() {
        let server = TestServer::start(vec![json(200, BALANCE)]).await;
        let balance = client(&server)
            .balance(&CancellationToken::new())
            .await
            .expect("balance");
        assert_eq!(balance.org_id, "org_1");
        assert_eq!(balance.credit_balance_cents.as_i64(), Some(1500));
        assert_eq!(balance.pending_debit_balance_cents.as_f64(), Some(25.5));
        assert!(!balance.will_invoice);
        let requests = server.requests();
        assert_eq!(requests[0].method, "GET");
        assert_eq!(requests[0].path, "/account/service/v1/balance");
    }

    #[tokio::test]
    async fn an_unreadable_balance_is_an_error_that_names_no_value() {
        let server = TestServer::start(vec![json(200, r#"{"org_id":"secret-ish"}"#)]).await;
        let err = client(&server)
            .balance(&CancellationToken::new())
            .await
            .expect_err("incomplete");
        assert!(matches!(err, ApiError::Undecodable { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn a_503_is_retried_with_the_same_idempotency_key() {
        let server = TestServer::start(vec![
            json(503, r#"{"detail":"busy"}"#),
            json(429, r#"{"detail":"slow down"}"#),
            json(200, BALANCE),
        ])
        .await;
        let balance = client(&server)
            .add_balance(500, "key-0001-abcd", &CancellationToken::new())
            .await
            .expect("charged");
        assert_eq!(balance.credit_balance_cents.as_i64(), Some(1500));
        assert_eq!(sent_keys(&server), ["key-0001-abcd"; 3]);
        assert_eq!(server.requests()[0].path, "/account/service/v1/balance/add");
    }

    #[tokio::test]
    async fn a_server_error_is_not_retried_and_may_have_charged() {
        let server = TestServer::start(vec![json(500, "{}"), json(200, BALANCE)]).await;
        let err = client(&server)
            .add_balance(500, "key-0001-abcd", &CancellationToken::new())
            .await
            .expect_err("500");
        assert!(matches!(err, AddBalanceError::MayHaveCharged(_)), "{err:?}");
        assert_eq!(sent_keys(&server).len(), 1, "one attempt");
    }

    #[tokio::test]
    async fn a_connection_dropped_after_sending_may_have_charged() {
        let server = TestServer::start(vec![Reply::Close, json(200, BALANCE)]).await;
        let err = client(&server)
            .add_balance(500, "key-0001-abcd", &CancellationToken::new())
            .await
            .expect_err("dropped");
        assert!(matches!(err, AddBalanceError::MayHaveCharged(_)), "{err:?}");
        assert_eq!(sent_keys(&server).len(), 1, "one attempt");
    }

    #[tokio::test]
    async fn an_unreadable_success_may_have_charged() {
        let server = TestServer::start(vec![json(200, "<html>ok</html>")]).await;
        let err = client(&server)
            .add_balance(500, "key-0001-abcd", &CancellationToken::new())
            .await
            .expect_err("unreadable");
        assert!(
            matches!(
                err,
                AddBalanceError::MayHaveCharged(ApiError::Undecodable { .. })
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_refusal_charged_nothing() {
        let server = TestServer::start(vec![json(
            400,
            r#"{"detail":"Organization is billed by invoice"}"#,
        )])
        .await;
        let err = client(&server)
            .add_balance(500, "key-0001-abcd", &CancellationToken::new())
            .await
            .expect_err("refused");
        assert!(matches!(err, AddBalanceError::NotCharged(_)), "{err:?}");
        assert!(err.to_string().contains("billed by invoice"), "{err}");
        assert!(!err.to_string().contains(TOKEN), "{err}");
    }
}
