//! Property tests: whatever bytes the network delivers, reading them never
//! panics and never lets a secret into an error text.

use super::lenient::read_object;
use super::models::CreateKeyError;
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

/// A member's value as raw JSON text: valid values, and the damage a
/// lenient reader must survive (out-of-range numbers, lone surrogates,
/// nesting past serde_json's limit of 128, broken literals).
fn member_values() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => json_values().prop_map(|v| v.to_string()),
        1 => Just("1e400".to_owned()),
        1 => Just("-1e999".to_owned()),
        1 => Just(r#""\ud800""#.to_owned()),
        1 => Just(r#""a\udfffb""#.to_owned()),
        1 => (129usize..400).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        1 => (129usize..300).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))),
        1 => Just("tru".to_owned()),
    ]
}

fn json_values() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(serde_json::Value::from)
    })
}

/// Other members of a create answer, under any name but the two tested.
fn other_members() -> impl Strategy<Value = Vec<String>> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "api_key_name",
            "app_id",
            "app_name",
            "created_at",
            "display_value",
            "detail",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{0,10}",
    ]
    .prop_filter("not a tested name", |n| {
        n != "api_key_id" && n != "raw_api_key"
    });
    prop::collection::vec((name, member_values()), 0..4).prop_map(|members| {
        members
            .into_iter()
            .map(|(name, value)| format!("{}:{value}", serde_json::Value::from(name)))
            .collect()
    })
}

/// How the body ends after its members: closed, closed with bytes after
/// it, or cut off (right away, or inside a further member).
fn endings() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("}".to_owned()),
        Just("} ".to_owned()),
        "\\} ?[^ ]{1,12}",
        Just("}{}".to_owned()),
        Just(String::new()),
        Just(r#","cut":"par_"#.to_owned()),
        Just(r#","cut":[[1,"#.to_owned()),
    ]
}

proptest! {
    /// Issue 14: any 2xx body holding a readable `api_key_id` and
    /// `raw_api_key` gives back both, whatever else is wrong with it.
    #[test]
    fn a_readable_id_and_raw_key_are_always_kept(
        id in "[A-Za-z0-9_.:-]{1,24}".prop_filter("usable", |id| id != "." && id != ".."),
        raw in ".{1,40}",
        before in other_members(),
        between in other_members(),
        after in other_members(),
        raw_first in any::<bool>(),
        ending in endings(),
    ) {
        let id_member = format!("\"api_key_id\":{}", serde_json::Value::from(id.as_str()));
        let raw_member = format!("\"raw_api_key\":{}", serde_json::Value::from(raw.as_str()));
        let (first, second) = if raw_first { (raw_member, id_member) } else { (id_member, raw_member) };
        let members: Vec<String> = before
            .into_iter()
            .chain([first])
            .chain(between)
            .chain([second])
            .chain(after)
            .collect();
        let body = format!("{{{}{ending}", members.join(","));
        let key = match parse_created_key(200, body.as_bytes(), false, &[TOKEN]) {
            Ok(key) => key,
            Err(CreateKeyError::Incomplete { key, problem }) => {
                prop_assert!(raw.chars().count() < 12 || !problem.contains(&raw), "{problem}");
                key
            }
            Err(other) => return Err(TestCaseError::fail(format!("lost the key: {other}"))),
        };
        prop_assert_eq!(key.api_key_id.as_deref(), Some(id.as_str()));
        prop_assert_eq!(key.raw_api_key.as_ref().map(|k| k.expose()), Some(raw.as_str()));
    }

    /// On valid JSON the lenient reader agrees with serde_json.
    #[test]
    fn the_lenient_reader_reads_valid_objects_exactly(body in json_bodies()) {
        let strict: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let members = read_object(&body).unwrap();
        prop_assert!(members.damage.is_empty() && members.unreadable.is_empty());
        prop_assert_eq!(serde_json::Value::Object(members.read), strict);
    }

    #[test]
    fn the_lenient_reader_never_panics(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_object(&body);
        let mut object = b"{\"a\":".to_vec();
        object.extend_from_slice(&body);
        let _ = read_object(&object);
    }

    #[test]
    fn created_key_parser_never_panics_on_bytes(status in 200u16..300, body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_created_key(status, &body, false, &[TOKEN]);
    }

    #[test]
    fn created_key_parser_never_panics_on_json(body in json_bodies()) {
        if let Err(err) = parse_created_key(200, &body, false, &[TOKEN]) {
            let text = err.to_string();
            prop_assert!(!text.contains(TOKEN));
        }
    }

    #[test]
    fn error_bodies_never_panic_or_leak(status in 300u16..600, body in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut with_token = body.clone();
        with_token.extend_from_slice(TOKEN.as_bytes());
        let err = error_for_status(status, "https://example.test/x", &with_token, None, &[TOKEN]);
        prop_assert!(!err.to_string().contains(TOKEN));
        prop_assert!(!excerpt(&with_token, &[TOKEN]).contains(TOKEN));
    }
}
