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
                .attribute(Attribute::string("name").required().requires_replace())
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

#[tokio::test]
async fn plan_then_apply_creates_with_computed_values_and_identity() {
    let (d, _) = dispatch();
    let plan = plan_create(&d, "a").await;
    assert!(plan.diagnostics.is_empty());
    assert_eq!(state_of(plan.planned_state), widget("a", Value::Unknown));
    // A create learns its identity only at apply: none is planned, as an
    // unknown one breaks Terraform's JSON rendering of the plan.
    assert!(plan.planned_identity.is_none());

    let applied = apply_create(&d, "a").await;
    assert!(applied.diagnostics.is_empty());
    assert_eq!(
        state_of(applied.new_state),
        widget("a", Value::string("w-1"))
    );
    assert_eq!(
        identity_of(applied.new_identity),
        Value::object([("id", Value::string("w-1"))])
    );
}

#[tokio::test]
async fn objects_get_the_provider_data_once_configured() {
    let (d, _) = dispatch();
    let before = apply_create(&d, "needs-data").await;
    assert_eq!(before.diagnostics[0].summary, "Provider not configured");
    let configured = d
        .configure_provider(Request::new(Default::default()))
        .await
        .expect("rpc")
        .into_inner();
    assert!(configured.diagnostics.is_empty());
    let after = apply_create(&d, "needs-data").await;
    assert!(after.diagnostics.is_empty(), "{:?}", after.diagnostics);
    assert_eq!(
        state_of(after.new_state),
        widget("hello", Value::string("g"))
    );
}

#[tokio::test]
async fn read_returns_the_identity_of_the_state_and_none_when_gone() {
    let (d, _) = dispatch();
    let read = |state: Value| {
        d.read_resource(Request::new(pb::read_resource::Request {
            type_name: "test_widget".into(),
            current_state: dv(&state),
            ..Default::default()
        }))
    };
    let found = read(widget("a", Value::string("w-7"))).await.expect("rpc");
    assert_eq!(
        identity_of(found.into_inner().new_identity),
        Value::object([("id", Value::string("w-7"))])
    );
    let gone = read(Value::Null).await.expect("rpc").into_inner();
    assert!(gone.new_identity.is_none());
}

