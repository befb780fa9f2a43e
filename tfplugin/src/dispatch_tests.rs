//! The dispatch layer driven directly, with a test resource: the RPC
//! contracts that do not need Terraform to check.

use super::*;
use crate::framework::ApplyOutcome;
use crate::schema::{Attribute, Block};
use provider_server::Provider as _;
use std::sync::Mutex;

/// A resource that records what it saw, panics on request, and stores its
/// state as schema version 1 (version 0 called the `name` attribute
/// `title`).
#[derive(Default)]
struct Widget {
    saw_cancel: Mutex<Option<CancellationToken>>,
}

use tokio_util::sync::CancellationToken;

#[async_trait::async_trait]
impl Resource for Widget {
    fn type_name(&self) -> &'static str {
        "test_widget"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            1,
            Block::new("")
                .attribute(Attribute::string("name").required().requires_replace())
                .attribute(Attribute::string("id").computed().use_state_for_unknown()),
        )
    }

    async fn create(&self, ctx: &Context, planned: &Value, _: &Value) -> ApplyOutcome {
        if planned.get("name").and_then(Value::as_str) == Some("panic") {
            panic!("a bug");
        }
        if planned.get("name").and_then(Value::as_str) == Some("wait") {
            *self.saw_cancel.lock().expect("lock") = Some(ctx.cancel.clone());
            ctx.cancel.cancelled().await;
            return ApplyOutcome::failed(Diagnostic::error("cancelled", ""));
        }
        let Value::Object(mut fields) = planned.clone() else {
            return ApplyOutcome::failed(Diagnostic::error("not an object", ""));
        };
        fields.insert("id".into(), Value::string("w-1"));
        ApplyOutcome::state(Value::Object(fields))
    }

    async fn delete(&self, _: &Context, _: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    fn upgrade_state(
        &self,
        version: i64,
        mut state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        if version == 0
            && let Some(object) = state.as_object_mut()
            && let Some(title) = object.remove("title")
        {
            object.insert("name".into(), title);
        }
        Ok(state)
    }
}

/// An ephemeral resource that hands out a token and records its closing.
#[derive(Default)]
struct Lease {
    closed: Mutex<Vec<Vec<u8>>>,
}

#[async_trait::async_trait]
impl EphemeralResource for Lease {
    fn type_name(&self) -> &'static str {
        "test_lease"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("")
                .attribute(Attribute::string("name").required())
                .attribute(Attribute::string("token").computed().sensitive()),
        )
    }

    async fn open(
        &self,
        _: &Context,
        config: &Value,
    ) -> Result<crate::framework::EphemeralOpened, Diagnostics> {
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(crate::framework::EphemeralOpened {
            result: Value::object([
                ("name", Value::string(name)),
                ("token", Value::string("t-1")),
            ]),
            private: b"lease-1".to_vec(),
            renew_at: Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(60)),
        })
    }

    async fn close(&self, _: &Context, private: &[u8]) -> Diagnostics {
        self.closed.lock().expect("lock").push(private.to_vec());
        Diagnostics::new()
    }
}

struct TestProvider(Arc<Widget>);

#[async_trait::async_trait]
impl Provider for TestProvider {
    fn type_name(&self) -> &'static str {
        "test"
    }
    fn schema(&self) -> Schema {
        Schema::new(0, Block::new(""))
    }
    async fn configure(&self, _: &Context, _: ConfigureRequest) -> Diagnostics {
        Diagnostics::new()
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![self.0.clone()]
    }
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![Arc::new(Lease::default())]
    }
}

fn dispatch() -> (Dispatch, Arc<Widget>) {
    let widget = Arc::new(Widget::default());
    let provider = Arc::new(TestProvider(widget.clone()));
    (Dispatch::new(provider, StopSignal::default()), widget)
}

fn ty() -> Type {
    Widget::default().schema().block.value_type()
}

fn dv(value: &Value) -> Option<pb::DynamicValue> {
    Some(encode(value, &ty()).expect("encodable"))
}

fn widget(name: &str, id: Value) -> Value {
    Value::object([("name", Value::string(name)), ("id", id)])
}

fn state_of(value: Option<pb::DynamicValue>) -> Value {
    msgpack::decode(&value.expect("a value").msgpack, &ty()).expect("decodable")
}

