//! Scrubbing of response bodies before any part of them is shown.
//!
//! A body may echo our access token or carry a freshly minted raw API key,
//! and it may be anything at all: JSON, truncated JSON, an HTML error page,
//! a Python repr in a stack trace. So scrubbing is textual and works on
//! malformed input: every occurrence of a known secret is replaced, and so is
//! the value following any sensitive field name (`raw_api_key`, `access_token`,
//! ...), whatever quoting or separator it uses.

use crate::secret::REDACTED;

/// Longest excerpt of a body shown in an error text, in characters.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// Field names whose values are always hidden. Matched case-insensitively as
/// whole words, so `api_key` does not hide `api_key_id` or `api_key_name`.
const SENSITIVE_FIELDS: &[&str] = &[
    "raw_api_key",
    "api_key",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "authorization",
];

/// `text` with every known secret and every sensitive field value replaced
/// by `<redacted>`. Empty secrets are ignored.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    redact_sensitive_fields(&out)
}

/// A short, single-line, scrubbed excerpt of a body, for error texts.
pub(crate) fn excerpt(body: &[u8], secrets: &[&str]) -> String {
    // Scrub the whole body before shortening it: cutting first could split a
    // secret so that it no longer matches, and leave half of it visible.
    let scrubbed = scrub(&String::from_utf8_lossy(body), secrets);
    shorten(&one_line(&scrubbed), EXCERPT_CHARS)
}

/// Like [`excerpt`], for the body of a *successful* answer, which may carry
/// a freshly minted key under a field name we do not know: every string
/// value is masked as well (see [`mask_json_values`]).
pub(crate) fn success_excerpt(body: &[u8], secrets: &[&str]) -> String {
    let scrubbed = scrub(&String::from_utf8_lossy(body), secrets);
    shorten(&one_line(&mask_json_values(&scrubbed)), EXCERPT_CHARS)
}

/// Members of the API's answers whose string values are ids or names,
/// never secrets, and worth seeing in a log.
const SHOWN_MEMBERS: &[&str] = &[
    "api_key_id",
    "api_key_name",
    "app_id",
    "app_name",
    "org_id",
    "org_name",
    "created_by_user_id",
    "display_value",
];

/// `text` with the contents of every JSON string *value* replaced by
/// `<redacted>`, while member names stay: a string is a name when a `:`
/// follows it. Kept as they are: empty strings, UUIDs and the values of
/// [`SHOWN_MEMBERS`]. Works on broken JSON too; what lies outside strings
/// is masked as by [`mask_opaque_tokens`], and a string left open at the
/// end is masked to the end.
pub(crate) fn mask_json_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // The last member name and where it ended, to know a value's name.
    let mut last_name: Option<(&str, usize)> = None;
    let mut outside = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        out.push_str(&mask_opaque_tokens(&text[outside..i]));
        let start = i + 1;
        let end = closing_quote(bytes, start, b'"');
        let content = &text[start..end];
        let is_name = bytes.get(skip_spaces(bytes, end + 1)) == Some(&b':');
        let shown_member = last_name.is_some_and(|(name, name_end)| {
            SHOWN_MEMBERS.contains(&name) && text[name_end..i].trim() == ":"
        });
        out.push('"');
        if is_name || shown_member || content.is_empty() || is_hyphenated_uuid(content) {
            out.push_str(content);
        } else {
            out.push_str(REDACTED);
        }
        if end < bytes.len() {
            out.push('"');
        }
        i = end + 1;
        outside = i.min(bytes.len());
        if is_name {
            last_name = Some((content, outside));
        }
    }
    out.push_str(&mask_opaque_tokens(&text[outside.min(text.len())..]));
    out
}

/// Shortest run of token characters that is masked as a possible secret.
const OPAQUE_TOKEN_CHARS: usize = 16;

/// `text` with each run of at least [`OPAQUE_TOKEN_CHARS`] letters, digits,
/// `-` or `_` replaced by `<redacted>`, unless it is a UUID (ids are
/// useful in logs and never secret).
pub(crate) fn mask_opaque_tokens(text: &str) -> String {
    // Base64 and dotted tokens count as one run, so they cannot slip
    // through in pieces shorter than the threshold.
    let is_token_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '/' | '=');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run.find(|c: char| !is_token_char(c)).unwrap_or(run.len());
        let token = &run[..end];
        if token.len() >= OPAQUE_TOKEN_CHARS && !is_hyphenated_uuid(token) {
            out.push_str(REDACTED);
        } else {
            out.push_str(token);
        }
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

