//! Validators: checks declared on an attribute, as terraform-plugin-framework's
//! `stringvalidator.OneOf` are, and run by the framework on every
//! configuration it is asked to validate, at any depth, with the attribute's
//! path on the error. An object's own `validate` is left with the checks that
//! span several attributes.
//!
//! A validator sees only known, non-null values: an unknown value is checked
//! again when Terraform knows it (validation runs at plan too), and a null
//! one is the schema's business (`required`).

use crate::diag::Diagnostic;
use crate::value::{AttrPath, Value};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How much of a string value an error text quotes.
const SHOWN_CHARS: usize = 40;

/// The value being checked, where it is, and whether it may be quoted.
pub struct Checked<'a> {
    /// Where the value is in the configuration.
    pub path: &'a AttrPath,
    /// The value: known and not null.
    pub value: &'a Value,
    /// The attribute is sensitive: texts must not quote the value.
    pub sensitive: bool,
}

impl Checked<'_> {
    /// The value as an error text may show it.
    pub fn shown(&self) -> String {
        if self.sensitive {
            return "(sensitive value)".to_owned();
        }
        match self.value {
            // A long value is cut: it may be a secret pasted in the wrong
            // place, and a page of it helps nobody.
            Value::String(text) if text.chars().count() > SHOWN_CHARS => {
                let start: String = text.chars().take(SHOWN_CHARS).collect();
                format!("{start:?}… ({} characters)", text.chars().count())
            }
            Value::String(text) => format!("{text:?}"),
            Value::Number(number) => number.to_string(),
            other => other.kind_name().to_owned(),
        }
    }

    /// The name of the attribute checked (the last attribute of the path).
    pub fn name(&self) -> String {
        self.path.last_attribute().unwrap_or_default().to_owned()
    }

    /// "Invalid NAME", at the value's path, with `detail`.
    pub fn invalid(&self, detail: String) -> Diagnostic {
        Diagnostic::error(format!("Invalid {}", self.name()), detail).at(self.path.clone())
    }
}

/// A check of one attribute's value. Implemented by the functions below, and
/// by any `Fn(&Checked) -> Result<(), Diagnostic>`.
pub trait Validator: Send + Sync {
    /// `Err` with an error diagnostic at `checked.path` when the value is
    /// not acceptable.
    fn check(&self, checked: &Checked<'_>) -> Result<(), Diagnostic>;
}

impl<F> Validator for F
where
    F: Fn(&Checked<'_>) -> Result<(), Diagnostic> + Send + Sync,
{
    fn check(&self, checked: &Checked<'_>) -> Result<(), Diagnostic> {
        self(checked)
    }
}

/// How a schema holds a validator: cheap to clone with the schema.
#[derive(Clone)]
pub struct Validators(pub(crate) Vec<Arc<dyn Validator>>);

impl fmt::Debug for Validators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} validator(s)", self.0.len())
    }
}

/// A string that is one of `options`.
pub fn one_of(options: &'static [&'static str]) -> impl Validator {
    move |checked: &Checked<'_>| match checked.value.as_str() {
        Some(text) if options.contains(&text) => Ok(()),
        _ => {
            let quoted: Vec<String> = options.iter().map(|o| format!("{o:?}")).collect();
            let choices = match quoted.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => "nothing".to_owned(),
            };
            Err(checked.invalid(format!(
                "{} must be {choices}; got {}.",
                checked.path,
                checked.shown()
            )))
        }
    }
}

/// A string of `min` to `max` characters (not bytes), not counting
/// leading and trailing white space when `min` > 0, so that a blank
/// string is empty.
pub fn length_between(min: usize, max: usize) -> impl Validator {
    move |checked: &Checked<'_>| {
        let Some(text) = checked.value.as_str() else {
            return Ok(());
        };
        if min > 0 && text.trim().is_empty() {
            return Err(checked.invalid(format!("{} must not be empty.", checked.path)));
        }
        let chars = text.chars().count();
        if (min..=max).contains(&chars) {
            Ok(())
        } else {
            Err(checked.invalid(format!(
                "{} must be {min} to {max} characters long; it has {chars}.",
                checked.path
            )))
        }
    }
}

/// A string with something in it besides white space.
pub fn not_blank() -> impl Validator {
    |checked: &Checked<'_>| match checked.value.as_str() {
        Some(text) if text.trim().is_empty() => {
            Err(checked.invalid(format!("{} must not be empty.", checked.path)))
        }
        _ => Ok(()),
    }
}

/// A whole number from `min` to `max`.
pub fn int_between(min: i64, max: i64) -> impl Validator {
    move |checked: &Checked<'_>| match checked.value.as_i64() {
        Some(n) if (min..=max).contains(&n) => Ok(()),
        _ => Err(checked.invalid(format!(
            "{} must be a whole number from {min} to {max}; got {}.",
            checked.path,
            checked.shown()
        ))),
    }
}

/// A UUID, such as `3c90c3cc-0d44-4b50-8888-8dd25736052a`, in any
/// spelling `uuid::Uuid::parse_str` takes.
pub fn uuid() -> impl Validator {
    |checked: &Checked<'_>| match checked.value.as_str().map(uuid::Uuid::parse_str) {
        Some(Ok(_)) => Ok(()),
        _ => Err(checked.invalid(format!(
            "{} must be a UUID such as \"3c90c3cc-0d44-4b50-8888-8dd25736052a\"; got {}.",
            checked.path,
            checked.shown()
        ))),
    }
}

