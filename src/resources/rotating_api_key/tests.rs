//! The plan `modify_plan` makes from a state and the plan's time, and the
//! offline checks. The apply is tested against the emulator
//! (tests/acceptance/rotating_api_key.rs).

use super::*;
use crate::secret::Secret;
use std::time::{Duration, UNIX_EPOCH};
use tfplugin::model::Number;
use tfplugin::{AttrPath, Resource};

const APP: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
/// 2027-01-15T08:00:00Z.
const CREATED: u64 = 1_800_000_000;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(CREATED + seconds)
}

/// A key created at `at(0)`, rotating after 1 h, whose previous key is
/// revoked at `at(600)` (10 min overlap).
fn state() -> RotatingKeyModel {
    RotatingKeyModel {
        app_id: Maybe::Known(APP.into()),
        name_prefix: Maybe::Known("search".into()),
        rotate_after: Maybe::Known("1h".into()),
        overlap: Maybe::Known("10m".into()),
        keepers: Value::map([("generation", Value::string("1"))]),
        deletion_policy: Maybe::Known("DELETE".into()),
        timeouts: Value::Null,
        id: Maybe::Known("k2".into()),
        api_key_id: Maybe::Known("k2".into()),
        api_key_name: Maybe::Known("search-20270115T080000Z".into()),
        raw_api_key: Maybe::Known(Secret::new("par_SECRET")),
        display_value: Maybe::Known("par_…2".into()),
        created_at: Maybe::Known(Number::from(CREATED as i64)),
        app_name: Maybe::Known("Search".into()),
        created_by_user_id: Maybe::Known("u".into()),
        created_by_user_email: Maybe::Known("u@x".into()),
        rotates_at: Maybe::Known(schedule::rfc3339(at(3600))),
        previous_api_key_id: Maybe::Known("k1".into()),
        previous_api_key_name: Maybe::Known("search-20270115T070000Z".into()),
        previous_display_value: Maybe::Known("par_…1".into()),
        previous_revoke_at: Maybe::Known(schedule::rfc3339(at(600))),
        unrevoked_api_key_ids: Maybe::Null,
    }
}

/// The plan at time `now` of `config` (the generic plan keeps every
/// computed value), given `prior`.
fn plan_at(now: Option<SystemTime>, prior: &RotatingKeyModel, config: &RotatingKeyModel) -> Value {
    let private = now.map(schedule::encode_clock).unwrap_or_default();
    let prior = prior.to_value();
    let request = PlanRequest {
        prior_state: &prior,
        config: &Value::Null,
        replacing: false,
        prior_private: &private,
    };
    let mut planned = config.to_value();
    let diags = Resource::modify_plan(&RotatingApiKeyResource, &request, &mut planned);
    assert!(diags.is_empty(), "{diags:?}");
    planned
}

const CURRENT: [&str; 9] = [
    "id",
    "api_key_id",
    "api_key_name",
    "raw_api_key",
    "display_value",
    "created_at",
    "app_name",
    "created_by_user_id",
    "created_by_user_email",
];
const PREVIOUS: [&str; 4] = [
    "previous_api_key_id",
    "previous_api_key_name",
    "previous_display_value",
    "previous_revoke_at",
];

#[test]
fn with_nothing_due_the_plan_is_the_state() {
    let prior = state().to_value();
    for now in [None, Some(at(1)), Some(at(599))] {
        assert_eq!(plan_at(now, &state(), &state()), prior, "{now:?}");
    }
}

#[test]
fn when_only_the_previous_key_is_due_only_previous_goes_to_null() {
    let planned = plan_at(Some(at(600)), &state(), &state());
    let prior = state().to_value();
    for name in CURRENT.iter().chain(&["rotates_at"]) {
        assert_eq!(planned.field(name), prior.field(name), "{name}");
    }
    for name in PREVIOUS {
        assert_eq!(planned.field(name), &Value::Null, "{name}");
    }
}

#[test]
fn a_due_key_or_a_changed_keeper_rotates_in_place() {
    let keepers_changed = RotatingKeyModel {
        keepers: Value::map([("generation", Value::string("2"))]),
        ..state()
    };
    let prefix_changed = RotatingKeyModel {
        name_prefix: Maybe::Known("other".into()),
        ..state()
    };
    for (now, config) in [
        (Some(at(3600)), state()),
        (Some(at(1)), keepers_changed),
        (None, prefix_changed),
    ] {
        let planned = plan_at(now, &state(), &config);
        for name in CURRENT.iter().chain(&PREVIOUS).chain(&["rotates_at"]) {
            assert_eq!(planned.field(name), &Value::Unknown, "{name} at {now:?}");
        }
        assert_eq!(planned.field("app_id"), &Value::string(APP));
    }
}

#[test]
fn changed_durations_move_the_times_without_rotating() {
    let config = RotatingKeyModel {
        rotate_after: Maybe::Known("2h".into()),
        overlap: Maybe::Known("20m".into()),
        ..state()
    };
    let planned = plan_at(Some(at(700)), &state(), &config);
    assert_eq!(
        planned.field("rotates_at"),
        &Value::string(schedule::rfc3339(at(7200)))
    );
    assert_eq!(
        planned.field("previous_revoke_at"),
        &Value::string(schedule::rfc3339(at(1200)))
    );
    assert_eq!(planned.field("api_key_id"), &Value::string("k2"));
    let unknown = RotatingKeyModel {
        rotate_after: Maybe::Unknown,
        overlap: Maybe::Unknown,
        ..state()
    };
    let planned = plan_at(Some(at(9999)), &state(), &unknown);
    assert_eq!(planned.field("rotates_at"), &Value::Unknown);
    assert_eq!(planned.field("previous_revoke_at"), &Value::Unknown);
    assert_eq!(planned.field("api_key_id"), &Value::string("k2"));
}

