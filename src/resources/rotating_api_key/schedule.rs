//! When a rotating key is due: the plan's decision, as a pure function of
//! the time the plan reads and what state and configuration say, so that
//! every boundary is tested without waiting.
//!
//! The time is that of the refresh which preceded the plan (see
//! `plan_clock`): Terraform plans again at apply, from the same refreshed
//! state and private data, and requires the same plan, so a plan saved with
//! `-out` is applied as planned whatever the time at apply. A plan made
//! without a refresh (`-refresh=false`) has no time, and nothing comes due
//! in it by the clock alone.

use crate::toolkit::time;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the prior state says of the keys' times.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prior {
    /// The current key's creation, as the API gave it; `None` when the
    /// state lacks it (an incomplete create answer).
    pub created_at: Option<SystemTime>,
    /// Whether the current key can be used at all (a usable ID and its
    /// secret in state); one that cannot is replaced at once.
    pub usable: bool,
    /// `None` when there is no previous key; otherwise its revocation time
    /// as recorded (`None` inside when the state lacks a readable one).
    pub previous: Option<Option<SystemTime>>,
    /// The `overlap` the prior state was applied with, from which a
    /// changed `overlap` moves `previous_revoke_at`.
    pub overlap: Option<Duration>,
}

/// What the configuration asks for; `None` durations are unknown until
/// apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Wanted {
    pub rotate_after: Option<Duration>,
    pub overlap: Option<Duration>,
    /// `keepers` or `name_prefix` changed (or is unknown until apply).
    pub rotate_now: bool,
}

/// The plan of an existing rotating key.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Create a new current key; the current one becomes the previous.
    Rotate,
    /// The current key stays exactly as it is.
    Keep {
        /// `None`: unknown until apply (`rotate_after` is).
        rotates_at: Option<SystemTime>,
        previous: Previous,
    },
}

/// What happens to the previous key when there is no rotation.
#[derive(Clone, Debug, PartialEq)]
pub enum Previous {
    /// There is none.
    None,
    /// It stays, to be revoked at this time (`None`: unknown until apply,
    /// because `overlap` is).
    Keep { revoke_at: Option<SystemTime> },
    /// Its time has come: revoke it.
    Revoke,
}

/// Decides the plan at time `now` (`None`: the plan has no time).
pub fn plan(now: Option<SystemTime>, prior: &Prior, wanted: &Wanted) -> Plan {
    let Some(created_at) = prior.created_at.filter(|_| prior.usable) else {
        return Plan::Rotate;
    };
    let rotates_at = wanted
        .rotate_after
        .map(|after| rotates_at(created_at, after));
    let due = |at: Option<SystemTime>| matches!((now, at), (Some(now), Some(at)) if now >= at);
    if wanted.rotate_now || due(rotates_at) {
        return Plan::Rotate;
    }
    let previous = match prior.previous {
        None => Previous::None,
        // A previous key with no readable time is past any overlap.
        Some(None) => Previous::Revoke,
        Some(Some(recorded)) => match wanted.overlap {
            None => Previous::Keep { revoke_at: None },
            Some(overlap) => {
                let revoke_at = moved_revoke_at(recorded, prior.overlap, overlap);
                if due(Some(revoke_at)) {
                    Previous::Revoke
                } else {
                    Previous::Keep {
                        revoke_at: Some(revoke_at),
                    }
                }
            }
        },
    };
    Plan::Keep {
        rotates_at,
        previous,
    }
}

/// When a key created at `created_at` becomes due: `created_at +
/// rotate_after`, on a whole second (rounded up, so never early).
pub fn rotates_at(created_at: SystemTime, rotate_after: Duration) -> SystemTime {
    whole_second(time::later(created_at, rotate_after))
}

/// When the key that a rotation at `rotated_at` made previous is revoked:
/// `overlap` later, on a whole second (rounded up).
pub fn revoke_at(rotated_at: SystemTime, overlap: Duration) -> SystemTime {
    whole_second(time::later(rotated_at, overlap))
}

/// A revocation time recorded under `old` overlap, moved to the `new` one:
/// the rotation happened `old` before it.
pub fn moved_revoke_at(recorded: SystemTime, old: Option<Duration>, new: Duration) -> SystemTime {
    match old {
        Some(old) if old != new => match recorded.checked_sub(old) {
            Some(rotated_at) => revoke_at(rotated_at, new),
            None => recorded,
        },
        _ => recorded,
    }
}

fn whole_second(at: SystemTime) -> SystemTime {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs() + u64::from(since.subsec_nanos() > 0);
    time::later(UNIX_EPOCH, Duration::from_secs(seconds))
}

