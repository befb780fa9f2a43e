//! The msgpack half of `DynamicValue`, laid out as go-cty's `cty/msgpack`
//! package lays it out, so Terraform reads back exactly what it expects.
//!
//! Wire facts (from go-cty):
//! - null is msgpack nil; a wholly unknown value is the fixext1 `d4 00 00`
//!   (extension type 0, one zero byte). Any extension of at most one byte is
//!   an unknown; a longer one must be type 12, whose payload is a map of
//!   refinements (not null, string prefix, number/length bounds) that we
//!   accept and drop.
//! - numbers go out as the smallest integer encoding when they fit i64, as
//!   float64 when they are fractional and a float64 holds them exactly, and
//!   otherwise as a decimal string; all three are accepted on input.
//! - lists, sets and tuples are arrays; maps and objects are maps with
//!   string keys, object attributes in sorted order.
//! - a known value under the `dynamic` type is the array
//!   `[type JSON as bin, value]`.

mod decode;
mod encode;

pub use super::value::{DecodeError, EncodeError};
pub use decode::decode;
pub use encode::encode;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Number, Type, Value};

    fn num(text: &str) -> Value {
        Value::Number(Number::parse(text).unwrap())
    }

    fn round_trip(value: &Value, ty: &Type) -> Vec<u8> {
        let bytes = encode(value, ty).unwrap();
        let decoded = decode(&bytes, ty).unwrap();
        assert_eq!(&decoded, value, "value changed through {bytes:02x?}");
        assert_eq!(encode(&decoded, ty).unwrap(), bytes, "bytes changed");
        bytes
    }

    #[test]
    fn go_cty_byte_layouts() {
        let cases: Vec<(Value, Type, Vec<u8>)> = vec![
            (Value::Null, Type::String, vec![0xc0]),
            (Value::Unknown, Type::String, vec![0xd4, 0x00, 0x00]),
            (Value::from(true), Type::Bool, vec![0xc3]),
            (Value::from("hi"), Type::String, vec![0xa2, b'h', b'i']),
            (num("1"), Type::Number, vec![0x01]),
            (num("-1"), Type::Number, vec![0xff]),
            (num("200"), Type::Number, vec![0xcc, 0xc8]),
            (num("-200"), Type::Number, vec![0xd1, 0xff, 0x38]),
            (
                num("0.5"),
                Type::Number,
                vec![0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0],
            ),
            (num("0.1"), Type::Number, vec![0xa3, b'0', b'.', b'1']),
            (
                num("9223372036854775808"),
                Type::Number,
                [&[0xb3][..], b"9223372036854775808"].concat(),
            ),
            (
                Value::Number(Number::parse("+Inf").unwrap()),
                Type::Number,
                vec![0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0],
            ),
            (
                Value::object([("b", Value::from(1i64)), ("a", Value::from("x"))]),
                Type::object([("a", Type::String), ("b", Type::Number)]),
                vec![0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0x01],
            ),
            (
                Value::list([Value::from("x"), Value::Unknown]),
                Type::list(Type::String),
                vec![0x92, 0xa1, b'x', 0xd4, 0, 0],
            ),
            (
                Value::Dynamic(Type::String, Box::new(Value::from("x"))),
                Type::Dynamic,
                [&[0x92, 0xc4, 8][..], b"\"string\"", &[0xa1, b'x']].concat(),
            ),
        ];
        for (value, ty, expected) in cases {
            assert_eq!(encode(&value, &ty).unwrap(), expected, "{value:?} as {ty}");
            assert_eq!(decode(&expected, &ty).unwrap(), value, "{expected:02x?}");
        }
    }

    #[test]
    fn refined_unknowns_as_terraform_sends_them() {
        // {1: false} — "definitely not null".
        let not_null = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        assert_eq!(decode(&not_null, &Type::String).unwrap(), Value::Unknown);
        // {1: false, 2: "ab"} — not null, string prefix "ab".
        let prefix = [0xc7, 0x07, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa2, b'a', b'b'];
        assert_eq!(decode(&prefix, &Type::String).unwrap(), Value::Unknown);
        // {5: 200}, four bytes so Go picks fixext4 — list length at least 200.
        let length = [0xd6, 0x0c, 0x81, 0x05, 0xcc, 0xc8];
        assert_eq!(
            decode(&length, &Type::list(Type::String)).unwrap(),
            Value::Unknown
        );
        // Unknown under dynamic, and a zero-length extension.
        assert_eq!(decode(&not_null, &Type::Dynamic).unwrap(), Value::Unknown);
        assert_eq!(
            decode(&[0xc7, 0x00, 0x00], &Type::Number).unwrap(),
            Value::Unknown
        );
        // Re-encoding drops the refinements.
        assert_eq!(
            encode(&Value::Unknown, &Type::String).unwrap(),
            [0xd4, 0, 0]
        );
    }

    #[test]
    fn bad_unknown_extensions_are_rejected() {
        let wrong_type = [0xd5, 0x05, 0x81, 0x05];
        assert!(matches!(
            decode(&wrong_type, &Type::String),
            Err(DecodeError::Malformed { .. })
        ));
        let not_a_map = [0xd5, 0x0c, 0x01, 0x05];
        assert!(decode(&not_a_map, &Type::String).is_err());
        let mut oversize = vec![0xc8, 0x04, 0x01, 0x0c, 0x81];
        oversize.resize(5 + 1024, 0);
        assert!(decode(&oversize, &Type::String).is_err());
    }

    #[test]
    fn nested_values_round_trip() {
        let ty = Type::object([
            ("name", Type::String),
            ("tags", Type::map(Type::String)),
            ("ports", Type::set(Type::Number)),
            (
                "rules",
                Type::list(Type::object([("cidr", Type::String), ("on", Type::Bool)])),
            ),
            ("pair", Type::Tuple(vec![Type::String, Type::Number])),
            ("empty_list", Type::list(Type::String)),
            ("empty_map", Type::map(Type::Number)),
            ("nothing", Type::String),
            ("later", Type::list(Type::String)),
        ]);
        let value = Value::object([
            ("name", Value::from("héllo ✓ 🦀")),
            (
                "tags",
                Value::map([("a", Value::from("1")), ("b", Value::Unknown)]),
            ),
            ("ports", Value::set([num("443"), num("-80"), num("1.25")])),
            (
                "rules",
                Value::list([
                    Value::object([
                        ("cidr", Value::from("10.0.0.0/8")),
                        ("on", Value::from(true)),
                    ]),
                    Value::object([("cidr", Value::Null), ("on", Value::Unknown)]),
                ]),
            ),
            (
                "pair",
                Value::Tuple(vec![Value::from("x"), num("12345678901234567890123")]),
            ),
            ("empty_list", Value::list([])),
            ("empty_map", Value::map::<String>([])),
            ("nothing", Value::Null),
            ("later", Value::Unknown),
        ]);
        round_trip(&value, &ty);
    }

    #[test]
    fn numbers_round_trip_exactly() {
        for text in [
            "0",
            "-1",
            "127",
            "128",
            "-33",
            "65536",
            "-9223372036854775808",
            "9223372036854775807",
            "18446744073709551615",
            "12345678901234567890123",
            "-12345678901234567890123",
            "0.1",
            "1e-7",
            "3.14159265358979",
            "-0.5",
            "0.000001",
            "1e300",
            "123456789.123456789123456789",
        ] {
            let bytes = round_trip(&num(text), &Type::Number);
            let decoded = decode(&bytes, &Type::Number).unwrap();
            assert_eq!(
                decoded.as_number().unwrap().to_string(),
                num(text).as_number().unwrap().to_string()
            );
        }
    }

    #[test]
    fn accepts_every_number_encoding() {
        let ty = Type::Number;
        assert_eq!(
            decode(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], &ty).unwrap(),
            num("18446744073709551615")
        );
        assert_eq!(decode(&[0xd0, 0x80], &ty).unwrap(), num("-128"));
        assert_eq!(decode(&[0xca, 0x3f, 0xc0, 0, 0], &ty).unwrap(), num("1.5"));
        // A float64 that is not exact decodes to its shortest decimal.
        let tenth = [0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a];
        assert_eq!(decode(&tenth, &ty).unwrap(), num("0.1"));
        assert_eq!(decode(b"\xa41e-7", &ty).unwrap(), num("0.0000001"));
        assert!(matches!(
            decode(b"\xa3abc", &ty),
            Err(DecodeError::InvalidNumber { .. })
        ));
        let nan = [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0];
        assert!(decode(&nan, &ty).is_err());
    }

    #[test]
    fn dynamic_values_round_trip_with_their_type() {
        let cases = [
            Value::Null,
            Value::Unknown,
            Value::Dynamic(Type::list(Type::String), Box::new(Value::list([]))),
            Value::Dynamic(Type::Number, Box::new(Value::Unknown)),
            Value::Dynamic(Type::String, Box::new(Value::Null)),
            Value::Dynamic(
                Type::object([("a", Type::list(Type::Dynamic))]),
                Box::new(Value::object([(
                    "a",
                    Value::list([
                        Value::Null,
                        Value::Dynamic(Type::Bool, Box::new(Value::from(true))),
                    ]),
                )])),
            ),
        ];
        for value in cases {
            let bytes = round_trip(&value, &Type::Dynamic);
            let decoded = decode(&bytes, &Type::Dynamic).unwrap();
            assert_eq!(format!("{decoded:?}"), format!("{value:?}"));
        }
        let in_object = Type::object([("any", Type::Dynamic)]);
        round_trip(
            &Value::object([("any", Value::Dynamic(Type::Number, Box::new(num("2"))))]),
            &in_object,
        );
    }

    #[test]
    fn dynamic_slots_infer_types_of_plain_values() {
        let bytes = encode(&Value::from("x"), &Type::Dynamic).unwrap();
        assert_eq!(
            bytes,
            [&[0x92, 0xc4, 8][..], b"\"string\"", &[0xa1, b'x']].concat()
        );
        let mixed = Value::list([Value::from("x"), Value::from(true)]);
        assert!(matches!(
            encode(&mixed, &Type::Dynamic),
            Err(EncodeError::UninferableDynamic { .. })
        ));
        // The dynamic type JSON may also arrive as a str item.
        let as_str = [&[0x92, 0xa8][..], b"\"number\"", &[0x05]].concat();
        assert_eq!(decode(&as_str, &Type::Dynamic).unwrap(), num("5"));
    }

    #[test]
    fn objects_fill_missing_attributes_and_reject_unknown_ones() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let only_a = [0x81, 0xa1, b'a', 0xa1, b'x'];
        assert_eq!(
            decode(&only_a, &ty).unwrap(),
            Value::object([("a", Value::from("x")), ("b", Value::Null)])
        );
        let extra = [0x81, 0xa1, b'z', 0xc0];
        let err = decode(&extra, &ty).unwrap_err();
        assert_eq!(err.to_string(), "at (root): unsupported attribute \"z\"");
        // Encoding fills in nulls and refuses attributes the type lacks.
        let partial = Value::object([("a", Value::from("x"))]);
        assert_eq!(
            encode(&partial, &ty).unwrap(),
            [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0xc0]
        );
        let stray = Value::object([("zz", Value::Null)]);
        assert!(matches!(
            encode(&stray, &ty),
            Err(EncodeError::UnexpectedAttribute { .. })
        ));
    }

    #[test]
    fn errors_name_the_path_but_not_the_data() {
        let ty = Type::object([("keepers", Type::map(Type::Number))]);
        let bytes = [
            0x81, 0xa7, b'k', b'e', b'e', b'p', b'e', b'r', b's', 0x81, 0xa1, b'a', 0xa6,
        ]
        .iter()
        .copied()
        .chain(*b"secret")
        .collect::<Vec<u8>>();
        let err = decode(&bytes, &ty).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with(r#"at keepers["a"]: "#), "{text}");
        assert!(!text.contains("secret"), "{text}");

        let wrong = Value::object([("keepers", Value::map([("a", Value::from("secret"))]))]);
        let text = encode(&wrong, &ty).unwrap_err().to_string();
        assert_eq!(
            text,
            r#"at keepers["a"]: a string value cannot be encoded as number"#
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::Tuple(vec![Type::Bool])),
        ]);
        let good = encode(
            &Value::object([
                ("a", Value::list([Value::from("xyz")])),
                ("b", Value::Tuple(vec![Value::from(false)])),
            ]),
            &ty,
        )
        .unwrap();
        for cut in 0..good.len() {
            assert!(decode(&good[..cut], &ty).is_err(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0xc0);
        assert_eq!(
            decode(&trailing, &ty),
            Err(DecodeError::TrailingData { count: 1 })
        );
        // A huge claimed length with no data behind it.
        assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::String)).is_err());
        assert!(decode(&[0xc1], &Type::String).is_err());
        assert!(decode(&[0xa2, 0xff, 0xfe], &Type::String).is_err());
        assert!(decode(&[0x92, 0x01, 0x02], &Type::Tuple(vec![Type::Number])).is_err());
        assert!(decode(&[0x81, 0x01, 0x02], &Type::map(Type::Number)).is_err());
        assert!(decode(&[0x92, 0xa3, b'b', b'a', b'd', 0x01], &Type::Dynamic).is_err());
        assert!(decode(&[0x93, 0xc0, 0xc0, 0xc0], &Type::Dynamic).is_err());
        assert!(decode(&[0xc3], &Type::String).is_err());
        assert!(decode(&[0xa1, b'x'], &Type::Bool).is_err());
    }

    #[test]
    fn deeply_nested_dynamic_values_are_refused() {
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend_from_slice(&[0x92, 0xa9]);
            bytes.extend_from_slice(b"\"dynamic\"");
        }
        bytes.push(0x01);
        assert!(matches!(
            decode(&bytes, &Type::Dynamic),
            Err(DecodeError::TooDeep { .. })
        ));
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
            }

            #[test]
            fn corrupted_encodings_never_panic(
                (ty, value) in arbitrary::typed_value(true),
                position in any::<prop::sample::Index>(),
                replacement in any::<u8>(),
            ) {
                let mut bytes = encode(&value, &ty).unwrap();
                if !bytes.is_empty() {
                    let at = position.index(bytes.len());
                    bytes[at] = replacement;
                    let _ = decode(&bytes, &ty);
                    let _ = decode(&bytes[..at], &ty);
                }
            }

            #[test]
            fn values_round_trip((ty, value) in arbitrary::typed_value(true)) {
                let bytes = encode(&value, &ty).unwrap();
                let decoded = decode(&bytes, &ty).unwrap();
                prop_assert_eq!(&decoded, &value);
                prop_assert_eq!(encode(&decoded, &ty).unwrap(), bytes);
            }
        }
    }
}
