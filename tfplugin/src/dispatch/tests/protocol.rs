//! What every RPC shares: unknown types, unsupported calls, garbage input, the schema and generated config.

use super::*;

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
