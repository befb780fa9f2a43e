//! Times as RFC 3339 text, safely. humantime cannot write a year past 9999:
//! its `Display` fails there, and `to_string` on it panics. Times computed
//! from what a user, a file or the API gave (a `created_at` in
//! milliseconds, `rotate_after = "8000y"`) can get there, so they are
//! clamped to the last writable second, or refused.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 9999-12-31T23:59:59Z, in Unix seconds.
const LATEST_SECS: u64 = 253_402_300_799;

/// The last second RFC 3339 can write.
pub fn latest() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(LATEST_SECS)
}

/// `at + by`, no later than [`latest`] (never an overflow).
pub fn later(at: SystemTime, by: Duration) -> SystemTime {
    at.checked_add(by).map_or_else(latest, |t| t.min(latest()))
}

/// `2026-12-06T21:33:00Z`; a time past [`latest`] is written as it.
pub fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at.min(latest())).to_string()
}

/// The RFC 3339 text of a Unix time, or `None` when it is before 1970 or
/// past [`latest`].
pub fn unix_rfc3339(seconds: i64) -> Option<String> {
    let seconds = u64::try_from(seconds).ok().filter(|s| *s <= LATEST_SECS)?;
    Some(rfc3339(UNIX_EPOCH + Duration::from_secs(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_past_year_9999_are_clamped_not_a_panic() {
        let far = later(UNIX_EPOCH, Duration::from_secs(u64::MAX));
        assert_eq!(far, latest());
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z");
        assert_eq!(
            unix_rfc3339(1_731_000_000).as_deref(),
            Some("2024-11-07T17:20:00Z")
        );
        assert_eq!(unix_rfc3339(1_731_000_000_000), None, "milliseconds");
        assert_eq!(unix_rfc3339(-1), None);
    }
}
