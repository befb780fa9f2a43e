//! Changing a few members of one object deep inside a JSON text, and not
//! one byte elsewhere.
//!
//! `auth.json` belongs to the Parallel CLI; a refresh changes a handful of
//! token fields in it. Parsing the whole file into a `serde_json::Value`
//! and writing it back would re-sort its keys, turn `1e5` into `100000.0`
//! and a 30-digit integer into `1.2345678901234568e+29`, and redo its
//! indentation and escapes. So the new file is the old text with only the
//! changed values spliced in. serde_json finds where each value sits:
//! a borrowed `RawValue` is a slice of the text it was parsed from.
//! (serde_json's `arbitrary_precision` and `preserve_order` features would
//! also keep numbers and order, but not layout or escapes, and features are
//! unified across the workspace: `arbitrary_precision` breaks numbers inside
//! `#[serde(flatten)]`, which the emulator's fault specs use.)

use std::collections::HashMap;
use std::ops::Range;

use serde_json::Value;
use serde_json::value::RawValue;

/// Where `part`, a slice of `text`, sits in it.
fn span_in(text: &str, part: &str) -> Option<Range<usize>> {
    let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (text.get(start..end) == Some(part)).then_some(start..end)
}

/// The members of the object at `span` of `text`, with where each value
/// sits in `text`; `None` when it is not an object.
fn members(text: &str, span: &Range<usize>) -> Option<HashMap<String, Range<usize>>> {
    let object = text.get(span.clone())?;
    let map: HashMap<String, &RawValue> = serde_json::from_str(object).ok()?;
    map.into_iter()
        .map(|(name, raw)| {
            let inner = span_in(object, raw.get())?;
            Some((name, span.start + inner.start..span.start + inner.end))
        })
        .collect()
}

/// `text` with the members of the object found by following `path` (member
/// names from the root) set to `changes`: a member present gets the new
/// value in place of its old one, a member absent is added at the end of
/// the object, indented like its first member. `None` when `path` does not
/// lead to an object.
pub fn set_members(text: &str, path: &[&str], changes: &[(&str, Value)]) -> Option<String> {
    let trimmed = text.trim();
    let mut span = span_in(text, trimmed)?;
    for name in path {
        span = members(text, &span)?.remove(*name)?;
    }
    let present = members(text, &span)?;
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut added = Vec::new();
    for (name, value) in changes {
        let value = serde_json::to_string(value).ok()?;
        match present.get(*name) {
            Some(old) => edits.push((old.clone(), value)),
            None => added.push(format!("{}: {value}", serde_json::to_string(name).ok()?)),
        }
    }
    if !added.is_empty() {
        let object = text.get(span.clone())?;
        let inside = object.strip_prefix('{')?.strip_suffix('}')?;
        let before_first = &inside[..inside.len() - inside.trim_start().len()];
        let separator = match before_first.rfind('\n') {
            Some(newline) => format!(",\n{}", &before_first[newline + 1..]),
            None => ", ".to_owned(),
        };
        // After the last member, before the whitespace that closes the
        // object.
        let at = span.start + 1 + inside.trim_end().len();
        let insertion = if present.is_empty() {
            added.join(", ")
        } else {
            format!("{separator}{}", added.join(&separator))
        };
        edits.push((at..at, insertion));
    }
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut patched = text.to_owned();
    for (range, replacement) in edits {
        patched.replace_range(range, &replacement);
    }
    Some(patched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = r#"{
  "zeta": 123456789012345678901234567890,
  "alpha": 1e5,
  "name": "caf\u00e9",
  "orgs": {
    "o": {
      "control_api": {
        "refresh_token": "old",
        "access_token_expires_at": 1.0
      }
    }
  }
}
"#;

    #[test]
    fn only_the_changed_values_change_and_new_members_join_the_end() {
        let patched = set_members(
            FILE,
            &["orgs", "o", "control_api"],
            &[
                ("refresh_token", json!("new")),
                ("access_token", json!("at")),
                ("access_token_scopes", json!(["a", "b"])),
            ],
        )
        .unwrap();
        let expected = FILE
            .replace(r#""refresh_token": "old""#, r#""refresh_token": "new""#)
            .replace(
                r#""access_token_expires_at": 1.0"#,
                "\"access_token_expires_at\": 1.0,\n        \"access_token\": \"at\",\n        \
                 \"access_token_scopes\": [\"a\",\"b\"]",
            );
        assert_eq!(patched, expected);
        let value: Value = serde_json::from_str(&patched).unwrap();
        assert_eq!(value["orgs"]["o"]["control_api"]["access_token"], "at");
    }

    #[test]
    fn compact_and_empty_objects() {
        let compact = r#"{"a":{"b":1,"c":2}}"#;
        assert_eq!(
            set_members(compact, &["a"], &[("c", json!(3)), ("d", json!(null))]).unwrap(),
            r#"{"a":{"b":1,"c":3, "d": null}}"#
        );
        assert_eq!(
            set_members(r#"{"a": {}}"#, &["a"], &[("x", json!(1)), ("y", json!(2))]).unwrap(),
            r#"{"a": {"x": 1, "y": 2}}"#
        );
    }

    #[test]
    fn a_path_that_leads_nowhere_is_none() {
        assert!(set_members(FILE, &["orgs", "missing"], &[("a", json!(1))]).is_none());
        assert!(set_members(FILE, &["alpha"], &[("a", json!(1))]).is_none());
        assert!(set_members("[1]", &[], &[("a", json!(1))]).is_none());
    }
}
