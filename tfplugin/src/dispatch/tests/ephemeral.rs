//! Ephemeral resources: open, renew, close.

use super::*;

#[tokio::test]
async fn ephemeral_resources_open_renew_and_close() {
    let (d, objects) = dispatch();
    let lease_ty = Lease::default().schema().block.value_type();
    let config = Value::object([("name", Value::string("n")), ("token", Value::Null)]);
    let opened = d
        .open_ephemeral_resource(Request::new(pb::open_ephemeral_resource::Request {
            type_name: "test_lease".into(),
            config: Some(encode(&config, &lease_ty).expect("encodable")),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(opened.diagnostics.is_empty());
    let result =
        msgpack::decode(&opened.result.expect("result").msgpack, &lease_ty).expect("value");
    assert_eq!(result.get("token").and_then(Value::as_str), Some("t-1"));
    assert_eq!(opened.renew_at.map(|t| t.seconds), Some(60));
    assert_eq!(opened.private.as_deref(), Some(&b"lease-1"[..]));

    let renewed = d
        .renew_ephemeral_resource(Request::new(pb::renew_ephemeral_resource::Request {
            type_name: "test_lease".into(),
            private: Some(b"lease-1".to_vec()),
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(renewed.diagnostics.is_empty());
    assert!(objects.lease.closed.lock().expect("lock").is_empty());

    let closed = d
        .close_ephemeral_resource(Request::new(pb::close_ephemeral_resource::Request {
            type_name: "test_lease".into(),
            private: Some(b"lease-1".to_vec()),
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(closed.diagnostics.is_empty());
    // The close reached the object, with the private bytes of its open.
    assert_eq!(
        *objects.lease.closed.lock().expect("lock"),
        vec![b"lease-1".to_vec()]
    );
}

#[tokio::test]
async fn stop_provider_releases_ephemeral_values_left_open() {
    let (d, objects) = dispatch();
    d.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .expect("rpc");
    until("the lease to release what is left open", || {
        *objects.lease.abandoned.lock().expect("lock") == 1
    })
    .await;
}
