//! Reading a JSON object field by field, past damage.
//!
//! `serde_json` gives up on a whole document when any part of it is wrong:
//! a number out of range (`1e400`), a lone surrogate escape (`"\ud800"`),
//! nesting deeper than its recursion limit, bytes after the closing brace,
//! or a body cut off half way. For the answer to a key creation that would
//! throw away a key that exists and whose secret is never shown again, so
//! this reader finds the extent of each top-level member by scanning (no
//! recursion, so any depth is fine) and parses each value on its own: one
//! bad member costs that member only.
//!
//! Problem texts name fields and JSON shapes only, never input bytes: a
//! value may be the raw key itself.

use serde_json::{Map, Value};

/// The members of a top-level JSON object, each read on its own.
#[derive(Default)]
pub(crate) struct Members {
    /// Members whose value was read; on duplicate names the last one wins,
    /// as with `serde_json`.
    pub read: Map<String, Value>,
    /// Members present but unreadable: name and why.
    pub unreadable: Vec<(String, String)>,
    /// Damage to the document as a whole (cut off, trailing bytes, ...).
    pub damage: Vec<String>,
}

impl Members {
    /// Whether a member of this name was present, readable or not.
    pub fn contains(&self, name: &str) -> bool {
        self.read.contains_key(name) || self.unreadable.iter().any(|(n, _)| n == name)
    }

    /// Why member `name` could not be read, when it was present but was not.
    pub fn why_unreadable(&self, name: &str) -> Option<&str> {
        self.unreadable
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, why)| why.as_str())
    }
}

/// Names only: a value may be a secret.
impl std::fmt::Debug for Members {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Members")
            .field("read", &self.read.keys().collect::<Vec<_>>())
            .field("unreadable", &self.unreadable)
            .field("damage", &self.damage)
            .finish()
    }
}

/// Why the body is not an object at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotAnObject {
    Empty,
    /// The first significant byte does not open an object; holds the JSON
    /// shape it opens instead, if any.
    Other(&'static str),
}

/// Reads the members of the object `body` holds, as far as they can be
/// read. `Err` only when the body does not even begin an object.
pub(crate) fn read_object(body: &[u8]) -> Result<Members, NotAnObject> {
    let mut at = skip_ws(body, skip_bom(body));
    match body.get(at) {
        None => return Err(NotAnObject::Empty),
        Some(b'{') => at += 1,
        Some(&other) => return Err(NotAnObject::Other(shape_opened_by(other))),
    }
    let mut members = Members::default();
    loop {
        at = skip_ws(body, at);
        match body.get(at) {
            None => {
                members.damage.push(cut_off(&members));
                return Ok(members);
            }
            Some(b'}') if members.read.is_empty() && members.unreadable.is_empty() => {
                at += 1;
                break;
            }
            _ => {}
        }
        let Some(name_end) = string_end(body, at) else {
            members.damage.push(match body.get(at) {
                Some(b'"') => cut_off(&members),
                _ => broken_after(&members),
            });
            return Ok(members);
        };
        let name: Option<String> = serde_json::from_slice(&body[at..name_end]).ok();
        at = skip_ws(body, name_end);
        if body.get(at) != Some(&b':') {
            members.damage.push(broken_after(&members));
            return Ok(members);
        }
        at = skip_ws(body, at + 1);
        let Some(value_end) = value_end(body, at) else {
            if let Some(name) = name {
                members.unreadable.push((name, "cut off".to_owned()));
            }
            members.damage.push(cut_off(&members));
            return Ok(members);
        };
        let value = match &body[at..value_end] {
            [] => Err(None),
            span => serde_json::from_slice::<Value>(span).map_err(Some),
        };
        match (name, value) {
            (Some(name), Ok(value)) => {
                members.unreadable.retain(|(n, _)| *n != name);
                members.read.insert(name, value);
            }
            (Some(name), Err(e)) => {
                members.read.remove(&name);
                let why = e.map_or_else(|| "no value".to_owned(), |e| reason(&e));
                members.unreadable.push((name, why));
            }
            (None, _) => members
                .damage
                .push("a member's name could not be read".to_owned()),
        }
        at = skip_ws(body, value_end);
        match body.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => {
                at += 1;
                break;
            }
            None => {
                members.damage.push(cut_off(&members));
                return Ok(members);
            }
            Some(_) => {
                members.damage.push(broken_after(&members));
                return Ok(members);
            }
        }
    }
    let rest = &body[skip_ws(body, at)..];
    if !rest.is_empty() {
        members.damage.push(format!(
            "{} unexpected byte(s) follow the JSON object",
            rest.len()
        ));
    }
    Ok(members)
}

fn cut_off(members: &Members) -> String {
    format!("the answer is cut off after {}", counted(members))
}

fn broken_after(members: &Members) -> String {
    format!("the answer is not valid JSON after {}", counted(members))
}

fn counted(members: &Members) -> String {
    match members.read.len() + members.unreadable.len() {
        1 => "1 member".to_owned(),
        n => format!("{n} members"),
    }
}