#[tokio::test]
async fn identity_schemas_are_served_and_upgraded() {
    let (d, _) = dispatch();
    let schemas = d
        .get_resource_identity_schemas(Request::new(Default::default()))
        .await
        .expect("rpc")
        .into_inner();
    let widget_identity = &schemas.identity_schemas["test_widget"];
    assert_eq!(widget_identity.identity_attributes[0].name, "id");
    assert!(widget_identity.identity_attributes[0].required_for_import);

    let upgrade = |version| {
        d.upgrade_resource_identity(Request::new(pb::upgrade_resource_identity::Request {
            type_name: "test_widget".into(),
            version,
            raw_identity: Some(pb::RawState {
                json: br#"{"id":"w-3"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        }))
    };
    let current = upgrade(0).await.expect("rpc").into_inner();
    assert_eq!(
        identity_of(current.upgraded_identity),
        Value::object([("id", Value::string("w-3"))])
    );
    let newer = upgrade(5).await.expect("rpc").into_inner();
    assert_eq!(newer.diagnostics[0].summary, "Unsupported identity version");
}

#[tokio::test]
async fn import_by_identity_is_checked_and_returns_the_identity() {
    let (d, _) = dispatch();
    let import = |identity: Value| {
        d.import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: "test_widget".into(),
            identity: Some(pb::ResourceIdentityData {
                identity_data: dv_as(&identity, &identity_ty()),
            }),
            ..Default::default()
        }))
    };
    let imported = import(Value::object([("id", Value::string("w-9"))]))
        .await
        .expect("rpc")
        .into_inner();
    assert!(
        imported.diagnostics.is_empty(),
        "{:?}",
        imported.diagnostics
    );
    let resource = imported.imported_resources.into_iter().next().expect("one");
    assert_eq!(
        identity_of(resource.identity),
        Value::object([("id", Value::string("w-9"))])
    );
    let missing = import(Value::object([("id", Value::Null)]))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(missing.diagnostics[0].summary, "Missing identity attribute");
    let at = missing.diagnostics[0].attribute.as_ref().expect("a path");
    assert_eq!(at.steps.len(), 1);
}

#[tokio::test]
async fn a_panicking_resource_becomes_an_error_diagnostic() {
    let (d, _) = dispatch();
    let applied = apply_create(&d, "panic").await;
    assert_eq!(applied.diagnostics.len(), 1);
    assert_eq!(applied.diagnostics[0].summary, "Provider internal error");
}

#[tokio::test]
async fn panics_in_validate_plan_and_upgrade_become_error_diagnostics() {
    let (d, _) = dispatch();
    let validated = d
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "test_widget".into(),
            config: dv(&widget("panic-at-validate", Value::Null)),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(validated.diagnostics[0].summary, "Provider internal error");

    let planned = plan_create(&d, "panic-at-plan").await;
    assert_eq!(planned.diagnostics[0].summary, "Provider internal error");

    let upgraded = d
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: "test_widget".into(),
            version: 9,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(upgraded.diagnostics[0].summary, "Provider internal error");
}

#[tokio::test]
async fn stop_provider_cancels_work_in_flight_and_keeps_serving() {
    let (d, objects) = dispatch();
    let d = Arc::new(d);
    let in_flight = tokio::spawn({
        let d = d.clone();
        async move { apply_create(&d, "wait").await }
    });
    let saw = || objects.widget.saw_cancel.lock().expect("lock").clone();
    until("the create to start", || saw().is_some()).await;
    d.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .expect("rpc");
    let cancelled = within("the cancelled create", in_flight)
        .await
        .expect("task");
    assert_eq!(cancelled.diagnostics[0].summary, "cancelled");
    assert!(saw().expect("token").is_cancelled());

    // Work started after the stop gets a fresh, uncancelled context.
    let later = tokio::spawn({
        let d = d.clone();
        async move { apply_create(&d, "wait").await }
    });
    until("the second create to start", || {
        saw().is_some_and(|token| !token.is_cancelled())
    })
    .await;
    assert!(!later.is_finished());
    later.abort();
    let applied = within("a plain create", apply_create(&d, "after")).await;
    assert!(applied.diagnostics.is_empty());
}

/// Terraform killed: its connection closes and the transport drops the
/// call. The create must still reach its answer, and the resource must hear
/// that the answer went nowhere.
#[tokio::test]
async fn a_create_outlives_its_dropped_call_and_reports_the_lost_answer() {
    let (d, objects) = dispatch();
    let d = Arc::new(d);
    let call = tokio::spawn({
        let d = d.clone();
        async move { apply_create(&d, "slow").await }
    });
    until("the create to start", || {
        objects
            .widget
            .slow_started
            .load(std::sync::atomic::Ordering::SeqCst)
    })
    .await;
    call.abort();
    assert!(call.await.is_err(), "the call was dropped");
    assert_eq!(d.lifeline.in_flight(), 1, "the create runs on");
    objects.widget.release.notify_one();
    assert!(within("the drain", d.lifeline.drain(Duration::from_secs(5))).await);
    assert_eq!(*objects.widget.undelivered.lock().expect("lock"), ["w-1"]);
}

#[tokio::test]
async fn a_create_finishing_after_terraform_is_gone_reports_the_lost_answer() {
    let (d, objects) = dispatch();
    let d = Arc::new(d);
    let delivered = within("a plain create", apply_create(&d, "plain")).await;
    assert!(delivered.diagnostics.is_empty());
    assert!(objects.widget.undelivered.lock().expect("lock").is_empty());

    let call = tokio::spawn({
        let d = d.clone();
        async move { apply_create(&d, "slow").await }
    });
    until("the create to start", || {
        objects
            .widget
            .slow_started
            .load(std::sync::atomic::Ordering::SeqCst)
    })
    .await;
    d.lifeline.mark_gone();
    objects.widget.release.notify_one();
    let _nobody_reads_this = within("the call", call).await.expect("task");
    assert!(within("the drain", d.lifeline.drain(Duration::from_secs(5))).await);
    assert_eq!(*objects.widget.undelivered.lock().expect("lock"), ["w-1"]);
}

/// What a refresh leaves in the private data is what the next plan gets,
/// so a plan can depend on what the refresh saw (the time, say) and the
/// plan Terraform makes again at apply decides the same.
#[tokio::test]
async fn a_refresh_sets_the_private_data_that_the_plan_then_reads() {
    let (d, objects) = dispatch();
    let read = |state: Value| {
        d.read_resource(Request::new(pb::read_resource::Request {
            type_name: "test_widget".into(),
            current_state: dv(&state),
            private: b"held".to_vec(),
            ..Default::default()
        }))
    };
    let found = read(widget("a", Value::string("w-7"))).await.expect("rpc");
    let private = found.into_inner().private;
    assert_eq!(private, b"held+read:a");
    let gone = read(Value::Null).await.expect("rpc").into_inner();
    assert_eq!(gone.private, b"held", "nothing to read: kept as it was");

    let prior = widget("a", Value::string("w-7"));
    let planned = d
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: "test_widget".into(),
            prior_state: dv(&prior),
            proposed_new_state: dv(&prior),
            config: dv(&widget("a", Value::Null)),
            prior_private: private.clone(),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    assert_eq!(
        objects
            .widget
            .plan_saw_private
            .lock()
            .expect("lock")
            .as_deref(),
        Some(&private[..])
    );
}

/// As for a create: an update whose answer went nowhere is reported with
/// the prior state Terraform keeps and the new one it never got.
#[tokio::test]
async fn an_update_finishing_after_terraform_is_gone_reports_the_lost_answer() {
    let (d, objects) = dispatch();
    let d = Arc::new(d);
    let call = tokio::spawn({
        let d = d.clone();
        async move {
            d.apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "test_widget".into(),
                prior_state: dv(&widget("slow", Value::string("w-1"))),
                planned_state: dv(&widget("slow", Value::string("w-2"))),
                config: dv(&widget("slow", Value::Null)),
                ..Default::default()
            }))
            .await
        }
    });
    until("the update to start", || {
        objects
            .widget
            .slow_started
            .load(std::sync::atomic::Ordering::SeqCst)
    })
    .await;
    d.lifeline.mark_gone();
    objects.widget.release.notify_one();
    let _nobody_reads_this = within("the call", call).await.expect("task");
    assert!(within("the drain", d.lifeline.drain(Duration::from_secs(5))).await);
    assert_eq!(
        *objects.widget.undelivered_updates.lock().expect("lock"),
        [("w-1".to_owned(), "w-2".to_owned())]
    );
    assert!(objects.widget.undelivered.lock().expect("lock").is_empty());
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
    let read = d
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "test_widget".into(),
            ..Default::default()
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(read.diagnostics[0].summary, "Unknown data source type");
    let moved = d
        .move_resource_state(Request::new(Default::default()))
        .await
        .expect("rpc")
        .into_inner();
    assert!(moved.diagnostics[0].summary.contains("not supported"));
}

