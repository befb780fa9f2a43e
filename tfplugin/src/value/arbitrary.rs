//! proptest generators for types and conforming values, shared by the
//! codecs' property tests.

use super::{Number, Type, Value};
use proptest::prelude::*;

/// Any number cty can hold: integers, finite floats, long decimals.
pub fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite floats", |f| {
            f.is_finite().then(|| Number::from_f64(f)).flatten()
        }),
        (any::<bool>(), "[0-9]{1,40}", -60i64..60).prop_filter_map(
            "in range",
            |(negative, digits, exponent)| {
                let sign = if negative { "-" } else { "" };
                Number::parse(&format!("{sign}{digits}e{exponent}")).ok()
            }
        ),
    ]
}

/// Any type, nested up to four levels.
pub fn ty() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
}

/// A type and a value conforming to it; unknowns only if allowed.
pub fn typed_value(allow_unknown: bool) -> impl Strategy<Value = (Type, Value)> {
    ty().prop_flat_map(move |ty| {
        value(&ty, allow_unknown, 2).prop_map(move |value| (ty.clone(), value))
    })
}

/// `dynamic_budget` bounds how often a dynamic slot may pick a fresh
/// type that itself contains dynamic slots.
pub fn value(ty: &Type, allow_unknown: bool, dynamic_budget: u32) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::Number => number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Dynamic if dynamic_budget == 0 => Just(Value::Null).boxed(),
        Type::Dynamic => self::ty()
            .prop_flat_map(move |concrete| {
                value(&concrete, allow_unknown, dynamic_budget - 1)
                    .prop_map(move |inner| Value::Dynamic(concrete.clone(), Box::new(inner)))
            })
            .boxed(),
        Type::List(element) => {
            prop::collection::vec(value(element, allow_unknown, dynamic_budget), 0..4)
                .prop_map(Value::List)
                .boxed()
        }
        Type::Set(element) => {
            prop::collection::vec(value(element, allow_unknown, dynamic_budget), 0..4)
                .prop_map(Value::Set)
                .boxed()
        }
        Type::Map(element) => prop::collection::btree_map(
            any::<String>(),
            value(element, allow_unknown, dynamic_budget),
            0..4,
        )
        .prop_map(Value::Map)
        .boxed(),
        Type::Object(attributes) => attributes
            .iter()
            .map(|(name, ty)| {
                let name = name.clone();
                value(ty, allow_unknown, dynamic_budget)
                    .prop_map(move |value| (name.clone(), value))
            })
            .collect::<Vec<_>>()
            .prop_map(|attributes| Value::Object(attributes.into_iter().collect()))
            .boxed(),
        Type::Tuple(elements) => elements
            .iter()
            .map(|ty| value(ty, allow_unknown, dynamic_budget))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
    };
    if allow_unknown {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 7 => known].boxed()
    }
}
