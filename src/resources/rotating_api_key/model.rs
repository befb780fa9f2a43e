//! `parallel_rotating_api_key` as a Rust struct, and the keys it holds:
//! the current one (every attribute, its secret included), the previous
//! one (what names it, never its secret) and any older ones a failure left
//! to revoke (their IDs).

use std::time::{Duration, SystemTime};

use tfplugin::Value;
use tfplugin::model::{Maybe, Number};

use super::schedule;
use crate::client::{NewKey, is_usable_key_id};
use crate::resources::api_key::facts::KeyFacts;
use crate::resources::api_key::model::{key_attributes, unix_seconds};
use crate::secret::Secret;
use crate::toolkit::parse_duration;

// The current key's attributes are named as parallel_api_key's: `record`
// takes a create's answer into them, `current` names the key.
key_attributes!(RotatingKeyModel, current);

tfplugin::model! {
    /// Every attribute may be unknown in a plan, and the computed ones null
    /// where there is no such key, so each is a [`Maybe`].
    #[derive(Clone, Debug, Default)]
    pub struct RotatingKeyModel {
        pub app_id: Maybe<String>,
        pub name_prefix: Maybe<String>,
        pub rotate_after: Maybe<String>,
        pub overlap: Maybe<String>,
        /// Only compared, never read.
        pub keepers: Value,
        pub deletion_policy: Maybe<String>,
        /// Read by the `Timeouts` helper.
        pub timeouts: Value,
        pub id: Maybe<String>,
        pub api_key_id: Maybe<String>,
        pub api_key_name: Maybe<String>,
        pub raw_api_key: Maybe<Secret>,
        pub display_value: Maybe<String>,
        pub created_at: Maybe<Number>,
        pub app_name: Maybe<String>,
        pub created_by_user_id: Maybe<String>,
        pub created_by_user_email: Maybe<String>,
        pub rotates_at: Maybe<String>,
        pub previous_api_key_id: Maybe<String>,
        pub previous_api_key_name: Maybe<String>,
        pub previous_display_value: Maybe<String>,
        pub previous_revoke_at: Maybe<String>,
        pub unrevoked_api_key_ids: Maybe<Vec<String>>,
    }
}

/// A key this resource may have to revoke, and what names it to a person.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRef {
    pub facts: KeyFacts,
    /// For a previous key: when it is to be revoked, as recorded.
    pub revoke_at: Option<String>,
}

impl KeyRef {
    /// An older key known only by its ID.
    fn by_id(id: &str, app_id: Option<String>) -> KeyRef {
        KeyRef {
            facts: KeyFacts {
                id: Some(id.to_owned()),
                app_id,
                ..KeyFacts::default()
            },
            revoke_at: None,
        }
    }

    pub fn id(&self) -> Option<&str> {
        self.facts.id.as_deref()
    }
}

impl RotatingKeyModel {
    /// The current key's fields from a create's answer, its name included
    /// (made here, not configured); a field the answer lacked becomes
    /// null, never left unknown.
    pub fn set_current(&mut self, key: NewKey) {
        self.api_key_name = key.api_key_name.clone().into();
        self.record(key);
    }

    /// The current key's fields, all of them, from another model.
    pub fn copy_current(&mut self, from: &RotatingKeyModel) {
        self.id = from.id.clone();
        self.api_key_id = from.api_key_id.clone();
        self.api_key_name = from.api_key_name.clone();
        self.raw_api_key = from.raw_api_key.clone();
        self.display_value = from.display_value.clone();
        self.created_at = from.created_at.clone();
        self.app_name = from.app_name.clone();
        self.created_by_user_id = from.created_by_user_id.clone();
        self.created_by_user_email = from.created_by_user_email.clone();
        self.rotates_at = from.rotates_at.clone();
    }

    /// The previous key's fields from another model.
    pub fn copy_previous(&mut self, from: &RotatingKeyModel) {
        self.previous_api_key_id = from.previous_api_key_id.clone();
        self.previous_api_key_name = from.previous_api_key_name.clone();
        self.previous_display_value = from.previous_display_value.clone();
        self.previous_revoke_at = from.previous_revoke_at.clone();
    }

    /// Makes `key` the previous key (or none).
    pub fn set_previous(&mut self, key: Option<&KeyRef>) {
        let field = |f: Option<&String>| f.cloned().into();
        self.previous_api_key_id = field(key.and_then(|k| k.facts.id.as_ref()));
        self.previous_api_key_name = field(key.and_then(|k| k.facts.name.as_ref()));
        self.previous_display_value = field(key.and_then(|k| k.facts.display_value.as_ref()));
        self.previous_revoke_at = field(key.and_then(|k| k.revoke_at.as_ref()));
    }

    /// Records older keys still to revoke (null when there are none).
    pub fn set_unrevoked(&mut self, keys: &[KeyRef]) {
        let ids: Vec<String> = keys.iter().filter_map(|k| k.facts.id.clone()).collect();
        self.unrevoked_api_key_ids = if ids.is_empty() {
            Maybe::Null
        } else {
            Maybe::Known(ids)
        };
    }

    /// The previous key, if the state holds one.
    pub fn previous(&self) -> Option<KeyRef> {
        let id = self.previous_api_key_id.known()?;
        Some(KeyRef {
            facts: KeyFacts {
                name: self.previous_api_key_name.known().cloned(),
                id: Some(id.clone()),
                app_id: self.app_id.known().cloned(),
                app_name: self.app_name.known().cloned(),
                display_value: self.previous_display_value.known().cloned(),
                created_at: None,
            },
            revoke_at: self.previous_revoke_at.known().cloned(),
        })
    }