/// A duration as Terraform users write them (`90s`, `15m`, `1h30m`,
/// `720h`): positive, or also zero with `allow_zero`.
pub fn parse_duration(text: &str, allow_zero: bool) -> Option<Duration> {
    humantime::parse_duration(text.trim())
        .ok()
        .filter(|d| allow_zero || !d.is_zero())
}

/// A positive duration (see [`parse_duration`]).
pub fn duration() -> impl Validator {
    duration_check(false)
}

/// A duration that may be zero (`0s`), such as an overlap that may be none.
pub fn duration_or_zero() -> impl Validator {
    duration_check(true)
}

fn duration_check(allow_zero: bool) -> impl Validator {
    move |checked: &Checked<'_>| {
        let text = checked.value.as_str().unwrap_or_default();
        if parse_duration(text, allow_zero).is_some() {
            return Ok(());
        }
        let kind = if allow_zero { "a" } else { "a positive" };
        Err(Diagnostic::error(
            "Invalid duration",
            format!(
                "{} must be {kind} duration such as \"30s\", \"5m\" or \"1h30m\"; got {}.",
                checked.path,
                checked.shown()
            ),
        )
        .at(checked.path.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Block, Nesting};

    fn check(validator: impl Validator, value: Value) -> Option<Diagnostic> {
        let path = AttrPath::root("field");
        validator
            .check(&Checked {
                path: &path,
                value: &value,
                sensitive: false,
            })
            .err()
    }

    #[test]
    fn one_of_names_the_choices_and_the_value() {
        assert!(check(one_of(&["DELETE", "ABANDON"]), Value::string("DELETE")).is_none());
        let diag = check(one_of(&["DELETE", "ABANDON"]), Value::string("KEEP")).expect("error");
        assert_eq!(diag.summary, "Invalid field");
        assert_eq!(
            diag.detail,
            "field must be \"DELETE\" or \"ABANDON\"; got \"KEEP\"."
        );
        assert_eq!(diag.attribute, Some(AttrPath::root("field")));
    }

    #[test]
    fn lengths_count_characters_and_blank_is_empty() {
        assert!(check(length_between(1, 3), Value::string("äöü")).is_none());
        let blank = check(length_between(1, 3), Value::string("  ")).expect("error");
        assert!(
            blank.detail.contains("must not be empty"),
            "{}",
            blank.detail
        );
        let long = check(length_between(1, 3), Value::string("abcd")).expect("error");
        assert!(long.detail.contains("it has 4"), "{}", long.detail);
        assert!(check(length_between(0, 3), Value::string("")).is_none());
        assert!(check(not_blank(), Value::string(" x ")).is_none());
        assert!(check(not_blank(), Value::string(" \t")).is_some());
    }

    #[test]
    fn integers_and_uuids() {
        assert!(check(int_between(1, 10_000), Value::number(10_000)).is_none());
        assert!(check(int_between(1, 10_000), Value::number(0)).is_some());
        assert!(check(int_between(1, 10_000), Value::number(10_001)).is_some());
        assert!(
            check(
                uuid(),
                Value::string("3C90C3CC-0D44-4B50-8888-8DD25736052A")
            )
            .is_none()
        );
        assert!(check(uuid(), Value::string("not-a-uuid")).is_some());
    }

    #[test]
    fn durations_positive_or_zero() {
        for ok in ["90s", "15m", "720h", "1h30m", " 2s "] {
            assert!(check(duration(), Value::string(ok)).is_none(), "{ok}");
        }
        for bad in ["", "0s", "soon", "-5s"] {
            let diag = check(duration(), Value::string(bad)).expect(bad);
            assert_eq!(diag.summary, "Invalid duration");
            assert!(diag.detail.starts_with("field must be"), "{}", diag.detail);
        }
        assert!(check(duration_or_zero(), Value::string("0s")).is_none());
        assert_eq!(
            parse_duration("1h30m", false),
            Some(Duration::from_secs(5400))
        );
    }

    #[test]
    fn long_values_are_cut_in_the_text() {
        let long = "x".repeat(100_000);
        let diag = check(one_of(&["a"]), Value::string(long)).expect("refused");
        assert!(diag.detail.len() < 200, "{}", diag.detail);
        assert!(
            diag.detail.contains("(100000 characters)"),
            "{}",
            diag.detail
        );
    }

    #[test]
    fn sensitive_values_are_never_quoted() {
        let path = AttrPath::root("secret");
        let value = Value::string("hunter2");
        let diag = one_of(&["a"])
            .check(&Checked {
                path: &path,
                value: &value,
                sensitive: true,
            })
            .expect_err("refused");
        assert!(!diag.detail.contains("hunter2"), "{}", diag.detail);
    }

    #[test]
    fn a_block_is_walked_at_every_depth_and_unknowns_wait() {
        let block = Block::new("")
            .attribute(
                Attribute::string("policy")
                    .optional()
                    .validator(one_of(&["A"])),
            )
            .block(
                "timeouts",
                Nesting::Single,
                Block::new("")
                    .attribute(Attribute::string("create").optional().validator(duration())),
            )
            .block(
                "rule",
                Nesting::List,
                Block::new("").attribute(Attribute::string("id").optional().validator(uuid())),
            );
        let value = Value::object([
            ("policy", Value::string("B")),
            (
                "timeouts",
                Value::object([("create", Value::string("soon"))]),
            ),
            (
                "rule",
                Value::list([
                    Value::object([("id", Value::Unknown)]),
                    Value::object([("id", Value::string("x"))]),
                ]),
            ),
        ]);
        let diags = block.validate(&value);
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(paths, ["policy", "timeouts.create", "rule[1].id"]);
        assert!(block.validate(&Value::Unknown).is_empty());
    }
}
