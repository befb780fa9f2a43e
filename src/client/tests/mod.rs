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

mod answers;
mod cancel;
mod create;
mod delete;
mod renewal;
mod setup;
