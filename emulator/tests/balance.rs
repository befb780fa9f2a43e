//! Add-balance as the Account API documents it: one charge per idempotency
//! key for 24 h, invoice-billed organizations refused, and faults on both
//! balance routes.

mod common;

use std::time::Duration;

use common::{Api, read};
use parallel_emulator::{Emulator, Fault, FaultKind, IDEMPOTENCY_WINDOW, Options};
use reqwest::{Client, Method};
use serde_json::{Value, json};

async fn add(api: &Api, amount: i64, key: &str) -> (u16, Value) {
    api.call(
        Method::POST,
        "/service/v1/balance/add",
        Some(json!({"amount_cents": amount, "idempotency_key": key})),
    )
    .await
}

#[tokio::test]
async fn a_replay_within_24_hours_gets_the_first_answer_and_charges_nothing() {
    let api = Api::start();
    let (_, first) = add(&api, 250, "attempt-0001").await;
    assert_eq!(first["credit_balance_cents"], 1250);
    add(&api, 100, "attempt-0002").await;
    api.emulator
        .advance_clock(IDEMPOTENCY_WINDOW - Duration::from_secs(60));
    let (status, replay) = add(&api, 250, "attempt-0001").await;
    assert_eq!((status, &replay), (200, &first), "the first answer again");
    assert_eq!(api.emulator.charges().len(), 2);
    assert_eq!(api.emulator.balance().credit_balance_cents, 1350);
}

#[tokio::test]
async fn after_24_hours_the_same_key_is_a_new_charge() {
    let api = Api::start();
    add(&api, 250, "attempt-0001").await;
    // Through the admin route, as a script driving the binary would.
    let (status, _) = read(
        api.client
            .post(api.url("/_emulator/clock"))
            .json(&json!({"advance_secs": IDEMPOTENCY_WINDOW.as_secs()})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = add(&api, 250, "attempt-0001").await;
    assert_eq!((status, &body["credit_balance_cents"]), (200, &json!(1500)));
    let charges = api.emulator.charges();
    assert_eq!(charges.len(), 2);
    assert!(charges[1].at >= charges[0].at + IDEMPOTENCY_WINDOW);
}

#[tokio::test]
async fn an_invoice_billed_organization_is_refused_and_shows_zero_amounts() {
    let emulator = Emulator::start_with(Options {
        will_invoice: true,
        ..Options::default()
    })
    .expect("emulator starts");
    let api = Api {
        emulator,
        client: Client::new(),
    };
    let (status, body) = api.call(Method::GET, "/service/v1/balance", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["will_invoice"], true);
    assert_eq!(body["credit_balance_cents"], 0);
    assert_eq!(body["pending_debit_balance_cents"], 0);
    let (status, body) = add(&api, 250, "attempt-0001").await;
    assert_eq!(status, 400);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("billed by invoice")),
        "{body}"
    );
    assert!(api.emulator.charges().is_empty());
}

#[tokio::test]
async fn invoice_billing_is_switched_through_the_admin_route() {
    let api = Api::start();
    let switch = |on: bool| {
        read(
            api.client
                .post(api.url("/_emulator/billing"))
                .json(&json!({ "will_invoice": on })),
        )
    };
    assert_eq!(switch(true).await.0, 200);
    assert_eq!(add(&api, 250, "attempt-0001").await.0, 400);
    assert_eq!(switch(false).await.0, 200);
    assert_eq!(add(&api, 250, "attempt-0001").await.0, 200);
    assert_eq!(api.emulator.balance().credit_balance_cents, 1250);
}

#[tokio::test]
async fn a_503_on_add_balance_charges_nothing_and_a_drop_after_acting_charges_once() {
    let api = Api::start();
    api.emulator
        .push_fault(Fault::new(FaultKind::status(503)).on(Method::POST, "/balance/add"));
    assert_eq!(add(&api, 250, "attempt-0001").await.0, 503);
    assert!(api.emulator.charges().is_empty());

    api.emulator
        .push_fault(Fault::new(FaultKind::DropAfterActing).on(Method::POST, "/balance/add"));
    let dropped = api
        .authed(Method::POST, "/service/v1/balance/add")
        .json(&json!({"amount_cents": 250, "idempotency_key": "attempt-0001"}))
        .send()
        .await;
    assert!(dropped.is_err(), "the connection was dropped");
    assert_eq!(api.emulator.charges().len(), 1, "but the charge was made");
    let (status, body) = add(&api, 250, "attempt-0001").await;
    assert_eq!((status, &body["credit_balance_cents"]), (200, &json!(1250)));
    assert_eq!(api.emulator.charges().len(), 1, "the retry charged nothing");
}

#[tokio::test]
async fn faults_apply_to_reading_the_balance() {
    let api = Api::start();
    api.emulator
        .push_fault(Fault::new(FaultKind::status(429)).on(Method::GET, "/service/v1/balance"));
    let (status, _) = api.call(Method::GET, "/service/v1/balance", None).await;
    assert_eq!(status, 429);
    let (status, _) = api.call(Method::GET, "/service/v1/balance", None).await;
    assert_eq!(status, 200);
}
