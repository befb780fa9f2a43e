use std::collections::BTreeMap;

use super::{Field, Maybe, Model, Number};
use crate::{AttrPath, Attribute, Block, Nesting, Type, Value};

crate::model! {
    #[derive(Debug, PartialEq)]
    struct Window {
        opens: String,
        minutes: Option<i64>,
    }
}

crate::model! {
    #[derive(Debug, PartialEq)]
    struct Thing {
        name: String,
        id: Maybe<String>,
        size: Option<Number>,
        enabled: bool,
        labels: Option<BTreeMap<String, String>>,
        windows: Vec<Window>,
        extra: Value,
    }
}

fn block() -> Block {
    Block::new("A thing.")
        .attribute(Attribute::string("name").required())
        .attribute(Attribute::string("id").computed())
        .attribute(Attribute::number("size").optional())
        .attribute(Attribute::bool("enabled").required())
        .attribute(Attribute::of_type("labels", Type::map(Type::String)).optional())
        .attribute(Attribute::of_type("extra", Type::Dynamic).optional())
        .block(
            "windows",
            Nesting::List,
            Block::new("A window.")
                .attribute(Attribute::string("opens").required())
                .attribute(Attribute::number("minutes").optional()),
        )
}

fn value() -> Value {
    Value::object([
        ("name", Value::string("a")),
        ("id", Value::Unknown),
        ("size", Value::number(3)),
        ("enabled", Value::Bool(true)),
        ("labels", Value::map([("team", Value::string("search"))])),
        (
            "windows",
            Value::list([Value::object([
                ("opens", Value::string("09:00")),
                ("minutes", Value::Null),
            ])]),
        ),
        ("extra", Value::Null),
    ])
}

#[test]
fn a_value_decodes_into_fields_and_encodes_back_unchanged() {
    let thing = Thing::from_value(&value()).unwrap();
    assert_eq!(thing.name, "a");
    assert!(thing.id.is_unknown());
    assert_eq!(thing.size, Some(Number::from(3)));
    assert_eq!(thing.windows[0].minutes, None);
    assert_eq!(thing.labels.as_ref().unwrap()["team"], "search");
    assert_eq!(thing.to_value(), value());
}

#[test]
fn the_model_matches_its_schema() {
    Thing::check_schema(&block()).unwrap();
}

#[test]
fn a_schema_drift_names_each_difference() {
    let drifted = Block::new("A thing.")
        .attribute(Attribute::number("name").required())
        .attribute(Attribute::string("renamed").optional());
    let err = Thing::check_schema(&drifted).unwrap_err();
    assert!(err.contains("field name cannot hold"), "{err}");
    assert!(err.contains("field id is not in the schema"), "{err}");
    assert!(
        err.contains("schema attribute renamed has no field"),
        "{err}"
    );
}

#[test]
fn every_unusable_attribute_is_a_diagnostic_at_its_path() {
    let mut fields = value().as_entries().unwrap().clone();
    fields.insert("name".into(), Value::number(1));
    fields.insert("enabled".into(), Value::Unknown);
    fields.insert(
        "windows".into(),
        Value::list([Value::object([("opens", Value::Null)])]),
    );
    fields.insert("size".into(), Value::string("big"));
    let diags = Thing::from_value(&Value::Object(fields)).unwrap_err();
    let paths: Vec<String> = diags
        .iter()
        .map(|d| d.attribute.as_ref().unwrap().to_string())
        .collect();
    // In the order the fields are declared.
    assert_eq!(paths, ["name", "size", "enabled", "windows[0].opens"]);
    let texts: Vec<&str> = diags.iter().map(|d| d.detail.as_str()).collect();
    assert!(texts[0].contains("holds a number"), "{texts:?}");
    assert!(texts[2].contains("not known yet"), "{texts:?}");
    assert!(texts[3].contains("is null"), "{texts:?}");
}

#[test]
fn a_wrong_value_is_named_by_kind_never_shown() {
    let diags = String::decode(&Value::number(42), &AttrPath::root("secret")).unwrap_err();
    let detail = &diags.iter().next().unwrap().detail;
    assert!(detail.contains("holds a number"), "{detail}");
    assert!(!detail.contains("42"), "{detail}");
}

#[test]
fn absent_attributes_and_non_objects() {
    let thing = Window::from_value(&Value::object([("opens", Value::string("x"))])).unwrap();
    assert_eq!(thing.minutes, None);
    let diags = Window::from_value(&Value::Null).unwrap_err();
    let diagnostic = diags.iter().next().unwrap();
    assert_eq!(diagnostic.attribute, None);
    assert!(diagnostic.detail.contains("needs an object"));
}

#[test]
fn whole_numbers_only_for_i64() {
    let half = Value::Number(Number::parse("1.5").unwrap());
    assert!(i64::decode(&half, &AttrPath::root("n")).is_err());
    assert_eq!(i64::decode(&Value::number(7), &AttrPath::root("n")), Ok(7));
}

#[test]
fn maybe_keeps_null_and_unknown_apart() {
    let path = AttrPath::root("x");
    assert_eq!(
        Maybe::<String>::decode(&Value::Null, &path),
        Ok(Maybe::Null)
    );
    assert_eq!(
        Maybe::<String>::decode(&Value::Unknown, &path),
        Ok(Maybe::Unknown)
    );
    assert_eq!(Maybe::from(Some(1_i64)).encode(), Value::number(1));
    assert_eq!(Maybe::<i64>::Unknown.encode(), Value::Unknown);
}

#[test]
fn a_model_declares_its_own_type() {
    assert_eq!(
        Window::value_type(),
        Type::object([("opens", Type::String), ("minutes", Type::Number)])
    );
    // A list of objects is declared through its element's model, and fits
    // the schema it was declared with.
    let windows = Type::list(Window::value_type());
    assert!(Vec::<Window>::fits(&windows));
    assert!(!Vec::<Window>::fits(&Type::set(Window::value_type())));
    // A nested block is a list of its model's objects, as in the schema.
    assert_eq!(Thing::value_type(), block().value_type());
    // `Value` is any type, at any depth.
    assert!(Thing::fits(&block().value_type()));
    let other_extra = match block().value_type() {
        Type::Object(mut attributes) => {
            attributes.insert("extra".into(), Type::list(Type::Bool));
            Type::Object(attributes)
        }
        _ => unreachable!("a block is an object"),
    };
    assert!(Thing::fits(&other_extra));
    assert!(!Window::fits(&Type::object([("opens", Type::String)])));
}

#[test]
fn no_arguments_reads_any_object() {
    use super::NoArguments;
    assert_eq!(NoArguments::from_value(&value()), Ok(NoArguments));
    assert!(NoArguments::fits(&block().value_type()));
    assert!(NoArguments::from_value(&Value::string("x")).is_err());
}
