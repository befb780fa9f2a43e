//! Property tests: whatever bytes the network delivers, reading them never
//! panics and never lets a secret into an error text.

use super::models::parse_created_key;
use super::problem::error_for_status;
use super::redact::excerpt;
use proptest::prelude::*;

const TOKEN: &str = "tok_SECRET_access_token_value";

/// JSON-ish bodies: objects with the create answer's field names holding
/// values of arbitrary type, which is where a lenient parser gets tested.
fn json_bodies() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        ".{0,20}".prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    let names = prop::sample::select(vec![
        "api_key_id",
        "api_key_name",
        "app_id",
        "app_name",
        "created_by_user_id",
        "created_by_user_email",
        "display_value",
        "raw_api_key",
        "created_at",
        "detail",
    ]);
    prop::collection::vec((names, value), 0..10).prop_map(|fields| {
        let object: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        serde_json::Value::Object(object).to_string().into_bytes()
    })
}

proptest! {
    #[test]
    fn created_key_parser_never_panics_on_bytes(status in 200u16..300, body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_created_key(status, &body, &[TOKEN]);
    }

    #[test]
    fn created_key_parser_never_panics_on_json(body in json_bodies()) {
        if let Err(err) = parse_created_key(200, &body, &[TOKEN]) {
            let text = err.to_string();
            prop_assert!(!text.contains(TOKEN));
        }
    }

    #[test]
    fn error_bodies_never_panic_or_leak(status in 300u16..600, body in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut with_token = body.clone();
        with_token.extend_from_slice(TOKEN.as_bytes());
        let err = error_for_status(status, &with_token, None, &[TOKEN]);
        prop_assert!(!err.to_string().contains(TOKEN));
        prop_assert!(!excerpt(&with_token, &[TOKEN]).contains(TOKEN));
    }
}
