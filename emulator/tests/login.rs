//! The platform's token endpoint and the access tokens it issues, over HTTP.

use std::time::Duration;

use parallel_emulator::{Emulator, LoginSpec, Options};
use serde_json::Value;

fn start(lifetime: Duration) -> Emulator {
    Emulator::start_with(Options {
        access_token_lifetime: lifetime,
        ..Options::default()
    })
    .expect("emulator")
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

async fn refresh(emulator: &Emulator, refresh_token: &str, client_id: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/getServiceKeys/token", emulator.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ]))
        .send()
        .await
        .expect("token endpoint answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json body"))
}

async fn list_status(emulator: &Emulator, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/service/v1/apps", emulator.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("API answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn refreshed_tokens_work_rotate_and_old_refresh_tokens_are_refused() {
    let emulator = start(Duration::from_secs(600));
    let login = emulator.login(&LoginSpec::access_token_expired());
    let client_id = login.client_id.clone().expect("a registered client");
    assert_eq!(list_status(&emulator, &login.access_token).await, 401);

    let (status, answer) = refresh(&emulator, &login.refresh_token, &client_id).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 600);
    assert_eq!(answer["org_id"], login.org_id.as_str());
    let access = answer["access_token"].as_str().expect("access token");
    let rotated = answer["refresh_token"].as_str().expect("refresh token");
    assert_ne!(rotated, login.refresh_token);
    assert_eq!(list_status(&emulator, access).await, 200);

    let (status, reused) = refresh(&emulator, &login.refresh_token, &client_id).await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = refresh(&emulator, rotated, "someone-else").await;
    assert_eq!(status, 401);
    assert_eq!(emulator.refresh_count(), 1);
    let logged = emulator
        .requests()
        .iter()
        .filter(|r| r.path == "/getServiceKeys/token")
        .count();
    assert_eq!(logged, 3, "token requests are in the request log");

    let admin: Value = reqwest::Client::new()
        .get(format!("{}/_emulator/logins", emulator.base_url()))
        .send()
        .await
        .expect("admin answers")
        .json()
        .await
        .expect("json");
    assert_eq!(admin["refreshes"], 1);
    let issued = admin["issued_secrets"].as_array().expect("secrets");
    assert!(issued.iter().any(|s| s == access) && issued.iter().any(|s| s == rotated));

    emulator.revoke_access_tokens();
    assert_eq!(list_status(&emulator, access).await, 401);
    assert_eq!(list_status(&emulator, &emulator.token()).await, 200);
}

#[tokio::test]
async fn a_zero_lifetime_issues_tokens_that_are_already_expired() {
    let emulator = start(Duration::ZERO);
    let login = emulator.login(&LoginSpec::default());
    let client_id = login.client_id.clone().expect("a registered client");
    assert_eq!(list_status(&emulator, &login.access_token).await, 200);
    let (status, answer) = refresh(&emulator, &login.refresh_token, &client_id).await;
    assert_eq!(status, 200);
    let access = answer["access_token"].as_str().expect("access token");
    assert_eq!(list_status(&emulator, access).await, 401);
}

#[tokio::test]
async fn the_token_endpoint_wants_a_form() {
    let emulator = start(Duration::from_secs(60));
    let response = reqwest::Client::new()
        .post(format!("{}/getServiceKeys/token", emulator.base_url()))
        .json(&serde_json::json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 400);
}
