//! `parallel_api_key` as a Rust struct: its config, plan and state decode
//! into [`ApiKeyModel`] once per callback, and the state it returns is
//! encoded from one.

use tfplugin::Value;
use tfplugin::model::{Maybe, Number};

use super::facts::KeyFacts;
use crate::client::NewKey;
use crate::secret::Secret;

tfplugin::model! {
    /// Every attribute may be unknown in a plan or null in a state whose
    /// create answer was incomplete, so each is a [`Maybe`].
    #[derive(Clone, Debug, Default)]
    pub struct ApiKeyModel {
        pub app_id: Maybe<String>,
        pub api_key_name: Maybe<String>,
        /// Only compared (by the replace rule), never read.
        pub keepers: Value,
        pub deletion_policy: Maybe<String>,
        /// Read by the `Timeouts` helper.
        pub timeouts: Value,
        pub id: Maybe<String>,
        pub api_key_id: Maybe<String>,
        pub app_name: Maybe<String>,
        pub created_by_user_id: Maybe<String>,
        pub created_by_user_email: Maybe<String>,
        pub display_value: Maybe<String>,
        pub raw_api_key: Maybe<Secret>,
        pub created_at: Maybe<Number>,
    }
}

/// A create answer's `created_at` as a cty number: serde_json keeps the
/// answer's digits and cty numbers take them as written (a timestamp stays
/// exact). Null when the answer lacked it.
pub fn created_at(at: Option<impl ToString>) -> Maybe<Number> {
    at.and_then(|at| Number::parse(&at.to_string()).ok()).into()
}

impl ApiKeyModel {
    /// Takes every field of a create's answer: what the user configured
    /// stays as planned (`app_id`'s spelling); a field the answer lacked
    /// becomes null, never left unknown.
    pub fn record(&mut self, key: NewKey) {
        self.id = key.api_key_id.clone().into();
        self.api_key_id = key.api_key_id.into();
        self.app_name = key.app_name.into();
        self.created_by_user_id = key.created_by_user_id.into();
        self.created_by_user_email = key.created_by_user_email.into();
        self.display_value = key.display_value.into();
        self.raw_api_key = key.raw_api_key.into();
        self.created_at = created_at(key.created_at);
    }

    /// Whether the secret is missing (deleted from state by hand, or never
    /// returned).
    pub fn secret_missing(&self) -> bool {
        match &self.raw_api_key {
            Maybe::Known(secret) => secret.is_empty(),
            Maybe::Null => true,
            Maybe::Unknown => false,
        }
    }

    /// What names this key to a person; unknown and null count as absent.
    pub fn facts(&self) -> KeyFacts {
        KeyFacts {
            name: self.api_key_name.known().cloned(),
            id: self.api_key_id.known().cloned(),
            app_id: self.app_id.known().cloned(),
            app_name: self.app_name.known().cloned(),
            display_value: self.display_value.known().cloned(),
            created_at: self
                .created_at
                .known()
                .map(Number::as_f64)
                .filter(|at| at.is_finite()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::model::Model;

    #[test]
    fn the_model_is_the_schema() {
        ApiKeyModel::check_schema(&super::super::schema().block).unwrap();
    }

    #[test]
    fn a_create_answer_fills_every_computed_field() {
        let planned = Value::object([
            ("app_id", Value::string("A")),
            ("api_key_name", Value::string("ci")),
            ("deletion_policy", Value::string("DELETE")),
            ("api_key_id", Value::Unknown),
            ("created_by_user_id", Value::Unknown),
        ]);
        let mut key = ApiKeyModel::from_value(&planned).unwrap();
        key.record(NewKey {
            api_key_id: Some("k-1".into()),
            api_key_name: Some("ci".into()),
            app_id: Some("a".into()),
            app_name: Some("search".into()),
            created_by_user_id: None,
            created_by_user_email: Some("e@x".into()),
            display_value: Some("par_…1".into()),
            raw_api_key: Some(Secret::new("par_secret")),
            created_at: Some(serde_json::Number::from(1_731_000_000)),
        });
        let state = key.to_value();
        // What the user configured stays as configured (app_id's spelling).
        assert_eq!(state.field("app_id"), &Value::string("A"));
        assert_eq!(state.field("deletion_policy"), &Value::string("DELETE"));
        assert_eq!(state.field("id"), &Value::string("k-1"));
        assert_eq!(state.field("api_key_id"), &Value::string("k-1"));
        assert_eq!(state.field("raw_api_key"), &Value::string("par_secret"));
        assert_eq!(state.field("created_at"), &Value::number(1_731_000_000));
        // A field the answer lacked is null, never left unknown.
        assert_eq!(state.field("created_by_user_id"), &Value::Null);
        assert!(!key.secret_missing());
        assert!(!format!("{key:?}").contains("par_secret"));
    }

    #[test]
    fn facts_skip_what_is_unknown() {
        let key = ApiKeyModel {
            api_key_name: Maybe::Known("ci".into()),
            api_key_id: Maybe::Unknown,
            created_at: Maybe::Known(Number::from(5)),
            ..ApiKeyModel::default()
        };
        let facts = key.facts();
        assert_eq!(facts.name.as_deref(), Some("ci"));
        assert_eq!(facts.id, None);
        assert_eq!(facts.created_at, Some(5.0));
    }
}