/// Only the 36-character hyphenated form: a key of 32 hex digits would pass
/// for a "simple" UUID.
fn is_hyphenated_uuid(token: &str) -> bool {
    token.len() == 36 && uuid::Uuid::try_parse(token).is_ok()
}

/// `text` cut to at most `max_chars` characters, marking the cut with `…`.
pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Collapses runs of whitespace and control characters into single spaces.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

fn redact_sensitive_fields(text: &str) -> String {
    // ASCII lowercasing keeps byte offsets identical to `text`.
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(name_len) = sensitive_name_at(&lower, i) else {
            i += 1;
            continue;
        };
        let after_name = i + name_len;
        match value_span(bytes, after_name) {
            Some((start, end)) => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end.max(after_name);
            }
            None => i = after_name,
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Length of the sensitive field name starting at byte `i`, if one does and
/// it stands as a whole word.
fn sensitive_name_at(lower: &str, i: usize) -> Option<usize> {
    let bytes = lower.as_bytes();
    if i > 0 && is_word_byte(bytes[i - 1]) {
        return None;
    }
    SENSITIVE_FIELDS
        .iter()
        .find(|name| {
            bytes[i..].starts_with(name.as_bytes())
                && bytes
                    .get(i + name.len())
                    .is_none_or(|&next| !is_word_byte(next))
        })
        .map(|name| name.len())
}

/// Byte span of the value that follows a field name ending at `from`:
/// `"name": "value"`, `'name': 'value'`, `name=value`, `Name: Bearer value`.
/// `None` when no `:` or `=` follows, i.e. the name is just mentioned.
fn value_span(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    // The quote closing the field name itself, e.g. `"raw_api_key"`.
    if matches!(bytes.get(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    i = skip_spaces(bytes, i);
    if !matches!(bytes.get(i), Some(b':' | b'=')) {
        return None;
    }
    i = skip_spaces(bytes, i + 1);
    match bytes.get(i) {
        None => None,
        Some(&quote @ (b'"' | b'\'')) => {
            let start = i + 1;
            Some((start, closing_quote(bytes, start, quote)))
        }
        Some(_) => {
            let mut end = bare_word_end(bytes, i);
            let word = &bytes[i..end];
            if word.eq_ignore_ascii_case(b"null") || word.eq_ignore_ascii_case(b"none") {
                return None;
            }
            // An authorization scheme is harmless; the credential after it is not.
            if word.eq_ignore_ascii_case(b"bearer") || word.eq_ignore_ascii_case(b"basic") {
                let next = skip_spaces(bytes, end);
                end = bare_word_end(bytes, next);
            }
            (end > i).then_some((i, end))
        }
    }
}

fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// Index of the unescaped closing `quote`, or the end of the text when the
/// value is cut off (truncated JSON): hiding too much beats leaking.
fn closing_quote(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' {
            i += 2;
        } else if b == quote {
            return i;
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn bare_word_end(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii_whitespace()
            || matches!(b, b',' | b'}' | b']' | b'&' | b';' | b'<' | b'"' | b'\'')
        {
            break;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "tok_9f8e7d6c5b4a";
    const RAW: &str = "par_live_ABCDEF0123456789";

    fn assert_clean(text: &str) {
        assert!(!text.contains(TOKEN), "token leaked: {text}");
        assert!(!text.contains(RAW), "raw key leaked: {text}");
        assert!(!text.contains("ABCDEF"), "part of raw key leaked: {text}");
    }

    #[test]
    fn hides_raw_api_key_in_json() {
        let body =
            format!(r#"{{"api_key_id":"k1","raw_api_key":"{RAW}","display_value":"par_…789"}}"#);
        let out = scrub(&body, &[]);
        assert_clean(&out);
        assert!(out.contains(r#""raw_api_key":"<redacted>""#), "{out}");
        assert!(out.contains(r#""api_key_id":"k1""#), "{out}");
        assert!(out.contains("display_value"), "{out}");
    }

    #[test]
    fn hides_values_in_non_json_bodies() {
        for body in [
            format!("<html><pre>raw_api_key = '{RAW}'</pre></html>"),
            format!("Traceback: {{'raw_api_key': '{RAW}', 'x': 1}}"),
            format!("raw_api_key={RAW}&other=1"),
            format!("RAW_API_KEY : {RAW}\nnext line"),
            format!(r#"{{"raw_api_key": "{RAW}"#),
            r#"{"raw_api_key":"par_live_\"ABCDEF\"0123456789"}"#.to_owned(),
            format!("Authorization: Bearer {RAW}"),
            format!("echo: {TOKEN} and access_token={TOKEN}"),
        ] {
            assert_clean(&scrub(&body, &[TOKEN]));
            assert_clean(&excerpt(body.as_bytes(), &[TOKEN]));
        }
    }

    #[test]
    fn leaves_similar_names_and_mentions_alone() {
        let body = r#"{"api_key_id":"k1","api_key_name":"ci","note":"raw_api_key is shown once"}"#;
        assert_eq!(scrub(body, &[]), body);
        assert_eq!(
            scrub(r#"{"raw_api_key": null}"#, &[]),
            r#"{"raw_api_key": null}"#
        );
    }

    #[test]
    fn replaces_every_known_secret() {
        let out = scrub(&format!("a {TOKEN} b {TOKEN}"), &[TOKEN, ""]);
        assert_eq!(out, "a <redacted> b <redacted>");
    }

    #[test]
    fn excerpt_is_short_single_line_and_scrubbed_before_cutting() {
        let mut body = "x".repeat(190);
        body.push_str(TOKEN); // straddles the 200-character cut
        body.push_str("\n\n  tail");
        let out = excerpt(body.as_bytes(), &[TOKEN]);
        assert!(out.chars().count() <= EXCERPT_CHARS + 1, "{out}");
        assert!(!out.contains("tok_9f"), "{out}");
        assert!(!out.contains('\n'));
        assert_eq!(excerpt(b"a \r\n\t b", &[]), "a b");
    }

    #[test]
    fn excerpt_survives_invalid_utf8_and_multibyte_text() {
        let out = excerpt(&[0xff, 0xfe, b'o', b'k'], &[]);
        assert!(out.ends_with("ok"), "{out}");
        let long = "é".repeat(500);
        let out = excerpt(long.as_bytes(), &[]);
        assert_eq!(out.chars().count(), EXCERPT_CHARS + 1);
        let out = scrub("ü raw_api_key: 'é€' ü", &[]);
        assert_eq!(out, "ü raw_api_key: '<redacted>' ü");
    }

    #[test]
    fn shorten_marks_the_cut() {
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("abc", 3), "abc");
    }

    #[test]
    fn opaque_tokens_are_masked_but_ids_and_words_stay() {
        let text = r#"{"key": "sk-AbCdEfGhIjKlMnOpQrStUvWx", "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "note": "Bad gateway"}"#;
        let masked = mask_opaque_tokens(text);
        assert!(!masked.contains("AbCdEfGh"), "{masked}");
        assert!(
            masked.contains("3fa85f64-5717-4562-b3fc-2c963f66afa6"),
            "{masked}"
        );
        assert!(masked.contains("Bad gateway"), "{masked}");
    }

    #[test]
    fn hex_and_base64_keys_are_masked_too() {
        let hex = "0123456789abcdef0123456789abcdef";
        assert!(!mask_opaque_tokens(hex).contains("0123"));
        let dotted = "ab.cd+ef/gh=ij.kl+mn/op==";
        assert!(!mask_opaque_tokens(dotted).contains("cd+ef"));
    }

    #[test]
    fn json_values_are_masked_and_names_kept() {
        let id = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
        let body = format!(
            r#"{{"created_by_user_email" : "e@x", "app_id":"{id}", "n": 12, "empty": "", "list": ["a\"b", "{RAW}"], "api_key_id": "key_1", "app_name": ["x"]}}"#
        );
        let masked = mask_json_values(&body);
        assert_eq!(
            masked,
            format!(
                r#"{{"created_by_user_email" : "<redacted>", "app_id":"{id}", "n": 12, "empty": "", "list": ["<redacted>", "<redacted>"], "api_key_id": "key_1", "app_name": ["<redacted>"]}}"#
            )
        );
        // Broken and non-JSON text: nothing leaks, nothing panics.
        for text in [
            format!(r#"{{"raw":"{RAW}"#),
            format!(r#"{{"raw":"{RAW}\"#),
            format!("<pre>{RAW}</pre>"),
            "\"".to_owned(),
            "é\"ü\":\"€".to_owned(),
        ] {
            assert_clean(&mask_json_values(&text));
        }
    }

    #[test]
    fn success_excerpts_hide_a_key_under_an_unknown_name() {
        let body = br#"["sk-0123456789abcdefghijklmnop"]"#;
        let shown = success_excerpt(body, &[]);
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }
}