async fn apply_create(d: &Dispatch, name: &str) -> pb::apply_resource_change::Response {
    let planned = widget(name, Value::Unknown);
    d.apply_resource_change(Request::new(pb::apply_resource_change::Request {
        type_name: "test_widget".into(),
        prior_state: dv(&Value::Null),
        planned_state: dv(&planned),
        config: dv(&widget(name, Value::Null)),
        ..Default::default()
    }))
    .await
    .expect("rpc")
    .into_inner()
}

#[tokio::test]
async fn plan_then_apply_creates_with_computed_values() {
    let (d, _) = dispatch();
    let config = widget("a", Value::Null);
    let plan = d
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_widget".into(),
            prior_state: dv(&Value::Null),
            proposed_new_state: dv(&config),
            config: dv(&config),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(plan.diagnostics.is_empty());
    assert_eq!(state_of(plan.planned_state), widget("a", Value::Unknown));

    let applied = apply_create(&d, "a").await;
    assert!(applied.diagnostics.is_empty());
    assert_eq!(
        state_of(applied.new_state),
        widget("a", Value::string("w-1"))
    );
}

#[tokio::test]
async fn a_panicking_resource_becomes_an_error_diagnostic() {
    let (d, _) = dispatch();
    let applied = apply_create(&d, "panic").await;
    assert_eq!(applied.diagnostics.len(), 1);
    assert_eq!(applied.diagnostics[0].summary, "Provider internal error");
}

#[tokio::test]
async fn stop_provider_cancels_work_in_flight_and_keeps_serving() {
    let (d, widget_impl) = dispatch();
    let d = Arc::new(d);
    let in_flight = tokio::spawn({
        let d = d.clone();
        async move { apply_create(&d, "wait").await }
    });
    while widget_impl.saw_cancel.lock().expect("lock").is_none() {
        tokio::task::yield_now().await;
    }
    d.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .expect("rpc");
    let cancelled = in_flight.await.expect("task");
    assert_eq!(cancelled.diagnostics[0].summary, "cancelled");
    // The server still works after a stop.
    let applied = apply_create(&d, "after").await;
    assert!(applied.diagnostics.is_empty());
}

#[tokio::test]
async fn old_state_versions_go_through_the_upgrade_hook() {
    let (d, _) = dispatch();
    let upgraded = d
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_widget".into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: br#"{"title":"old","id":"w-0"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(upgraded.diagnostics.is_empty());
    assert_eq!(
        state_of(upgraded.upgraded_state),
        widget("old", Value::string("w-0"))
    );
}

#[tokio::test]
async fn current_state_drops_attributes_the_schema_no_longer_has() {
    let (d, _) = dispatch();
    let upgraded = d
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_widget".into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: br#"{"name":"n","id":"w","gone":true}"#.to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        state_of(upgraded.upgraded_state),
        widget("n", Value::string("w"))
    );
}

#[tokio::test]
async fn unknown_types_and_unsupported_calls_answer_with_diagnostics() {
    let (d, _) = dispatch();
    let validated = d
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "test_nothing".into(),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(validated.diagnostics[0].summary, "Unknown resource type");
    let imported = d
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "test_widget".into(),
            id: "x".into(),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(imported.diagnostics[0].summary, "Import is not supported");
    let read = d
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "test_widget".into(),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(read.diagnostics[0].summary, "Unknown data source type");
}

#[tokio::test]
async fn garbage_from_terraform_is_a_diagnostic() {
    let (d, _) = dispatch();
    let plan = d
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_widget".into(),
            config: Some(pb::DynamicValue {
                msgpack: vec![0xc1, 0xff, 0x00],
                json: Vec::new(),
            }),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(
        plan.diagnostics[0].summary,
        "Unreadable value from Terraform"
    );
}

#[tokio::test]
async fn schema_is_served_with_capabilities() {
    let (d, _) = dispatch();
    let schema = d
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .expect("rpc")
        .into_inner();
    assert!(schema.resource_schemas.contains_key("test_widget"));
    let caps = schema.server_capabilities.expect("capabilities");
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
}

#[tokio::test]
async fn ephemeral_resources_open_renew_and_close() {
    let (d, _) = dispatch();
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

    let closed = d
        .close_ephemeral_resource(Request::new(pb::close_ephemeral_resource::Request {
            type_name: "test_lease".into(),
            private: Some(b"lease-1".to_vec()),
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(closed.diagnostics.is_empty());

    let schema = d
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .expect("rpc")
        .into_inner();
    assert!(schema.ephemeral_resource_schemas.contains_key("test_lease"));
}
