//! The JSON half of `DynamicValue` and Terraform's JSON resource state,
//! laid out as go-cty's `cty/json` package lays them out (`decode`,
//! `encode`), plus conversions between [`Value`](crate::Value) and plain
//! `serde_json::Value` data for providers (`bridge`).
//!
//! Wire facts (from go-cty):
//! - JSON has no unknowns: encoding one is an error.
//! - numbers are written in plain decimal notation (`0.0000001`, never
//!   `1e-7`) and read exactly: the raw number text is kept, never squeezed
//!   through f64.
//! - like go-cty, strings are accepted where numbers or bools are expected
//!   (`"12"`, `"true"`), and numbers or bools where strings are.
//! - a known value under the `dynamic` type is `{"value":…,"type":…}`.
//! - object attributes are written in sorted order; attributes missing from
//!   the input decode as null.

mod bridge;
mod decode;
mod encode;

pub use super::value::{DecodeError, EncodeError};
pub use bridge::{from_json_value, to_json_value};
pub use decode::{decode, decode_state};
pub use encode::encode;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msgpack;
    use crate::value::{MAX_NESTING, Number, PathStep, Type, Value};

    fn num(text: &str) -> Value {
        Value::Number(Number::parse(text).unwrap())
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    fn round_trip(value: &Value, ty: &Type) -> String {
        let bytes = encode(value, ty).unwrap();
        let decoded = decode(&bytes, ty).unwrap();
        assert_eq!(
            &decoded,
            value,
            "value changed through {}",
            text(bytes.clone())
        );
        assert_eq!(encode(&decoded, ty).unwrap(), bytes, "bytes changed");
        text(bytes)
    }

    #[test]
    fn go_cty_layouts() {
        let ty = Type::object([
            ("b", Type::Number),
            ("a", Type::list(Type::String)),
            ("c", Type::map(Type::Bool)),
            ("d", Type::Dynamic),
        ]);
        let value = Value::object([
            ("a", Value::list([Value::from("x<y>&\"\n"), Value::Null])),
            ("b", num("1e-7")),
            (
                "c",
                Value::map([("z", Value::from(true)), ("k", Value::from(false))]),
            ),
            (
                "d",
                Value::Dynamic(Type::list(Type::Number), Box::new(Value::list([num("1")]))),
            ),
        ]);
        assert_eq!(
            round_trip(&value, &ty),
            r#"{"a":["x\u003cy\u003e\u0026\"\n",null],"b":0.0000001,"c":{"k":false,"z":true},"d":{"value":[1],"type":["list","number"]}}"#
        );
        assert_eq!(round_trip(&Value::Null, &Type::Dynamic), "null");
        assert_eq!(round_trip(&Value::Null, &ty), "null");
    }

    #[test]
    fn numbers_are_exact() {
        for (input, canonical) in [
            ("12345678901234567890123", "12345678901234567890123"),
            ("-12345678901234567890123", "-12345678901234567890123"),
            ("0.1", "0.1"),
            ("1e-7", "0.0000001"),
            ("3.14159265358979", "3.14159265358979"),
            ("1.50", "1.5"),
            ("-0", "0"),
            ("2E3", "2000"),
        ] {
            let value = decode(input.as_bytes(), &Type::Number).unwrap();
            assert_eq!(value, num(input));
            assert_eq!(text(encode(&value, &Type::Number).unwrap()), canonical);
        }
    }

    #[test]
    fn primitives_convert_like_go_cty() {
        assert_eq!(decode(br#""42.5""#, &Type::Number).unwrap(), num("42.5"));
        assert_eq!(
            decode(br#"1.50"#, &Type::String).unwrap(),
            Value::from("1.50")
        );
        assert_eq!(
            decode(br#"true"#, &Type::String).unwrap(),
            Value::from("true")
        );
        assert_eq!(
            decode(br#""false""#, &Type::Bool).unwrap(),
            Value::from(false)
        );
        assert!(decode(br#""yes""#, &Type::Bool).is_err());
        assert!(decode(br#""ten""#, &Type::Number).is_err());
        assert!(decode(br#"[1]"#, &Type::String).is_err());
    }

    #[test]
    fn unknowns_and_infinity_cannot_be_encoded() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let value = Value::object([("a", Value::list([Value::Unknown]))]);
        let err = encode(&value, &ty).unwrap_err();
        assert_eq!(
            err,
            EncodeError::UnknownInJson {
                path: vec![PathStep::Attribute("a".into()), PathStep::Index(0)].into()
            }
        );
        assert_eq!(
            err.to_string(),
            "at a[0]: JSON cannot represent unknown values"
        );
        assert!(encode(&Value::Unknown, &Type::Dynamic).is_err());
        let infinity = Value::Number(Number::parse("-Inf").unwrap());
        assert!(matches!(
            encode(&infinity, &Type::Number),
            Err(EncodeError::InfinityInJson { .. })
        ));
    }

    #[test]
    fn nested_values_round_trip() {
        let ty = Type::object([
            ("name", Type::String),
            ("set", Type::set(Type::Number)),
            (
                "tuple",
                Type::Tuple(vec![Type::String, Type::Bool, Type::Dynamic]),
            ),
            ("objects", Type::list(Type::object([("x", Type::Number)]))),
            ("empty", Type::map(Type::String)),
            ("unicode", Type::map(Type::String)),
        ]);
        let value = Value::object([
            ("name", Value::from("tab\there \u{1} \u{2028}")),
            ("set", Value::set([num("-1"), num("0.25"), num("1e30")])),
            (
                "tuple",
                Value::Tuple(vec![Value::from("a"), Value::Null, Value::Null]),
            ),
            (
                "objects",
                Value::list([
                    Value::object([("x", num("1"))]),
                    Value::object([("x", Value::Null)]),
                ]),
            ),
            ("empty", Value::map::<String>([])),
            ("unicode", Value::map([("clé ✓", Value::from("🦀 naïve"))])),
        ]);
        round_trip(&value, &ty);
    }

    #[test]
    fn whitespace_and_escapes_are_read() {
        let ty = Type::object([("a", Type::list(Type::String)), ("n", Type::Number)]);
        let input = b" {\n \"a\" : [ \"x\\u0000\\u00e9\\ud83e\\udd80\" ] ,\t\"n\": -1.5E+2 } ";
        assert_eq!(
            decode(input, &ty).unwrap(),
            Value::object([
                ("a", Value::list([Value::from("x\u{0}é🦀")])),
                ("n", num("-150")),
            ])
        );
        let encoded = text(encode(&Value::from("\u{0}\u{1f}\u{8}\u{c}"), &Type::String).unwrap());
        assert_eq!(encoded, r#""\u0000\u001f\b\f""#);
    }

    #[test]
    fn wire_decoding_is_strict_about_attributes() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        assert_eq!(
            decode(br#"{"a":"x"}"#, &ty).unwrap(),
            Value::object([("a", Value::from("x")), ("b", Value::Null)])
        );
        let err = decode(br#"{"a":"x","gone":1}"#, &ty).unwrap_err();
        assert_eq!(err.to_string(), "at (root): unsupported attribute \"gone\"");
    }

    #[test]
    fn state_decoding_drops_attributes_the_schema_lost() {
        let ty = Type::object([
            ("id", Type::String),
            ("nested", Type::list(Type::object([("keep", Type::Bool)]))),
            ("added_later", Type::String),
        ]);
        let state = br#"{"id":"k-1","old":{"deep":[1,2]},"nested":[{"keep":true,"drop":"x"}]}"#;
        assert_eq!(
            decode_state(state, &ty).unwrap(),
            Value::object([
                ("id", Value::from("k-1")),
                (
                    "nested",
                    Value::list([Value::object([("keep", Value::from(true))])])
                ),
                ("added_later", Value::Null),
            ])
        );
        assert!(decode(state, &ty).is_err());
    }

    #[test]
    fn dynamic_wrappers() {
        let bytes = br#"{"type":["tuple",["string","number"]],"value":["a",1]}"#;
        let value = decode(bytes, &Type::Dynamic).unwrap();
        assert_eq!(
            value.implied_type(),
            Some(Type::Tuple(vec![Type::String, Type::Number]))
        );
        assert_eq!(
            text(encode(&value, &Type::Dynamic).unwrap()),
            r#"{"value":["a",1],"type":["tuple",["string","number"]]}"#
        );
        for bad in [
            r#"{"value":1}"#,
            r#"{"type":"number"}"#,
            r#"{"type":"number","value":1,"extra":true}"#,
            r#"{"type":"numbr","value":1}"#,
            r#"[1]"#,
        ] {
            assert!(decode(bad.as_bytes(), &Type::Dynamic).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        let good = br#"{"a":["x","y"]}"#;
        for cut in 0..good.len() {
            assert!(decode(&good[..cut], &ty).is_err(), "cut at {cut}");
        }
        for bad in [
            &b"\xff"[..],
            br#"{"a":["x"]} trailing"#,
            br#"{"a":"x"}"#,
            br#"{"a":[{}]}"#,
            br#"{"a":[01]}"#,
            br#"{"a":["\ud800"]}"#,
        ] {
            assert!(
                decode(bad, &ty).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let huge = decode(br#"[1e999999]"#, &Type::list(Type::Number));
        assert!(matches!(huge, Err(DecodeError::InvalidNumber { .. })));
        let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        let nested_list = (0..200).fold(Type::Number, |ty, _| Type::list(ty));
        assert!(matches!(
            decode(deep.as_bytes(), &nested_list),
            Err(DecodeError::TooDeep { .. })
        ));
        let deep_dynamic = format!(
            "{}1{}",
            r#"{"type":"dynamic","value":"#.repeat(1000),
            "}".repeat(1000)
        );
        assert!(decode(deep_dynamic.as_bytes(), &Type::Dynamic).is_err());
    }

    #[test]
    fn both_codecs_share_one_nesting_limit() {
        let wrap = |levels: usize| {
            let ty = (0..levels).fold(Type::Number, |ty, _| Type::list(ty));
            let value = (0..levels).fold(num("1"), |value, _| Value::list([value]));
            (ty, value)
        };
        let (ty, value) = wrap(MAX_NESTING - 1);
        let json = encode(&value, &ty).unwrap();
        assert_eq!(decode(&json, &ty).unwrap(), value);
        let packed = msgpack::encode(&value, &ty).unwrap();
        assert_eq!(msgpack::decode(&packed, &ty).unwrap(), value);
        let plain = to_json_value(&value).unwrap();
        assert_eq!(from_json_value(&plain, &ty).unwrap(), value);

        let (ty, value) = wrap(MAX_NESTING);
        assert!(matches!(
            encode(&value, &ty),
            Err(EncodeError::TooDeep { .. })
        ));
        let plain = to_json_value(&value).unwrap();
        assert!(matches!(
            from_json_value(&plain, &Type::Dynamic),
            Err(DecodeError::TooDeep { .. })
        ));
    }

    #[test]
    fn syntax_errors_do_not_quote_the_input() {
        let err = decode(br#"{"a": "secret-value" oops}"#, &Type::map(Type::String)).unwrap_err();
        let message = err.to_string();
        assert!(!message.contains("secret"), "{message}");
        assert!(message.contains("line 1"), "{message}");
        let err = decode(br#"{"a": "secret-value"}"#, &Type::map(Type::Number)).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    mod properties {
        use super::*;
        use crate::value::arbitrary;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(
                bytes in prop::collection::vec(any::<u8>(), 0..256),
                ty in arbitrary::ty(),
            ) {
                let _ = decode(&bytes, &ty);
                let _ = decode_state(&bytes, &ty);
            }

            #[test]
            fn json_like_text_never_panics(
                text in r#"[\[\]{}":, 0-9a-z.eE+\-]{0,64}"#,
                ty in arbitrary::ty(),
            ) {
                let _ = decode(text.as_bytes(), &ty);
                let _ = decode_state(text.as_bytes(), &ty);
            }

            #[test]
            fn values_round_trip((ty, value) in arbitrary::typed_value(false)) {
                let bytes = encode(&value, &ty).unwrap();
                let decoded = decode(&bytes, &ty).unwrap();
                prop_assert_eq!(&decoded, &value);
                prop_assert_eq!(encode(&decoded, &ty).unwrap(), bytes.clone());
                prop_assert_eq!(decode_state(&bytes, &ty).unwrap(), value.clone());
                // Both codecs agree on what the value is.
                let via_msgpack = msgpack::decode(&msgpack::encode(&value, &ty).unwrap(), &ty).unwrap();
                prop_assert_eq!(via_msgpack, decoded);
            }

        }
    }
}
