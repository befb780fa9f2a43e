//! The dispatch layer driven directly, with a test resource: the RPC
//! contracts that do not need Terraform to check.

use super::codec::encode;
use super::*;
use crate::diag::Diagnostics;
use crate::framework::{
    ApplyOutcome, ConfigureRequest, Configured, Context, ImportRequest, ListItem, ListRequest,
    ListSink, PlanRequest, Progress,
};
use crate::identity::IdentityAttribute;
use crate::msgpack;
use crate::schema::{Attribute, Block};
use crate::value::Value;
use provider_server::Provider as _;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio_stream::StreamExt;

/// A resource that records what it saw, panics on request, and stores its
/// state as schema version 1 (version 0 called the `name` attribute
/// `title`).
#[derive(Default)]
struct Widget {
    saw_cancel: Mutex<Option<CancellationToken>>,
    /// A create named "slow" waits for this after it has "acted".
    release: tokio::sync::Notify,
    slow_started: std::sync::atomic::AtomicBool,
    /// The ids of creates whose answer could not be handed back.
    undelivered: Mutex<Vec<String>>,
    /// What each create's delivery hook heard, in order.
    delivered: Arc<Mutex<Vec<bool>>>,
    /// The (prior id, new id) of updates whose answer could not be handed back.
    undelivered_updates: Mutex<Vec<(String, String)>>,
    /// The prior private data the last plan was given.
    plan_saw_private: Mutex<Option<Vec<u8>>>,
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
                .attribute(
                    Attribute::string("name")
                        .required()
                        .requires_replace()
                        .validator(crate::validators::length_between(1, 64)),
                )
                .attribute(Attribute::string("id").computed().use_state_for_unknown()),
        )
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema::new(
            0,
            vec![IdentityAttribute::required("id", Type::String)],
        ))
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        if config.get("name").and_then(Value::as_str) == Some("panic-at-validate") {
            panic!("a bug in validate");
        }
        Diagnostics::new()
    }

    fn modify_plan(&self, request: &PlanRequest<'_>, planned: &mut Value) -> Diagnostics {
        if planned.get("name").and_then(Value::as_str) == Some("panic-at-plan") {
            panic!("a bug in plan");
        }
        *self.plan_saw_private.lock().expect("lock") = Some(request.prior_private.to_vec());
        Diagnostics::new()
    }

    /// What the plan will see: what Terraform held, and the name read.
    fn private_after_read(&self, state: &Value, mut private: Vec<u8>) -> Vec<u8> {
        private.extend_from_slice(b"+read:");
        private.extend_from_slice(state.field("name").as_str().unwrap_or("?").as_bytes());
        private
    }

    async fn update(&self, _: &Context, _: &Value, planned: &Value, _: &Value) -> ApplyOutcome {
        if planned.get("name").and_then(Value::as_str) == Some("slow") {
            self.slow_started
                .store(true, std::sync::atomic::Ordering::SeqCst);
            self.release.notified().await;
        }
        ApplyOutcome::state(planned.clone())
    }

    fn update_undelivered(&self, _: &Context, prior: &Value, new_state: &Value) {
        let id = |v: &Value| {
            v.get("id")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned()
        };
        self.undelivered_updates
            .lock()
            .expect("lock")
            .push((id(prior), id(new_state)));
    }

    async fn import(&self, _: &Context, request: ImportRequest) -> Result<Value, Diagnostics> {
        let id = match request {
            ImportRequest::Id(id) => id,
            ImportRequest::Identity(identity) => identity
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        };
        Ok(widget("imported", Value::string(id)))
    }

    async fn create(&self, ctx: &Context, planned: &Value, _: &Value) -> ApplyOutcome {
        if planned.get("name").and_then(Value::as_str) == Some("panic") {
            panic!("a bug");
        }
        let delivered = self.delivered.clone();
        ctx.delivery
            .on_delivery(move |outcome| delivered.lock().expect("lock").push(outcome));
        if planned.get("name").and_then(Value::as_str) == Some("wait") {
            *self.saw_cancel.lock().expect("lock") = Some(ctx.cancel.clone());
            ctx.cancel.cancelled().await;
            return ApplyOutcome::failed(Diagnostic::error("cancelled", ""));
        }
        if planned.get("name").and_then(Value::as_str) == Some("slow") {
            self.slow_started
                .store(true, std::sync::atomic::Ordering::SeqCst);
            self.release.notified().await;
        }
        if planned.get("name").and_then(Value::as_str) == Some("needs-data") {
            match ctx.provider_data::<Greeting>() {
                Ok(Greeting(text)) => return ApplyOutcome::state(widget(text, Value::string("g"))),
                Err(diags) => return ApplyOutcome::failed(diags),
            }
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

    fn create_undelivered(&self, _: &Context, new_state: &Value) {
        let id = new_state.get("id").and_then(Value::as_str).unwrap_or("?");
        self.undelivered.lock().expect("lock").push(id.to_owned());
    }

    fn upgrade_state(
        &self,
        version: i64,
        mut state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        if version == 9 {
            panic!("a bug in upgrade");
        }
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
    /// How often the run ended with leases possibly left open.
    abandoned: Mutex<u32>,
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

    async fn close_abandoned(&self, ctx: &Context) {
        assert!(
            !ctx.cancel.is_cancelled(),
            "a context the stop did not cancel"
        );
        *self.abandoned.lock().expect("lock") += 1;
    }
}

/// Lists three widgets, one at a time; "panic" panics, and "forever"
/// waits for cancellation after the first (recording that it saw it).
#[derive(Default)]
struct WidgetList {
    saw_cancel: Mutex<bool>,
    pushed: Mutex<usize>,
}

#[async_trait::async_trait]
impl ListResource for WidgetList {
    fn type_name(&self) -> &'static str {
        "test_widget"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("").attribute(Attribute::string("prefix").optional()),
        )
    }

    fn validate(&self, config: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        if config.get("prefix").and_then(Value::as_str) == Some("") {
            diagnostics
                .push(Diagnostic::error("Empty prefix", "").at(crate::AttrPath::root("prefix")));
        }
        diagnostics
    }

    async fn list(&self, ctx: &Context, request: ListRequest<'_>, sink: &ListSink) -> Diagnostics {
        let prefix = request.config.get("prefix").and_then(Value::as_str);
        if prefix == Some("panic") {
            panic!("a bug in list");
        }
        for n in 1..=3 {
            let id = format!("w-{n}");
            let item = ListItem {
                display_name: format!("widget {n}"),
                state: widget(&format!("name-{n}"), Value::string(id)),
            };
            if !sink.push(item).await {
                return Diagnostics::new();
            }
            *self.pushed.lock().expect("lock") += 1;
            if prefix == Some("forever") {
                ctx.cancel.cancelled().await;
                *self.saw_cancel.lock().expect("lock") = true;
                return Diagnostics::new();
            }
        }
        if prefix == Some("fail") {
            return Diagnostic::error("Listing failed", "page 2 is gone").into();
        }
        Diagnostics::new()
    }
}