    /// The older keys a failure left to revoke.
    pub fn unrevoked(&self) -> Vec<KeyRef> {
        let app_id = self.app_id.known().cloned();
        self.unrevoked_api_key_ids
            .known()
            .map(|ids| {
                ids.iter()
                    .map(|id| KeyRef::by_id(id, app_id.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What the schedule needs of this state.
    pub fn schedule_prior(&self) -> schedule::Prior {
        let secret = matches!(&self.raw_api_key, Maybe::Known(s) if !s.is_empty());
        let id = self
            .api_key_id
            .known()
            .is_some_and(|id| is_usable_key_id(id));
        schedule::Prior {
            created_at: unix_seconds(&self.created_at).and_then(schedule::from_unix),
            usable: secret && id,
            previous: self.previous_api_key_id.known().map(|_| {
                self.previous_revoke_at
                    .known()
                    .and_then(|at| schedule::parse_rfc3339(at))
            }),
            overlap: duration(&self.overlap, true),
        }
    }

    /// `created_at + rotate_after`, when both are known.
    pub fn computed_rotates_at(&self) -> Maybe<String> {
        let created = unix_seconds(&self.created_at).and_then(schedule::from_unix);
        match (created, duration(&self.rotate_after, false)) {
            (Some(created), Some(after)) => {
                Maybe::Known(schedule::rfc3339(schedule::rotates_at(created, after)))
            }
            _ => Maybe::Null,
        }
    }

    /// When a key made previous at `now` is revoked under this `overlap`.
    pub fn revoke_time(&self, now: SystemTime) -> SystemTime {
        schedule::revoke_at(now, self.overlap_or_zero())
    }

    pub fn overlap_or_zero(&self) -> Duration {
        duration(&self.overlap, true).unwrap_or_default()
    }
}

/// A known duration setting; `allow_zero` for `overlap`. What validation
/// refused is `None` here.
pub fn duration(setting: &Maybe<String>, allow_zero: bool) -> Option<Duration> {
    let text = setting.known()?;
    parse_setting(text, allow_zero, tfplugin::AttrPath::root("")).ok()
}

/// A Go-style duration (`90s`, `15m`, `720h`, `1h30m`; `0` and `0s` only
/// where zero is allowed), or the diagnostic naming `attribute`.
pub fn parse_setting(
    text: &str,
    allow_zero: bool,
    attribute: tfplugin::AttrPath,
) -> Result<Duration, tfplugin::Diagnostic> {
    let trimmed = text.trim();
    if allow_zero && (trimmed == "0" || humantime::parse_duration(trimmed) == Ok(Duration::ZERO)) {
        return Ok(Duration::ZERO);
    }
    parse_duration(text, attribute)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::model::Model;

    #[test]
    fn the_model_is_the_schema() {
        RotatingKeyModel::check_schema(&super::super::schema().block).unwrap();
    }

    #[test]
    fn durations_are_go_style_and_zero_only_where_allowed() {
        let at = || tfplugin::AttrPath::root("overlap");
        for (text, seconds) in [
            ("90s", 90),
            ("15m", 900),
            ("720h", 2_592_000),
            ("1h30m", 5400),
        ] {
            assert_eq!(
                parse_setting(text, false, at()),
                Ok(Duration::from_secs(seconds))
            );
        }
        assert_eq!(
            parse_setting("1.5h", false, at()),
            Ok(Duration::from_secs(5400))
        );
        for zero in ["0", "0s", " 0m "] {
            assert_eq!(
                parse_setting(zero, true, at()),
                Ok(Duration::ZERO),
                "{zero}"
            );
            assert!(parse_setting(zero, false, at()).is_err(), "{zero}");
        }
        for bad in ["", "-5s", "soon", "5"] {
            let err = parse_setting(bad, true, at()).unwrap_err();
            assert_eq!(err.attribute, Some(at()), "{bad:?}");
        }
    }

    #[test]
    fn the_previous_and_older_keys_come_back_as_recorded() {
        let mut key = RotatingKeyModel {
            app_id: Maybe::Known("app".into()),
            ..RotatingKeyModel::default()
        };
        assert_eq!(key.previous(), None);
        assert!(key.unrevoked().is_empty());
        let old = KeyRef {
            facts: KeyFacts {
                name: Some("s-1".into()),
                id: Some("k1".into()),
                display_value: Some("par_…1".into()),
                ..KeyFacts::default()
            },
            revoke_at: Some("2027-01-15T08:00:00Z".into()),
        };
        key.set_previous(Some(&old));
        let back = key.previous().expect("a previous key");
        assert_eq!(back.facts.name.as_deref(), Some("s-1"));
        assert_eq!(back.facts.app_id.as_deref(), Some("app"));
        assert_eq!(back.revoke_at, old.revoke_at);
        key.set_previous(None);
        assert!(key.previous_api_key_id.is_null());
        assert!(key.previous_revoke_at.is_null());

        key.set_unrevoked(&[old.clone(), KeyRef::by_id("k0", None)]);
        let ids: Vec<_> = key
            .unrevoked()
            .iter()
            .map(|k| k.id().map(str::to_owned))
            .collect();
        assert_eq!(ids, [Some("k1".to_owned()), Some("k0".to_owned())]);
        key.set_unrevoked(&[]);
        assert!(key.unrevoked_api_key_ids.is_null());
    }
}