#[test]
fn older_keys_left_to_revoke_are_planned_away() {
    let prior = RotatingKeyModel {
        unrevoked_api_key_ids: Maybe::Known(vec!["k0".into()]),
        ..state()
    };
    let planned = plan_at(Some(at(1)), &prior, &prior);
    assert_eq!(planned.field("unrevoked_api_key_ids"), &Value::Null);
    assert_eq!(planned.field("previous_api_key_id"), &Value::string("k1"));
}

#[test]
fn a_new_resource_plans_no_previous_key() {
    let config = RotatingKeyModel {
        app_id: Maybe::Known(APP.into()),
        name_prefix: Maybe::Known("search".into()),
        rotate_after: Maybe::Known("1h".into()),
        overlap: Maybe::Known("0s".into()),
        previous_api_key_id: Maybe::Unknown,
        previous_revoke_at: Maybe::Unknown,
        api_key_id: Maybe::Unknown,
        ..RotatingKeyModel::default()
    };
    let request = PlanRequest {
        prior_state: &Value::Null,
        config: &Value::Null,
        replacing: false,
        prior_private: &[],
    };
    let mut planned = config.to_value();
    assert!(Resource::modify_plan(&RotatingApiKeyResource, &request, &mut planned).is_empty());
    assert_eq!(planned.field("previous_api_key_id"), &Value::Null);
    assert_eq!(planned.field("previous_revoke_at"), &Value::Null);
    assert_eq!(planned.field("api_key_id"), &Value::Unknown);
}

/// What the framework reports at validate: the attributes' validators,
/// then the resource's own checks.
fn errors_at(config: RotatingKeyModel) -> Vec<(Option<AttrPath>, String)> {
    let config = config.to_value();
    let mut diags = schema().block.validate(&config);
    diags.extend(tfplugin::Resource::validate(
        &RotatingApiKeyResource,
        &config,
    ));
    diags
        .iter()
        .map(|d| (d.attribute.clone(), d.detail.clone()))
        .collect()
}

#[test]
fn each_bad_setting_is_an_error_at_its_attribute() {
    assert!(errors_at(state()).is_empty());
    let cases = [
        (
            RotatingKeyModel {
                overlap: Maybe::Known("1h".into()),
                ..state()
            },
            "overlap",
            "must be shorter than rotate_after",
        ),
        (
            RotatingKeyModel {
                overlap: Maybe::Known("-1m".into()),
                ..state()
            },
            "overlap",
            "positive duration",
        ),
        (
            RotatingKeyModel {
                rotate_after: Maybe::Known("0s".into()),
                ..state()
            },
            "rotate_after",
            "positive duration",
        ),
        (
            RotatingKeyModel {
                rotate_after: Maybe::Known("monthly".into()),
                ..state()
            },
            "rotate_after",
            "\"monthly\"",
        ),
        (
            RotatingKeyModel {
                name_prefix: Maybe::Known(" ".into()),
                ..state()
            },
            "name_prefix",
            "must not be empty",
        ),
        (
            RotatingKeyModel {
                app_id: Maybe::Known("search".into()),
                ..state()
            },
            "app_id",
            "not a UUID",
        ),
    ];
    for (config, attribute, says) in cases {
        let errors = errors_at(config);
        assert_eq!(errors.len(), 1, "{attribute}: {errors:?}");
        assert_eq!(errors[0].0, Some(AttrPath::root(attribute)), "{errors:?}");
        assert!(errors[0].1.contains(says), "{attribute}: {}", errors[0].1);
    }
    // Unknown values wait for apply; an unset overlap is 0s.
    let unknown = RotatingKeyModel {
        rotate_after: Maybe::Unknown,
        overlap: Maybe::Null,
        ..state()
    };
    assert!(errors_at(unknown).is_empty());
}

#[test]
fn import_is_refused_with_the_reason() {
    let refused = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(TypedResource::import(
            &RotatingApiKeyResource,
            &Context::default(),
            ImportRequest::Id("k".into()),
        ))
        .expect_err("refused");
    let text = format!("{refused:?}");
    assert!(text.contains("only once"), "{text}");
}

#[test]
fn a_plan_without_a_refresh_rotates_nothing_by_the_clock_and_says_so() {
    // Created in 2001: due long ago by the clock.
    let old = RotatingKeyModel {
        created_at: Maybe::Known(Number::from(1_000_000_000)),
        rotates_at: Maybe::Known("2001-09-09T01:46:41Z".into()),
        previous_api_key_id: Maybe::Null,
        previous_api_key_name: Maybe::Null,
        previous_display_value: Maybe::Null,
        previous_revoke_at: Maybe::Null,
        ..state()
    };
    let config = RotatingKeyModel {
        rotate_after: Maybe::Known("1s".into()),
        overlap: Maybe::Known("0s".into()),
        ..old.clone()
    };
    let prior = old.to_value();
    let request = PlanRequest {
        prior_state: &prior,
        config: &Value::Null,
        replacing: false,
        prior_private: &[],
    };
    let mut planned = config.to_value();
    let diags = Resource::modify_plan(&RotatingApiKeyResource, &request, &mut planned);
    assert_eq!(planned.field("api_key_id"), &Value::string("k2"));
    let warning = diags.iter().next().expect("a warning");
    assert!(!diags.has_errors());
    assert!(
        warning.detail.contains("-refresh=false"),
        "{}",
        warning.detail
    );
}
