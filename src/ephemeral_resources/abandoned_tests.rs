use std::time::{Duration, Instant};

use super::*;
use crate::client::test_server::{Reply, TestServer, response};

const APP: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

fn open_key(n: usize) -> OpenKey {
    OpenKey {
        app_id: APP.to_owned(),
        api_key_id: format!("key_{n}"),
        label: format!("API key \"tmp-{n}\""),
        journal_op: None,
    }
}

#[tokio::test]
async fn keys_left_open_at_the_end_of_a_run_are_revoked_together() {
    // Terraform kills the plugin about 2 s after a second Ctrl-C: with
    // revokes that take most of that, one after another reaches only the
    // first key.
    const KEYS: usize = 4;
    const ONE_REVOKE: Duration = Duration::from_millis(700);
    let slow_revoke = || Reply::Delayed(ONE_REVOKE, Box::new(response(204, &[], "")));
    let server = TestServer::start((0..KEYS).map(|_| slow_revoke()).collect()).await;
    let keys = OpenKeys::default();
    (0..KEYS).for_each(|n| keys.opened(open_key(n)));

    let started = Instant::now();
    revoke_at_end_of_run(&server.client(), &keys).await;
    let took = started.elapsed();

    let mut revoked: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    revoked.sort();
    let expected: Vec<String> = (0..KEYS)
        .map(|n| format!("/account/service/v1/apps/{APP}/keys/key_{n}"))
        .collect();
    assert_eq!(revoked, expected);
    assert!(keys.is_empty());
    assert!(
        took < ONE_REVOKE * 2,
        "{KEYS} revokes of {ONE_REVOKE:?} each took {took:?}: not at once"
    );
}