/// A serde_json error as a fixed text, without any position or excerpt.
fn reason(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        // Syntax messages are fixed phrases ("number out of range",
        // "recursion limit exceeded", "unexpected end of hex escape");
        // they never quote the input.
        Category::Syntax => {
            let text = error.to_string();
            match text.rfind(" at line ") {
                Some(cut) => text[..cut].to_owned(),
                None => text,
            }
        }
        Category::Eof => "not a complete JSON value".to_owned(),
        Category::Data | Category::Io => "unreadable value".to_owned(),
    }
}

fn shape_opened_by(byte: u8) -> &'static str {
    match byte {
        b'[' => "an array",
        b'"' => "a string",
        b'-' | b'0'..=b'9' => "a number",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "not JSON",
    }
}

fn skip_bom(body: &[u8]) -> usize {
    if body.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

fn skip_ws(body: &[u8], mut at: usize) -> usize {
    while matches!(body.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// End (exclusive) of the string literal starting at `at`, if one does and
/// it is closed.
fn string_end(body: &[u8], at: usize) -> Option<usize> {
    if body.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        match body.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// End (exclusive) of the JSON value starting at `at`, found by counting
/// brackets outside strings. It only delimits the value; whether the value
/// is valid is for `serde_json` to say. `None` when the body ends first.
fn value_end(body: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    loop {
        match body.get(i) {
            None => return None,
            Some(b'"') => {
                i = string_end(body, i)?;
                if depth == 0 {
                    return Some(i);
                }
                continue;
            }
            Some(b'{' | b'[') => depth += 1,
            Some(b'}' | b']') if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            // A scalar ends at the first delimiter of its container.
            Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') if depth == 0 => {
                return Some(i);
            }
            Some(_) => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Members {
        read_object(body.as_bytes()).unwrap()
    }

    #[test]
    fn a_valid_object_reads_like_serde_json() {
        let body = r#" { "a" : 1, "b": [1, {"c": "}"}], "d": "x\"y", "e": null } "#;
        let members = read(body);
        let expected: Value = serde_json::from_str(body).unwrap();
        assert_eq!(Value::Object(members.read), expected);
        assert!(members.unreadable.is_empty() && members.damage.is_empty());
        assert!(read("{}").read.is_empty());
        assert!(read("{ }").damage.is_empty());
    }

    #[test]
    fn one_bad_member_costs_only_itself() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for (bad, why) in [
            ("1e400", "number out of range"),
            (r#""\ud800""#, "unexpected end of hex escape"),
            (deep.as_str(), "recursion limit exceeded"),
            ("tru", "not a complete JSON value"),
            ("truth", "expected ident"),
        ] {
            let members = read(&format!(r#"{{"id":"k","bad":{bad},"raw":"s"}}"#));
            assert_eq!(members.read["id"], "k", "{bad}");
            assert_eq!(members.read["raw"], "s", "{bad}");
            assert_eq!(members.why_unreadable("bad"), Some(why), "{bad}");
            assert!(members.contains("bad") && !members.read.contains_key("bad"));
            assert!(members.damage.is_empty(), "{bad}: {:?}", members.damage);
        }
    }

    #[test]
    fn trailing_bytes_and_cuts_are_damage_but_keep_what_came_before() {
        let members = read(r#"{"id":"k"} trailing"#);
        assert_eq!(members.read["id"], "k");
        assert_eq!(
            members.damage,
            ["8 unexpected byte(s) follow the JSON object"]
        );
        let members = read(r#"{"id":"k","raw":"s""#);
        assert_eq!(members.read.len(), 2);
        assert_eq!(members.damage, ["the answer is cut off after 2 members"]);
        let members = read(r#"{"id":"k","raw":"secr"#);
        assert_eq!(members.why_unreadable("raw"), Some("cut off"));
        let members = read(r#"{"id":"k" "raw":"s"}"#);
        assert_eq!(members.read.len(), 1);
        assert_eq!(
            members.damage,
            ["the answer is not valid JSON after 1 member"]
        );
    }

    #[test]
    fn later_duplicates_win() {
        let members = read(r#"{"a":1e400,"a":2}"#);
        assert_eq!(members.read["a"], 2);
        assert!(members.why_unreadable("a").is_none());
        let members = read(r#"{"a":2,"a":1e400}"#);
        assert!(!members.read.contains_key("a"));
    }

    #[test]
    fn non_objects_are_refused() {
        assert_eq!(read_object(b"  ").unwrap_err(), NotAnObject::Empty);
        assert_eq!(
            read_object(b"[1]").unwrap_err(),
            NotAnObject::Other("an array")
        );
        assert_eq!(
            read_object(b"<html>").unwrap_err(),
            NotAnObject::Other("not JSON")
        );
        assert!(read_object(b"\xEF\xBB\xBF{\"a\":1}").is_ok());
    }

    #[test]
    fn reasons_and_debug_never_quote_the_input() {
        let members = read(r#"{"raw":"par_SECRET"x}"#);
        assert_eq!(members.read["raw"], "par_SECRET");
        assert!(!format!("{members:?}").contains("SECRET"));
        let members = read(r#"{"raw":,"id":"k"}"#);
        assert_eq!(members.why_unreadable("raw"), Some("no value"));
        assert_eq!(members.read["id"], "k");
        let members = read(r#"{"raw":[par_SECRET]}"#);
        let why = members.why_unreadable("raw").unwrap();
        assert!(!why.contains("SECRET"), "{why}");
    }
}