/// An action that reports two steps and then fails, or panics, or waits
/// for cancellation.
#[derive(Default)]
struct Poke {
    saw_cancel: Mutex<bool>,
}

#[async_trait::async_trait]
impl Action for Poke {
    fn type_name(&self) -> &'static str {
        "test_poke"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("").attribute(Attribute::string("how").required()),
        )
    }

    async fn invoke(&self, ctx: &Context, config: &Value, progress: &Progress) -> Diagnostics {
        match config.get("how").and_then(Value::as_str) {
            Some("panic") => panic!("a bug in the action"),
            Some("wait") => {
                progress.report("waiting").await;
                ctx.cancel.cancelled().await;
                *self.saw_cancel.lock().expect("lock") = true;
                // Terraform 1.15 crashes on progress after StopProvider.
                progress.report("after the stop").await;
                Diagnostic::error("Cancelled", "").into()
            }
            _ => {
                progress.report("step 1").await;
                progress.report("step 2").await;
                Diagnostic::error("Poke failed", "the widget did not answer").into()
            }
        }
    }
}

/// What the test provider's configuration hands its objects.
struct Greeting(String);

#[derive(Default)]
struct Objects {
    widget: Arc<Widget>,
    lease: Arc<Lease>,
    list: Arc<WidgetList>,
    poke: Arc<Poke>,
}

struct TestProvider(Arc<Objects>);

#[async_trait::async_trait]
impl Provider for TestProvider {
    fn type_name(&self) -> &'static str {
        "test"
    }
    fn schema(&self) -> Schema {
        Schema::new(0, Block::new(""))
    }
    async fn configure(&self, _: &Context, _: ConfigureRequest) -> Configured {
        Configured::with(Greeting("hello".into()))
    }
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![self.0.widget.clone()]
    }
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource>> {
        vec![self.0.lease.clone()]
    }
    fn list_resources(&self) -> Vec<Arc<dyn ListResource>> {
        vec![self.0.list.clone()]
    }
    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![self.0.poke.clone()]
    }
}

fn dispatch() -> (Dispatch, Arc<Objects>) {
    let objects = Arc::new(Objects::default());
    let provider = Arc::new(TestProvider(objects.clone()));
    (
        Dispatch::new(provider, StopSignal::default(), Lifeline::default()),
        objects,
    )
}

/// Every wait in these tests is bounded, so a broken contract fails the
/// test instead of hanging it.
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn until(what: &str, condition: impl Fn() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
}

fn ty() -> Type {
    Widget::default().schema().block.value_type()
}

fn identity_ty() -> Type {
    Type::object([("id", Type::String)])
}

fn dv(value: &Value) -> Option<pb::DynamicValue> {
    Some(encode(value, &ty()).expect("encodable"))
}

fn dv_as(value: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(encode(value, ty).expect("encodable"))
}

fn widget(name: &str, id: Value) -> Value {
    Value::object([("name", Value::string(name)), ("id", id)])
}

fn state_of(value: Option<pb::DynamicValue>) -> Value {
    msgpack::decode(&value.expect("a value").msgpack, &ty()).expect("decodable")
}

fn identity_of(identity: Option<pb::ResourceIdentityData>) -> Value {
    let data = identity.expect("an identity").identity_data.expect("data");
    msgpack::decode(&data.msgpack, &identity_ty()).expect("decodable")
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

async fn plan_create(d: &Dispatch, name: &str) -> pb::plan_resource_change::Response {
    let config = widget(name, Value::Null);
    d.plan_resource_change(Request::new(pb::plan_resource_change::Request {
        type_name: "test_widget".into(),
        prior_state: dv(&Value::Null),
        proposed_new_state: dv(&config),
        config: dv(&config),
        ..Default::default()
    }))
    .await
    .expect("rpc")
    .into_inner()
}

mod actions;
mod ephemeral;
mod lists;
mod protocol;
mod resources;
