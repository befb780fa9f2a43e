//! List resources: streaming, limits, failures, hang-ups and validation.

use super::*;

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
