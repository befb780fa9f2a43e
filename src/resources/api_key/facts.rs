//! What identifies one API key to a person, read from its state or plan
//! (`ApiKeyModel::facts`):
//! every diagnostic about a key names it with these, so that several
//! failing keys give distinguishable messages and a key Terraform cannot
//! revoke can still be found in the Parallel platform. Never the secret.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// Also the record of an opened ephemeral key that Terraform hands back to
/// close (hence serde).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyFacts {
    pub name: Option<String>,
    /// As recorded, usable or not.
    pub id: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub display_value: Option<String>,
    /// Unix seconds, as the API returned them.
    pub created_at: Option<f64>,
}

impl KeyFacts {
    /// A short name for the key: `API key "ci" (ID key_1) of app 3c90… ("Search")`.
    pub fn label(&self) -> String {
        let mut out = match &self.name {
            Some(name) => format!("API key {name:?}"),
            None => "API key (name unknown)".to_owned(),
        };
        match &self.id {
            Some(id) if !id.is_empty() => {
                let _ = write!(out, " (ID {id})");
            }
            Some(_) => out.push_str(" (its ID is empty)"),
            None => out.push_str(" (ID unknown)"),
        }
        out.push_str(&self.app());
        out
    }

    /// Everything that helps find the key in the Parallel platform without
    /// its ID: app, name, display value and creation time.
    pub fn finding_aid(&self) -> String {
        let mut parts = vec![self.app().trim_start_matches(" of ").to_owned()];
        if let Some(name) = &self.name {
            parts.push(format!("key named {name:?}"));
        }
        if let Some(shown) = &self.display_value {
            parts.push(format!("shown as {shown:?}"));
        }
        if let Some(at) = self.created_at {
            parts.push(format!("created at {}", timestamp(at)));
        }
        parts.join(", ")
    }

    fn app(&self) -> String {
        match (&self.app_id, &self.app_name) {
            (Some(id), Some(name)) => format!(" of app {id} ({name:?})"),
            (Some(id), None) => format!(" of app {id}"),
            (None, Some(name)) => format!(" of app {name:?}"),
            (None, None) => " of an unknown app".to_owned(),
        }
    }
}

/// `2024-11-07T17:20:00Z (Unix 1731000000)`; the raw number alone when it
/// is no plausible time.
fn timestamp(unix: f64) -> String {
    let readable = (0.0..1e11)
        .contains(&unix)
        .then(|| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(unix))
        .map(humantime::format_rfc3339_seconds);
    match readable {
        Some(time) => format!("{time} (Unix {unix})"),
        None => format!("Unix time {unix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::api_key::model::ApiKeyModel;
    use tfplugin::model::Model;
    use tfplugin::{Value, json};

    fn of(key: &Value) -> KeyFacts {
        ApiKeyModel::from_value(key).unwrap().facts()
    }

    fn state() -> Value {
        Value::object([
            ("api_key_name", Value::string("ci")),
            ("api_key_id", Value::string("key_1")),
            (
                "app_id",
                Value::string("3c90c3cc-0d44-4b50-8888-8dd25736052a"),
            ),
            ("app_name", Value::string("Search")),
            ("display_value", Value::string("par_…6789")),
            ("raw_api_key", Value::string("par_live_SECRET")),
            (
                "created_at",
                json::from_json_value(&serde_json::json!(1_731_000_000), &tfplugin::Type::Number)
                    .unwrap(),
            ),
        ])
    }

    #[test]
    fn labels_name_the_key_its_id_and_its_app() {
        let facts = of(&state());
        assert_eq!(
            facts.label(),
            "API key \"ci\" (ID key_1) of app 3c90c3cc-0d44-4b50-8888-8dd25736052a (\"Search\")"
        );
        assert_eq!(
            facts.finding_aid(),
            "app 3c90c3cc-0d44-4b50-8888-8dd25736052a (\"Search\"), key named \"ci\", shown as \
             \"par_…6789\", created at 2024-11-07T17:20:00Z (Unix 1731000000)"
        );
        assert!(!format!("{facts:?} {}", facts.finding_aid()).contains("SECRET"));
    }

    #[test]
    fn missing_facts_are_said_so() {
        let facts = of(&Value::object([("api_key_id", Value::string(""))]));
        assert_eq!(
            facts.label(),
            "API key (name unknown) (its ID is empty) of an unknown app"
        );
        assert_eq!(KeyFacts::default().finding_aid(), "an unknown app");
        assert_eq!(timestamp(-5.0), "Unix time -5");
    }
}