/// `2026-12-06T21:33:00Z`.
pub fn rfc3339(at: SystemTime) -> String {
    time::rfc3339(at)
}

/// Reads a UTC time as `rfc3339` writes it (or with a fraction, or a space
/// for the `T`, should the state have been edited by hand).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text).ok()
}

/// The name of a key created at `at`: `<prefix>-20261206T213300Z`.
pub fn key_name(prefix: &str, at: SystemTime) -> String {
    let stamp: String = rfc3339(at)
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    format!("{prefix}-{stamp}")
}

/// A Unix time in seconds, as the API gives `created_at`.
pub fn from_unix(seconds: f64) -> Option<SystemTime> {
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::try_from_secs_f64(seconds).ok())
        .flatten()
        .map(|since| time::later(UNIX_EPOCH, since))
}

/// The time a plan reads, kept in the private data of the state a refresh
/// returned (`encode_clock`, `plan_clock`).
pub fn encode_clock(now: SystemTime) -> Vec<u8> {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    serde_json::json!({ "refreshed_at_ns": since.as_nanos().to_string() })
        .to_string()
        .into_bytes()
}

/// The time recorded by `encode_clock`; `None` for anything else (an
/// apply's empty private data, or none at all).
pub fn plan_clock(private: &[u8]) -> Option<SystemTime> {
    let json: serde_json::Value = serde_json::from_slice(private).ok()?;
    let nanos: u128 = json.get("refreshed_at_ns")?.as_str()?.parse().ok()?;
    let seconds = u64::try_from(nanos / 1_000_000_000).ok()?;
    let nanos = u32::try_from(nanos % 1_000_000_000).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(seconds, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
    }

    fn just_before(t: SystemTime) -> SystemTime {
        t - Duration::from_nanos(1)
    }

    /// A key created at `at(0)` with a previous key due at `at(600)`,
    /// applied with a 10-minute overlap.
    fn prior() -> Prior {
        Prior {
            created_at: Some(at(0)),
            usable: true,
            previous: Some(Some(at(600))),
            overlap: Some(Duration::from_secs(600)),
        }
    }

    fn wanted(rotate_after: Duration, overlap: Duration) -> Wanted {
        Wanted {
            rotate_after: Some(rotate_after),
            overlap: Some(overlap),
            rotate_now: false,
        }
    }

    fn keep(rotates_at: SystemTime, previous: Previous) -> Plan {
        Plan::Keep {
            rotates_at: Some(rotates_at),
            previous,
        }
    }

    #[test]
    fn a_key_is_due_from_the_second_rotates_at_names() {
        let want = wanted(HOUR, Duration::from_secs(600));
        let kept = Previous::Keep {
            revoke_at: Some(at(600)),
        };
        assert_eq!(
            plan(Some(at(0)), &prior(), &want),
            keep(at(3600), kept.clone())
        );
        let prior = Prior {
            previous: None,
            ..prior()
        };
        assert_eq!(
            plan(Some(just_before(at(3600))), &prior, &want),
            keep(at(3600), Previous::None)
        );
        assert_eq!(plan(Some(at(3600)), &prior, &want), Plan::Rotate);
        assert_eq!(plan(Some(at(999_999)), &prior, &want), Plan::Rotate);
    }

    #[test]
    fn only_the_previous_key_is_revoked_when_only_its_time_has_come() {
        let want = wanted(HOUR, Duration::from_secs(600));
        assert_eq!(
            plan(Some(just_before(at(600))), &prior(), &want),
            keep(
                at(3600),
                Previous::Keep {
                    revoke_at: Some(at(600))
                }
            )
        );
        assert_eq!(
            plan(Some(at(600)), &prior(), &want),
            keep(at(3600), Previous::Revoke)
        );
        // Both due: the rotation revokes the previous key as well.
        assert_eq!(plan(Some(at(3600)), &prior(), &want), Plan::Rotate);
    }

    #[test]
    fn a_plan_without_a_time_makes_nothing_due_by_the_clock() {
        let want = wanted(Duration::from_secs(1), Duration::ZERO);
        assert_eq!(
            plan(None, &prior(), &want),
            keep(
                at(1),
                Previous::Keep {
                    revoke_at: Some(at(0))
                }
            )
        );
        let keepers_changed = Wanted {
            rotate_now: true,
            ..want
        };
        assert_eq!(plan(None, &prior(), &keepers_changed), Plan::Rotate);
    }

    #[test]
    fn a_changed_trigger_or_an_unusable_key_rotates_now() {
        let want = Wanted {
            rotate_now: true,
            ..wanted(HOUR, Duration::ZERO)
        };
        assert_eq!(plan(Some(at(1)), &prior(), &want), Plan::Rotate);
        let want = wanted(HOUR, Duration::ZERO);
        let unusable = Prior {
            usable: false,
            ..prior()
        };
        assert_eq!(plan(Some(at(1)), &unusable, &want), Plan::Rotate);
        let no_time = Prior {
            created_at: None,
            ..prior()
        };
        assert_eq!(plan(Some(at(1)), &no_time, &want), Plan::Rotate);
    }

    #[test]
    fn changing_rotate_after_moves_rotates_at_and_rotates_only_when_that_is_due() {
        // Past the old rotates_at, but not the new one.
        let longer = wanted(2 * HOUR, Duration::from_secs(600));
        assert_eq!(
            plan(Some(at(5000)), &prior(), &longer),
            keep(at(7200), Previous::Revoke)
        );
        let shorter = wanted(Duration::from_secs(900), Duration::from_secs(600));
        assert_eq!(
            plan(Some(just_before(at(900))), &prior(), &shorter),
            keep(at(600 + 300), Previous::Revoke)
        );
        assert_eq!(plan(Some(at(900)), &prior(), &shorter), Plan::Rotate);
    }

    #[test]
    fn changing_overlap_moves_previous_revoke_at_from_the_rotation() {
        // The rotation was at 0: revoke_at 600 under a 600 s overlap.
        let longer = wanted(HOUR, Duration::from_secs(1200));
        assert_eq!(
            plan(Some(at(700)), &prior(), &longer),
            keep(
                at(3600),
                Previous::Keep {
                    revoke_at: Some(at(1200))
                }
            )
        );
        let shorter = wanted(HOUR, Duration::from_secs(60));
        assert_eq!(
            plan(Some(just_before(at(60))), &prior(), &shorter),
            keep(
                at(3600),
                Previous::Keep {
                    revoke_at: Some(at(60))
                }
            )
        );
        assert_eq!(
            plan(Some(at(60)), &prior(), &shorter),
            keep(at(3600), Previous::Revoke)
        );
    }

    #[test]
    fn durations_unknown_until_apply_leave_their_times_unknown_and_nothing_due() {
        let want = Wanted {
            rotate_after: None,
            overlap: None,
            rotate_now: false,
        };
        assert_eq!(
            plan(Some(at(999_999)), &prior(), &want),
            Plan::Keep {
                rotates_at: None,
                previous: Previous::Keep { revoke_at: None },
            }
        );
    }

    #[test]
    fn a_previous_key_without_a_readable_time_is_revoked() {
        let prior = Prior {
            previous: Some(None),
            ..prior()
        };
        assert_eq!(
            plan(Some(at(1)), &prior, &wanted(HOUR, Duration::ZERO)),
            keep(at(3600), Previous::Revoke)
        );
    }

    #[test]
    fn times_are_whole_seconds_never_early() {
        let created = at(0) + Duration::from_millis(250);
        assert_eq!(rotates_at(created, Duration::from_secs(3)), at(4));
        assert_eq!(rotates_at(at(0), Duration::from_secs(3)), at(3));
        assert_eq!(revoke_at(at(0), Duration::ZERO), at(0));
        let text = rfc3339(at(0));
        assert_eq!(text, "2027-01-15T08:00:00Z");
        assert_eq!(parse_rfc3339(&text), Some(at(0)));
        assert_eq!(
            parse_rfc3339("2027-01-15 08:00:00.5Z"),
            Some(at(0) + Duration::from_millis(500))
        );
        assert_eq!(parse_rfc3339("soon"), None);
        assert_eq!(key_name("search", at(0)), "search-20270115T080000Z");
        assert_eq!(from_unix(1_800_000_000.0), Some(at(0)));
        assert_eq!(from_unix(-1.0), None);
        assert_eq!(from_unix(f64::NAN), None);
    }

    #[test]
    fn the_plan_clock_survives_the_private_data_and_nothing_else_is_taken_for_it() {
        let now = at(5) + Duration::from_nanos(123_456_789);
        assert_eq!(plan_clock(&encode_clock(now)), Some(now));
        assert_eq!(plan_clock(b""), None);
        assert_eq!(plan_clock(b"{\"other\":1}"), None);
        assert_eq!(plan_clock(b"\xff"), None);
    }

    #[test]
    fn absurd_times_are_clamped_never_a_panic() {
        // A created_at in milliseconds, and a duration of thousands of years.
        let created = from_unix(1_731_000_000_000.0).expect("a time");
        let due = rotates_at(created, Duration::from_secs(u64::MAX / 2));
        assert_eq!(rfc3339(due), "9999-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(revoke_at(due, Duration::from_secs(3600))),
            rfc3339(due)
        );
        assert!(key_name("x", due).starts_with("x-9999"));
    }
}
