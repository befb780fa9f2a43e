//! `parallel_api_key` as a Rust struct: its config, plan and state decode
//! into [`ApiKeyModel`] once per callback, and the state it returns is
//! encoded from one.

use tfplugin::Value;
use tfplugin::model::{Maybe, Number};

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

/// A `created_at` as Unix seconds for a person to read; unknown, null or
/// not finite count as absent.
pub fn unix_seconds(created_at: &Maybe<Number>) -> Option<f64> {
    created_at
        .known()
        .map(Number::as_f64)
        .filter(|at| at.is_finite())
}

/// The attributes of one key that both key resources' models name alike
/// (`ApiKeyModel`, and the current key of `parallel_rotating_api_key`'s
/// model), and what is done with them the same way in both: `record`
/// takes a create's answer, and `$facts` names the key to a person. A
/// macro, not a trait, because the models are flat structs whose fields
/// are the schema's attributes.
macro_rules! key_attributes {
    ($model:ty, $facts:ident) => {
        impl $model {
            /// Takes the computed fields of a create's answer: what the
            /// user configured stays as planned (`app_id`'s spelling); a
            /// field the answer lacked becomes null, never left unknown.
            pub fn record(&mut self, key: $crate::client::NewKey) {
                self.id = key.api_key_id.clone().into();
                self.api_key_id = key.api_key_id.into();
                self.app_name = key.app_name.into();
                self.created_by_user_id = key.created_by_user_id.into();
                self.created_by_user_email = key.created_by_user_email.into();
                self.display_value = key.display_value.into();
                self.raw_api_key = key.raw_api_key.into();
                self.created_at = $crate::resources::api_key::model::created_at(key.created_at);
            }

            /// What names this key to a person; unknown and null count as
            /// absent. Never the secret.
            pub fn $facts(&self) -> $crate::resources::api_key::facts::KeyFacts {
                $crate::resources::api_key::facts::KeyFacts {
                    name: self.api_key_name.known().cloned(),
                    id: self.api_key_id.known().cloned(),
                    app_id: self.app_id.known().cloned(),
                    app_name: self.app_name.known().cloned(),
                    display_value: self.display_value.known().cloned(),
                    created_at: $crate::resources::api_key::model::unix_seconds(&self.created_at),
                }
            }
        }
    };
}
pub(crate) use key_attributes;

key_attributes!(ApiKeyModel, facts);

impl ApiKeyModel {
    /// Whether the secret is missing (deleted from state by hand, or never
    /// returned).
    pub fn secret_missing(&self) -> bool {
        match &self.raw_api_key {
            Maybe::Known(secret) => secret.is_empty(),
            Maybe::Null => true,
            Maybe::Unknown => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::NewKey;
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
