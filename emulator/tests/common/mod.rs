//! Shared helpers for the emulator's integration tests.
#![allow(dead_code)]

use parallel_emulator::Emulator;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::Value;

pub struct Api {
    pub emulator: Emulator,
    pub client: Client,
}

impl Api {
    pub fn start() -> Api {
        Api {
            emulator: Emulator::start().expect("emulator starts"),
            client: Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    /// A request carrying the emulator's bearer token.
    pub fn authed(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(self.emulator.token())
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.authed(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request).await
    }
}

/// Sends and returns the status with the body parsed as JSON (`Null` when empty).
pub async fn read(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request is answered");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body is readable");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body, got {text:?}"))
    };
    (status, body)
}