#[tokio::test]
async fn state_store_calls_are_unimplemented_and_say_why() {
    let (d, _) = dispatch();
    let status = d
        .get_states(Request::new(Default::default()))
        .await
        .expect_err("no state stores");
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    assert!(status.message().contains("does not store Terraform state"));
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
async fn schema_is_served_with_every_kind_of_object_and_capabilities() {
    let (d, _) = dispatch();
    let schema = d
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .expect("rpc")
        .into_inner();
    assert!(schema.diagnostics.is_empty());
    assert!(schema.resource_schemas.contains_key("test_widget"));
    assert!(schema.ephemeral_resource_schemas.contains_key("test_lease"));
    assert!(schema.list_resource_schemas.contains_key("test_widget"));
    assert!(schema.action_schemas.contains_key("test_poke"));
    let caps = schema.server_capabilities.expect("capabilities");
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
    assert!(caps.generate_resource_config);
}

#[tokio::test]
async fn generated_config_keeps_only_what_a_user_writes() {
    let (d, _) = dispatch();
    let generated = d
        .generate_resource_config(Request::new(pb::generate_resource_config::Request {
            type_name: "test_widget".into(),
            state: dv(&widget("a", Value::string("w-1"))),
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(state_of(generated.config), widget("a", Value::Null));
}

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

fn list_request(prefix: Option<&str>, limit: i64, objects: bool) -> pb::list_resource::Request {
    let ty = WidgetList::default().schema().block.value_type();
    let prefix = prefix.map_or(Value::Null, Value::string);
    pb::list_resource::Request {
        type_name: "test_widget".into(),
        config: dv_as(&Value::object([("prefix", prefix)]), &ty),
        include_resource_object: objects,
        limit,
    }
}

async fn list_all(
    d: &Dispatch,
    request: pb::list_resource::Request,
) -> Vec<pb::list_resource::Event> {
    let stream = d.list_resource(Request::new(request)).await.expect("rpc");
    let events = stream.into_inner().collect::<Vec<_>>();
    within("the listing", events)
        .await
        .into_iter()
        .map(|e| e.expect("event"))
        .collect()
}

#[tokio::test]
async fn a_listing_streams_each_object_with_its_identity() {
    let (d, _) = dispatch();
    let events = list_all(&d, list_request(None, 100, true)).await;
    assert_eq!(events.len(), 3);
    for (n, event) in (1..).zip(&events) {
        assert!(event.diagnostic.is_empty());
        assert_eq!(event.display_name, format!("widget {n}"));
        assert_eq!(
            identity_of(event.identity.clone()),
            Value::object([("id", Value::string(format!("w-{n}")))])
        );
        assert_eq!(
            state_of(event.resource_object.clone()),
            widget(&format!("name-{n}"), Value::string(format!("w-{n}")))
        );
    }
    let without_objects = list_all(&d, list_request(None, 100, false)).await;
    assert!(without_objects.iter().all(|e| e.resource_object.is_none()));
}

#[tokio::test]
async fn a_listing_stops_at_the_limit() {
    let (d, objects) = dispatch();
    let events = list_all(&d, list_request(None, 2, false)).await;
    assert_eq!(events.len(), 2);
    // The third push was refused, so the listing stopped there.
    assert_eq!(*objects.list.pushed.lock().expect("lock"), 2);
}

#[tokio::test]
async fn a_failing_listing_ends_with_its_diagnostics_after_what_it_found() {
    let (d, _) = dispatch();
    let events = list_all(&d, list_request(Some("fail"), 100, false)).await;
    assert_eq!(events.len(), 4);
    assert_eq!(events[3].diagnostic[0].summary, "Listing failed");
    assert!(events[3].identity.is_none());
}

#[tokio::test]
async fn a_panicking_listing_becomes_an_error_event() {
    let (d, _) = dispatch();
    let events = list_all(&d, list_request(Some("panic"), 100, false)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].diagnostic[0].summary, "Provider internal error");
}

#[tokio::test]
async fn hanging_up_on_a_listing_cancels_it() {
    let (d, objects) = dispatch();
    let mut stream = d
        .list_resource(Request::new(list_request(Some("forever"), 100, false)))
        .await
        .expect("rpc")
        .into_inner();
    let first = within("the first event", stream.next()).await;
    assert!(first.is_some());
    drop(stream);
    until("the listing to see the cancellation", || {
        *objects.list.saw_cancel.lock().expect("lock")
    })
    .await;
}

#[tokio::test]
async fn list_configs_are_validated_with_attribute_paths() {
    let (d, _) = dispatch();
    let ty = WidgetList::default().schema().block.value_type();
    let validated = d
        .validate_list_resource_config(Request::new(pb::validate_list_resource_config::Request {
            type_name: "test_widget".into(),
            config: dv_as(&Value::object([("prefix", Value::string(""))]), &ty),
            include_resource_object: None,
            limit: dv_as(&Value::number(-1), &Type::Number),
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(validated.diagnostics[0].summary, "Invalid limit");
}

fn action_config(how: Value) -> Option<pb::DynamicValue> {
    let ty = Poke::default().schema().block.value_type();
    dv_as(&Value::object([("how", how)]), &ty)
}

async fn invoke(d: &Dispatch, how: &str) -> Vec<pb::invoke_action::Event> {
    let stream = d
        .invoke_action(Request::new(pb::invoke_action::Request {
            action_type: "test_poke".into(),
            config: action_config(Value::string(how)),
            client_capabilities: None,
        }))
        .await
        .expect("rpc");
    let events = stream.into_inner().collect::<Vec<_>>();
    within("the action", events)
        .await
        .into_iter()
        .map(|e| e.expect("event"))
        .collect()
}

fn completion(event: &pb::invoke_action::Event) -> &[pb::Diagnostic] {
    match &event.r#type {
        Some(pb::invoke_action::event::Type::Completed(c)) => &c.diagnostics,
        other => panic!("not a completion: {other:?}"),
    }
}

#[tokio::test]
async fn an_action_reports_progress_then_fails_cleanly() {
    let (d, _) = dispatch();
    let events = invoke(&d, "fail").await;
    let messages: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.r#type {
            Some(pb::invoke_action::event::Type::Progress(p)) => Some(p.message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(messages, ["step 1", "step 2"]);
    let last = events.last().expect("a completion");
    assert_eq!(completion(last)[0].summary, "Poke failed");
    assert_eq!(events.len(), 3);
}

#[tokio::test]
async fn a_panicking_action_completes_with_an_error() {
    let (d, _) = dispatch();
    let events = invoke(&d, "panic").await;
    assert_eq!(events.len(), 1);
    assert_eq!(completion(&events[0])[0].summary, "Provider internal error");
}

#[tokio::test]
async fn hanging_up_on_an_action_cancels_its_context() {
    let (d, objects) = dispatch();
    let mut stream = d
        .invoke_action(Request::new(pb::invoke_action::Request {
            action_type: "test_poke".into(),
            config: action_config(Value::string("wait")),
            client_capabilities: None,
        }))
        .await
        .expect("rpc")
        .into_inner();
    assert!(within("the first progress", stream.next()).await.is_some());
    drop(stream);
    until("the action to see the cancellation", || {
        *objects.poke.saw_cancel.lock().expect("lock")
    })
    .await;
}

#[tokio::test]
async fn an_action_with_unknown_config_is_deferred_or_refused_at_plan() {
    let (d, _) = dispatch();
    let plan = |deferral_allowed| {
        d.plan_action(Request::new(pb::plan_action::Request {
            action_type: "test_poke".into(),
            config: action_config(Value::Unknown),
            client_capabilities: Some(pb::ClientCapabilities {
                deferral_allowed,
                write_only_attributes_allowed: false,
            }),
        }))
    };
    let deferred = plan(true).await.expect("rpc").into_inner();
    assert!(deferred.diagnostics.is_empty());
    assert_eq!(
        deferred.deferred.map(|d| d.reason),
        Some(pb::deferred::Reason::ResourceConfigUnknown as i32)
    );
    let refused = plan(false).await.expect("rpc").into_inner();
    assert_eq!(
        refused.diagnostics[0].summary,
        "Action configuration not known"
    );
}
