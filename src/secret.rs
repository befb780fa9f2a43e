//! A string that must never be printed: access tokens and raw API keys.
//!
//! `Debug` and `Display` both print `<redacted>`, so a secret can sit inside
//! any struct that derives `Debug` (configs, errors, API models) without the
//! value ever reaching a log line or an error message. The only way to read
//! the value is the deliberately loud [`Secret::expose`].

use std::fmt;

use serde::Deserialize;

/// What every formatting of a [`Secret`] prints instead of its value.
pub const REDACTED: &str = "<redacted>";

/// An owned secret string whose formatting never reveals the value.
///
/// It deliberately implements neither `Serialize` nor `PartialEq`: writing a
/// secret anywhere (state, JSON, comparisons in logs) must go through
/// [`Secret::expose`] so that every such place is visible in review.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself. Call it only where the value is really sent
    /// or stored (an HTTP header, Terraform state), never to format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A secret attribute of a Terraform object (a raw API key in state):
/// decoded from and encoded to a string, the one place its value enters a
/// Terraform value.
impl tfplugin::model::Field for Secret {
    fn decode(
        value: &tfplugin::Value,
        path: &tfplugin::AttrPath,
    ) -> Result<Self, tfplugin::Diagnostics> {
        <String as tfplugin::model::Field>::decode(value, path).map(Secret)
    }

    fn encode(&self) -> tfplugin::Value {
        tfplugin::Value::string(self.expose())
    }

    fn value_type() -> tfplugin::Type {
        tfplugin::Type::String
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUE: &str = "sk-live-very-secret-value";

    #[derive(Debug)]
    #[allow(dead_code)] // fields exist only to be formatted by Debug
    struct Holder {
        name: String,
        token: Secret,
        maybe: Option<Secret>,
        many: Vec<Secret>,
    }

    fn holder() -> Holder {
        Holder {
            name: "visible".into(),
            token: Secret::new(VALUE),
            maybe: Some(Secret::from(VALUE)),
            many: vec![Secret::from(VALUE.to_string())],
        }
    }

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new(VALUE);
        for text in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{secret:>40}"),
            secret.to_string(),
        ] {
            assert!(!text.contains(VALUE), "leaked in {text:?}");
            assert!(text.contains(REDACTED));
        }
    }

    #[test]
    fn structs_containing_secrets_do_not_leak() {
        let h = holder();
        for text in [format!("{h:?}"), format!("{h:#?}")] {
            assert!(!text.contains(VALUE), "leaked in {text}");
            assert!(text.contains("visible"));
            assert_eq!(text.matches(REDACTED).count(), 3);
        }
    }

    #[test]
    fn expose_returns_the_value() {
        let secret = Secret::new(VALUE);
        assert_eq!(secret.expose(), VALUE);
        assert_eq!(secret.clone().expose(), VALUE);
        assert!(!secret.is_empty());
        assert!(Secret::default().is_empty());
    }

    #[test]
    fn deserializes_from_a_plain_json_string() {
        let secret: Secret = serde_json::from_str(&format!("\"{VALUE}\"")).unwrap();
        assert_eq!(secret.expose(), VALUE);
        assert!(serde_json::from_str::<Secret>("42").is_err());
    }

    #[test]
    fn is_as_small_as_a_string() {
        assert_eq!(std::mem::size_of::<Secret>(), std::mem::size_of::<String>());
    }
}
