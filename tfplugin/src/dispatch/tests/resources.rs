//! Resource RPCs: plan, apply, read, import, identity, state upgrades, panics and stop.

use super::*;

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
async fn attribute_validators_run_with_the_path_before_the_resource_checks() {
    let (d, _) = dispatch();
    let validate = |name: &str| {
        d.validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "test_widget".into(),
            config: dv(&widget(name, Value::Null)),
            ..Default::default()
        }))
    };
    let refused = validate(" ").await.expect("rpc").into_inner();
    assert_eq!(refused.diagnostics.len(), 1, "{:?}", refused.diagnostics);
    assert_eq!(refused.diagnostics[0].summary, "Invalid name");
    let path = refused.diagnostics[0].attribute.as_ref().expect("a path");
    assert_eq!(
        path.steps[0].selector,
        Some(pb::attribute_path::step::Selector::AttributeName(
            "name".into()
        )),
        "{path:?}"
    );
    let accepted = validate("fine").await.expect("rpc").into_inner();
    assert!(accepted.diagnostics.is_empty());
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
    assert_eq!(
        *objects.widget.delivered.lock().expect("lock"),
        [true, false],
        "the delivery hooks heard which answer reached Terraform"
    );
    assert_eq!(*objects.widget.undelivered.lock().expect("lock"), ["w-1"]);
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
