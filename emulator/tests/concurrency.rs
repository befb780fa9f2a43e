//! Parallelism and latency, sized like the provider's benchmarks: what the
//! emulator itself measures and guarantees. No test here bounds the wall
//! clock from above (the machines are shared); timing lower bounds follow
//! from the configured latency and cannot be flaky.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Api;
use parallel_emulator::{Emulator, Options};
use reqwest::Method;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Creates `count` keys with at most `parallelism` requests in flight.
async fn create_keys(api: &Arc<Api>, path: &str, count: usize, parallelism: usize) {
    let permits = Arc::new(Semaphore::new(parallelism));
    let mut tasks = JoinSet::new();
    for index in 0..count {
        let api = Arc::clone(api);
        let permits = Arc::clone(&permits);
        let path = path.to_owned();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore open");
            let name = format!("key-{index}");
            let (status, _) = api
                .call(Method::POST, &path, Some(json!({"api_key_name": name})))
                .await;
            assert_eq!(status, 200);
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task succeeded");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_keys_with_parallelism_ten() {
    let api = Arc::new(Api::start());
    // Enough latency that the ten requests in flight overlap on the server,
    // so its own count of requests in flight must reach exactly ten.
    api.emulator.set_latency(Duration::from_millis(20));
    let app = api.emulator.create_app("bench");
    let path = format!("/service/v1/apps/{}/keys", app.app_id);
    create_keys(&api, &path, 1000, 10).await;

    let live = api.emulator.live_keys();
    assert_eq!(live.len(), 1000);
    let raw: HashSet<_> = live.iter().map(|key| key.raw_api_key.as_str()).collect();
    let ids: HashSet<_> = live.iter().map(|key| key.api_key_id.as_str()).collect();
    assert_eq!((raw.len(), ids.len()), (1000, 1000));
    // The client never has more than ten in flight; the emulator's count
    // is what is checked: it must neither miss overlaps nor invent them.
    assert_eq!(api.emulator.max_concurrent_requests(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_latency_overlaps_across_parallel_requests() {
    let emulator = Emulator::start_with(Options {
        latency: Duration::from_millis(50),
        ..Options::default()
    })
    .unwrap();
    let api = Arc::new(Api {
        emulator,
        client: reqwest::Client::new(),
    });
    let app = api.emulator.create_app("bench");
    let path = format!("/service/v1/apps/{}/keys", app.app_id);
    let started = Instant::now();
    create_keys(&api, &path, 100, 10).await;
    let elapsed = started.elapsed();

    // Ten waves of 50 ms at the least; that they overlap (rather than take
    // 100 × 50 ms) shows in the emulator's count of requests in flight.
    assert!(elapsed >= Duration::from_millis(500), "took {elapsed:?}");
    assert_eq!(api.emulator.max_concurrent_requests(), 10);
    let fastest = api
        .emulator
        .requests()
        .iter()
        .map(|r| r.duration())
        .min()
        .unwrap();
    assert!(fastest >= Duration::from_millis(50), "{fastest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_simultaneous_requests() {
    let api = Arc::new(Api::start());
    api.emulator.set_latency(Duration::from_millis(200));
    let mut tasks = JoinSet::new();
    for _ in 0..300 {
        let api = Arc::clone(&api);
        tasks.spawn(async move { api.call(Method::GET, "/service/v1/balance", None).await.0 });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    // Served side by side, not one after another.
    assert!(
        api.emulator.max_concurrent_requests() >= 100,
        "{}",
        api.emulator.max_concurrent_requests()
    );
}

#[test]
fn dropping_the_handle_stops_the_server() {
    let emulator = Emulator::start().unwrap();
    let address = emulator.base_url().trim_start_matches("http://").to_owned();
    assert!(std::net::TcpStream::connect(&address).is_ok());
    drop(emulator);
    assert!(std::net::TcpStream::connect(&address).is_err());
}

#[test]
fn a_fixed_port_and_token_are_honoured() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let emulator = Emulator::start_with(Options {
        port,
        token: Some("fixed-token".into()),
        ..Options::default()
    })
    .unwrap();
    assert_eq!(emulator.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(emulator.token(), "fixed-token");
    assert!(!format!("{emulator:?}").contains("fixed-token"));
}
