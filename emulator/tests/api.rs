//! The seven Account API endpoints, over real HTTP.

mod common;

use common::{Api, read};
use reqwest::Method;
use serde_json::{Value, json};

const UNKNOWN_UUID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

#[tokio::test]
async fn list_apps_returns_documented_app_items() {
    let api = Api::start();
    let app = api.emulator.create_app("seeded");
    let (status, body) = api.call(Method::GET, "/service/v1/apps", None).await;
    assert_eq!(status, 200);
    let apps = body["apps"].as_array().expect("apps array");
    assert_eq!(apps.len(), 1);
    let item = &apps[0];
    assert_eq!(item["app_name"], "seeded");
    assert_eq!(item["app_id"], app.app_id.to_string());
    assert_eq!(item["org_name"], "Emulated Org");
    assert!(item["org_id"].is_string());
    let mut keys: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["app_id", "app_name", "org_id", "org_name"]);
}

#[tokio::test]
async fn wire_field_order_follows_the_schemas() {
    let api = Api::start();
    let app = api.emulator.create_app("ordered");
    let text = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().text().await.unwrap()
    };
    let apps = text(api.authed(Method::GET, "/service/v1/apps")).await;
    assert!(
        apps.starts_with(r#"{"apps":[{"app_name":"ordered","org_name":"#),
        "{apps}"
    );
    let key = text(
        api.authed(
            Method::POST,
            &format!("/service/v1/apps/{}/keys", app.app_id),
        )
        .json(&json!({"api_key_name": "k"})),
    )
    .await;
    assert!(key.starts_with(r#"{"api_key_id":"#), "{key}");
    assert!(key.contains(r#","raw_api_key":"sk-"#), "{key}");
    let invalid = text(api.authed(Method::DELETE, "/service/v1/apps/x")).await;
    assert!(
        invalid.starts_with(r#"{"detail":[{"type":"uuid_parsing","loc":["path","app_id"],"msg":"#),
        "{invalid}"
    );
}

#[tokio::test]
async fn create_then_delete_app() {
    let api = Api::start();
    let (status, body) = api
        .call(
            Method::POST,
            "/service/v1/apps",
            Some(json!({"app_name": "made"})),
        )
        .await;
    assert_eq!(status, 200);
    let app_id = body["app_id"].as_str().expect("app_id string").to_owned();
    assert_eq!(body.as_object().unwrap().len(), 1, "only app_id: {body}");
    assert_eq!(api.emulator.apps()[0].app_name, "made");

    let path = format!("/service/v1/apps/{app_id}");
    assert_eq!(
        api.call(Method::DELETE, &path, None).await,
        (200, json!({}))
    );
    assert_eq!(
        api.call(Method::DELETE, &path, None).await,
        (404, json!({"detail": "App not found"}))
    );
    assert!(api.emulator.apps().is_empty());
}

#[tokio::test]
async fn create_app_validates_its_body() {
    let api = Api::start();
    let long_name = "x".repeat(201);
    let (status, body) = api
        .call(
            Method::POST,
            "/service/v1/apps",
            Some(json!({"app_name": long_name})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "string_too_long");
    assert_eq!(
        body["detail"][0]["msg"],
        "String should have at most 200 characters"
    );
    assert_eq!(body["detail"][0]["ctx"], json!({"max_length": 200}));

    let (status, body) = api
        .call(
            Method::POST,
            "/service/v1/apps",
            Some(json!({"app_name": "ok", "allow_oauth_app_names": "perhaps"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["detail"][0]["loc"],
        json!(["body", "allow_oauth_app_names"])
    );
    assert!(api.emulator.apps().is_empty());
}

#[tokio::test]
async fn create_key_returns_the_flat_documented_shape() {
    let api = Api::start();
    let app = api.emulator.create_app("demo");
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/service/v1/apps/{}/keys", app.app_id),
            Some(json!({"api_key_name": "ci"})),
        )
        .await;
    assert_eq!(status, 200);
    let object = body.as_object().expect("object");
    let fields: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut sorted = fields.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "api_key_id",
            "api_key_name",
            "app_id",
            "app_name",
            "created_at",
            "created_by_user_email",
            "created_by_user_id",
            "display_value",
            "raw_api_key"
        ]
    );
    assert_eq!(body["api_key_name"], "ci");
    assert_eq!(body["app_id"], app.app_id.to_string());
    assert_eq!(body["app_name"], "demo");
    assert!(
        body["created_at"].is_i64(),
        "created_at is an integer: {body}"
    );
    let raw = body["raw_api_key"].as_str().unwrap();
    let display = body["display_value"].as_str().unwrap();
    assert!(raw.starts_with("sk-"));
    assert!(
        !display.contains(&raw[3..raw.len() - 4]),
        "display hides the middle"
    );

    let live = api.emulator.live_keys();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].raw_api_key, raw);
    assert_eq!(live[0].api_key_id, body["api_key_id"].as_str().unwrap());
}

#[tokio::test]
async fn delete_key_twice_is_404_the_second_time() {
    let api = Api::start();
    let app = api.emulator.create_app("demo");
    let keys_path = format!("/service/v1/apps/{}/keys", app.app_id);
    let (_, key) = api
        .call(Method::POST, &keys_path, Some(json!({"api_key_name": "k"})))
        .await;
    let key_path = format!("{keys_path}/{}", key["api_key_id"].as_str().unwrap());
    assert_eq!(
        api.call(Method::DELETE, &key_path, None).await,
        (200, json!({}))
    );
    assert_eq!(
        api.call(Method::DELETE, &key_path, None).await,
        (404, json!({"detail": "API key not found"}))
    );
    assert!(api.emulator.live_keys().is_empty());
}

#[tokio::test]
async fn unknown_apps_and_keys_are_404() {
    let api = Api::start();
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/service/v1/apps/{UNKNOWN_UUID}/keys"),
            Some(json!({"api_key_name": "k"})),
        )
        .await;
    assert_eq!((status, body), (404, json!({"detail": "App not found"})));

    let app = api.emulator.create_app("demo");
    let (status, body) = api
        .call(
            Method::DELETE,
            &format!("/service/v1/apps/{}/keys/not-a-key", app.app_id),
            None,
        )
        .await;
    assert_eq!(
        (status, body),
        (404, json!({"detail": "API key not found"}))
    );
}

#[tokio::test]
async fn revoked_out_of_band_keys_are_gone() {
    let api = Api::start();
    let app = api.emulator.create_app("demo");
    let keys_path = format!("/service/v1/apps/{}/keys", app.app_id);
    let (_, key) = api
        .call(Method::POST, &keys_path, Some(json!({"api_key_name": "k"})))
        .await;
    let key_id = key["api_key_id"].as_str().unwrap();
    assert!(api.emulator.revoke_out_of_band(key_id));
    assert!(!api.emulator.revoke_out_of_band(key_id));
    let (status, _) = api
        .call(Method::DELETE, &format!("{keys_path}/{key_id}"), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn invalid_uuid_is_a_fastapi_422() {
    let api = Api::start();
    let (status, body) = api
        .call(Method::DELETE, "/service/v1/apps/not-a-uuid", None)
        .await;
    assert_eq!(status, 422);
    let issue = &body["detail"][0];
    assert_eq!(issue["type"], "uuid_parsing");
    assert_eq!(issue["loc"], json!(["path", "app_id"]));
    assert_eq!(issue["input"], "not-a-uuid");
    let msg = issue["msg"].as_str().unwrap();
    assert!(
        msg.starts_with("Input should be a valid UUID, invalid character"),
        "{msg}"
    );
    assert_eq!(
        format!(
            "Input should be a valid UUID, {}",
            issue["ctx"]["error"].as_str().unwrap()
        ),
        msg
    );
}

#[tokio::test]
async fn path_and_body_errors_are_reported_together() {
    let api = Api::start();
    let (status, body) = api
        .call(
            Method::POST,
            "/service/v1/apps/123/keys",
            Some(json!({"other": 1})),
        )
        .await;
    assert_eq!(status, 422);
    let detail = body["detail"].as_array().unwrap();
    assert_eq!(detail.len(), 2);
    assert_eq!(detail[0]["loc"], json!(["path", "app_id"]));
    assert_eq!(
        detail[1],
        json!({"type": "missing", "loc": ["body", "api_key_name"], "msg": "Field required", "input": {"other": 1}})
    );
}

#[tokio::test]
async fn create_key_body_errors() {
    let api = Api::start();
    let app = api.emulator.create_app("demo");
    let path = format!("/service/v1/apps/{}/keys", app.app_id);

    let (status, body) = api
        .call(Method::POST, &path, Some(json!({"api_key_name": 7})))
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["detail"][0],
        json!({"type": "string_type", "loc": ["body", "api_key_name"], "msg": "Input should be a valid string", "input": 7})
    );

    let (status, body) = api
        .call(Method::POST, &path, Some(json!({"api_key_name": ""})))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "string_too_short");
    assert_eq!(
        body["detail"][0]["msg"],
        "String should have at least 1 character"
    );

    let (status, body) = api
        .call(Method::POST, &path, Some(json!(["api_key_name"])))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["type"], "model_attributes_type");
    assert_eq!(body["detail"][0]["loc"], json!(["body"]));

    let (status, body) = read(api.authed(Method::POST, &path)).await;
    assert_eq!(status, 422);
    assert_eq!(
        body,
        json!({"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]})
    );
    assert!(api.emulator.live_keys().is_empty());
}

#[tokio::test]
async fn malformed_json_is_a_json_invalid_422() {
    let api = Api::start();
    let app = api.emulator.create_app("demo");
    let request = api
        .authed(
            Method::POST,
            &format!("/service/v1/apps/{}/keys", app.app_id),
        )
        .header("content-type", "application/json")
        .body(r#"{"api_key_name": }"#);
    let (status, body) = read(request).await;
    assert_eq!(status, 422);
    assert_eq!(
        body,
        json!({"detail": [{
            "type": "json_invalid", "loc": ["body", 17], "msg": "JSON decode error",
            "input": {}, "ctx": {"error": "Expecting value"}
        }]})
    );
}

#[tokio::test]
async fn balance_starts_at_the_configured_amount() {
    let api = Api::start();
    let (status, body) = api.call(Method::GET, "/service/v1/balance", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["credit_balance_cents"], 1000);
    assert_eq!(body["pending_debit_balance_cents"], 0);
    assert_eq!(body["will_invoice"], false);
    assert!(body["org_id"].is_string());
}

#[tokio::test]
async fn add_balance_is_idempotent_per_key() {
    let api = Api::start();
    let add = |amount: Value, key: &str| {
        api.call(
            Method::POST,
            "/service/v1/balance/add",
            Some(json!({"amount_cents": amount, "idempotency_key": key})),
        )
    };
    let (status, body) = add(json!(250), "attempt-0001").await;
    assert_eq!((status, &body["credit_balance_cents"]), (200, &json!(1250)));
    let (status, body) = add(json!(250), "attempt-0001").await;
    assert_eq!((status, &body["credit_balance_cents"]), (200, &json!(1250)));
    let (status, _) = add(json!(300), "attempt-0001").await;
    assert_eq!(status, 409);
    let (status, body) = add(json!(300), "attempt-0002").await;
    assert_eq!((status, &body["credit_balance_cents"]), (200, &json!(1550)));
    assert_eq!(api.emulator.balance().credit_balance_cents, 1550);
}

#[tokio::test]
async fn add_balance_validates_amount_and_key() {
    let api = Api::start();
    let (status, body) = api
        .call(
            Method::POST,
            "/service/v1/balance/add",
            Some(json!({"amount_cents": 10001, "idempotency_key": "short"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["detail"],
        json!([
            {"type": "less_than_equal", "loc": ["body", "amount_cents"],
             "msg": "Input should be less than or equal to 10000", "input": 10001, "ctx": {"le": 10000}},
            {"type": "string_too_short", "loc": ["body", "idempotency_key"],
             "msg": "String should have at least 8 characters", "input": "short", "ctx": {"min_length": 8}}
        ])
    );
    let (status, body) = api
        .call(
            Method::POST,
            "/service/v1/balance/add",
            Some(json!({"amount_cents": 0, "idempotency_key": "long-enough"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["detail"][0]["msg"], "Input should be greater than 0");
    assert_eq!(api.emulator.balance().credit_balance_cents, 1000);
}

#[tokio::test]
async fn every_service_route_requires_the_bearer_token() {
    let api = Api::start();
    let app = api.emulator.create_app("demo");
    let routes = [
        (Method::GET, "/service/v1/apps".to_owned()),
        (Method::POST, "/service/v1/apps".to_owned()),
        (Method::DELETE, format!("/service/v1/apps/{}", app.app_id)),
        (
            Method::POST,
            format!("/service/v1/apps/{}/keys", app.app_id),
        ),
        (
            Method::DELETE,
            format!("/service/v1/apps/{}/keys/x", app.app_id),
        ),
        (Method::GET, "/service/v1/balance".to_owned()),
        (Method::POST, "/service/v1/balance/add".to_owned()),
    ];
    for (method, path) in routes {
        let anonymous = api.client.request(method.clone(), api.url(&path));
        let response = anonymous.send().await.unwrap();
        assert_eq!(response.status(), 401, "{method} {path}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({"detail": "Not authenticated"}));

        let wrong = api
            .client
            .request(method.clone(), api.url(&path))
            .bearer_auth("wrong");
        let (status, body) = read(wrong).await;
        assert_eq!(status, 401, "{method} {path}");
        assert_eq!(
            body,
            json!({"detail": "Invalid authentication credentials"})
        );
    }
    assert_eq!(api.emulator.apps().len(), 1, "nothing was acted on");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_like_fastapi() {
    let api = Api::start();
    let (status, body) = read(api.client.get(api.url("/service/v1/nope"))).await;
    assert_eq!((status, body), (404, json!({"detail": "Not Found"})));
    let (status, body) = read(api.client.put(api.url("/service/v1/apps"))).await;
    assert_eq!(
        (status, body),
        (405, json!({"detail": "Method Not Allowed"}))
    );
}

#[tokio::test]
async fn requests_are_recorded_with_their_status() {
    let api = Api::start();
    api.call(Method::GET, "/service/v1/balance", None).await;
    read(api.client.get(api.url("/service/v1/apps"))).await;
    let records = api.emulator.requests();
    let summary: Vec<_> = records
        .iter()
        .map(|record| (record.method.as_str(), record.path.as_str(), record.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("GET", "/service/v1/balance", Some(200)),
            ("GET", "/service/v1/apps", Some(401))
        ]
    );
    assert!(
        records
            .iter()
            .all(|record| record.finished >= record.started)
    );
    api.emulator.clear_requests();
    assert!(api.emulator.requests().is_empty());
}

#[tokio::test]
async fn admin_routes_drive_the_emulator_without_auth() {
    let api = Api::start();
    let (status, app) = read(
        api.client
            .post(api.url("/_emulator/apps"))
            .json(&json!({"app_name": "via-admin"})),
    )
    .await;
    assert_eq!(status, 200);
    let app_id = app["app_id"].as_str().unwrap();
    let (_, key) = api
        .call(
            Method::POST,
            &format!("/service/v1/apps/{app_id}/keys"),
            Some(json!({"api_key_name": "k"})),
        )
        .await;

    let (status, keys) = read(api.client.get(api.url("/_emulator/keys"))).await;
    assert_eq!(status, 200);
    assert_eq!(keys[0]["api_key_id"], key["api_key_id"]);
    assert_eq!(keys[0]["raw_api_key"], key["raw_api_key"]);

    let fault = json!({"method": "GET", "path_contains": "/balance", "kind": "status", "code": 503, "retry_after": "2"});
    let (status, _) = read(api.client.post(api.url("/_emulator/faults")).json(&fault)).await;
    assert_eq!(status, 200);
    let response = api
        .authed(Method::GET, "/service/v1/balance")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");

    let (status, _) = read(
        api.client
            .post(api.url("/_emulator/latency"))
            .json(&json!({"ms": 5})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, stats) = read(api.client.get(api.url("/_emulator/stats"))).await;
    assert_eq!(stats["latency_ms"], 5);

    let (_, requests) = read(api.client.get(api.url("/_emulator/requests"))).await;
    let paths: Vec<_> = requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].clone())
        .collect();
    assert!(
        paths
            .iter()
            .all(|path| !path.as_str().unwrap().starts_with("/_emulator"))
    );
    assert_eq!(requests.as_array().unwrap().last().unwrap()["status"], 503);

    let revoke = format!(
        "/_emulator/keys/{}/revoke",
        key["api_key_id"].as_str().unwrap()
    );
    assert_eq!(read(api.client.post(api.url(&revoke))).await.0, 200);
    assert_eq!(read(api.client.post(api.url(&revoke))).await.0, 404);

    let (status, body) = read(
        api.client
            .post(api.url("/_emulator/faults"))
            .json(&json!({"kind": "bogus"})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["detail"].is_string());
}
