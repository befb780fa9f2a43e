//! Actions: progress, failures, panics, hang-ups and planning.

use super::*;

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

#[tokio::test]
async fn after_stop_provider_an_action_sends_no_more_progress() {
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
    d.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .expect("rpc");
    let rest: Vec<_> = within("the rest", stream.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(|e| e.expect("event"))
        .collect();
    assert!(*objects.poke.saw_cancel.lock().expect("lock"));
    assert_eq!(rest.len(), 1, "only the completion: {rest:?}");
    assert_eq!(completion(&rest[0])[0].summary, "Cancelled");
}
