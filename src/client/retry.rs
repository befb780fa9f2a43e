//! When to try a call again, and how long to wait first.
//!
//! Creating a key is not idempotent: a retry after the server may already
//! have acted would mint a second key whose raw value nobody ever sees. So a
//! non-idempotent call is retried only when the server certainly did not
//! act: 429, 503, or a connection that could not even be established.
//! Idempotent calls (delete, list) are also retried on other 5xx, timeouts
//! and broken connections.

use std::time::{Duration, SystemTime};

use rand::Rng;

use super::error::ApiError;

/// First backoff step; doubles with each retry.
pub(crate) const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Longest backoff step, before jitter.
pub(crate) const BACKOFF_CAP: Duration = Duration::from_secs(10);
/// Longest wait a `Retry-After` header can impose.
pub(crate) const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// Whether repeating a call can change its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    Idempotent,
    NotIdempotent,
}

/// Whether a failed attempt should be made again (retries permitting).
pub(crate) fn is_retryable(error: &ApiError, idempotency: Idempotency) -> bool {
    let idempotent = idempotency == Idempotency::Idempotent;
    match error {
        ApiError::RateLimited { .. } => true,
        ApiError::Status { status: 503, .. } => true,
        ApiError::Status { status, .. } => idempotent && (*status >= 500 || *status == 408),
        ApiError::Connection { sent: false, .. } => true,
        ApiError::Connection { sent: true, .. } | ApiError::Timeout { .. } => idempotent,
        ApiError::Unauthorized { .. }
        | ApiError::Credentials(_)
        | ApiError::Forbidden { .. }
        | ApiError::NotFound { .. }
        | ApiError::Validation { .. }
        | ApiError::Cancelled
        | ApiError::Undecodable { .. }
        | ApiError::InvalidInput { .. } => false,
    }
}

/// Whether the server may have carried out a request that ended in `error`.
///
/// Cancellation counts as "may have": the caller knows better (nothing was in
/// flight while waiting between attempts) and overrides it there.
pub(crate) fn server_may_have_acted(error: &ApiError) -> bool {
    match error {
        ApiError::Status { status, .. } => *status >= 500 && *status != 503,
        ApiError::Connection { sent, .. } => *sent,
        ApiError::Timeout { .. } | ApiError::Undecodable { .. } | ApiError::Cancelled => true,
        ApiError::Unauthorized { .. }
        | ApiError::Credentials(_)
        | ApiError::Forbidden { .. }
        | ApiError::NotFound { .. }
        | ApiError::Validation { .. }
        | ApiError::RateLimited { .. }
        | ApiError::InvalidInput { .. } => false,
    }
}

/// Parses a `Retry-After` value, either delay-seconds or an HTTP-date, into
/// a wait capped at [`RETRY_AFTER_CAP`]. A date in the past means "now".
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 still means "a very long time".
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

/// Exponential backoff with full jitter for retry number `retry` (0 = the
/// first retry): uniform in `[0, min(cap, base * 2^retry)]`.
pub(crate) fn backoff(retry: u32, rng: &mut impl Rng) -> Duration {
    let ceiling = BACKOFF_BASE
        .checked_mul(2u32.saturating_pow(retry))
        .unwrap_or(BACKOFF_CAP)
        .min(BACKOFF_CAP);
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.random_range(0..=ceiling_ms))
}

/// The wait before retry number `retry`: the server's `Retry-After` when it
/// gave one, the jittered backoff otherwise.
pub(crate) fn delay_before_retry(
    retry: u32,
    retry_after: Option<Duration>,
    rng: &mut impl Rng,
) -> Duration {
    match retry_after {
        Some(wait) => wait.min(RETRY_AFTER_CAP),
        None => backoff(retry, rng),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Idempotency::{Idempotent, NotIdempotent};

    fn status(code: u16) -> ApiError {
        ApiError::Status {
            status: code,
            excerpt: String::new(),
            retry_after: None,
        }
    }

    fn connection(sent: bool) -> ApiError {
        ApiError::Connection {
            sent,
            reason: "x".into(),
        }
    }

    #[test]
    fn create_retries_only_when_the_server_surely_did_nothing() {
        let retried = [
            ApiError::RateLimited { retry_after: None },
            status(503),
            connection(false),
        ];
        for e in &retried {
            assert!(is_retryable(e, NotIdempotent), "{e:?}");
            assert!(!server_may_have_acted(e), "{e:?}");
        }
        let not_retried = [
            status(500),
            status(502),
            status(504),
            status(408),
            ApiError::Timeout {
                after: Duration::from_secs(1),
            },
            connection(true),
            ApiError::Undecodable {
                status: 200,
                problem: String::new(),
                excerpt: String::new(),
            },
            ApiError::Cancelled,
        ];
        for e in &not_retried {
            assert!(!is_retryable(e, NotIdempotent), "{e:?}");
        }
        for e in &not_retried[..2] {
            assert!(server_may_have_acted(e), "{e:?}");
        }
    }

    #[test]
    fn delete_retries_transient_failures() {
        for e in [
            ApiError::RateLimited { retry_after: None },
            status(500),
            status(502),
            status(503),
            status(504),
            status(408),
            ApiError::Timeout {
                after: Duration::from_secs(1),
            },
            connection(true),
            connection(false),
        ] {
            assert!(is_retryable(&e, Idempotent), "{e:?}");
        }
    }

    #[test]
    fn client_errors_are_never_retried_and_mean_nothing_happened() {
        for e in [
            ApiError::Unauthorized {
                detail: None,
                origin: None,
            },
            ApiError::Forbidden { detail: None },
            ApiError::NotFound {
                detail: None,
                url: String::new(),
            },
            ApiError::Validation { problems: vec![] },
            status(400),
            status(409),
            status(301),
            ApiError::InvalidInput {
                problem: String::new(),
            },
        ] {
            assert!(!is_retryable(&e, Idempotent), "{e:?}");
            assert!(!is_retryable(&e, NotIdempotent), "{e:?}");
            assert!(!server_may_have_acted(&e), "{e:?}");
        }
    }

    #[test]
    fn retry_after_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("3600", now), Some(RETRY_AFTER_CAP));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(RETRY_AFTER_CAP)
        );
        for bad in ["", "-1", "1.5", "soon", "7s"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 09:49:37 GMT", now),
            Some(RETRY_AFTER_CAP)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("Sunday, 31-Feb-94 25:00:00", now), None);
    }

    #[test]
    fn backoff_stays_within_its_exponential_ceiling() {
        let mut rng = rand::rng();
        for retry in 0..40 {
            let ceiling = (BACKOFF_BASE * 2u32.saturating_pow(retry.min(20))).min(BACKOFF_CAP);
            for _ in 0..200 {
                let d = backoff(retry, &mut rng);
                assert!(d <= ceiling, "retry {retry}: {d:?} > {ceiling:?}");
            }
        }
        assert!(backoff(u32::MAX, &mut rng) <= BACKOFF_CAP);
    }

    #[test]
    fn backoff_is_jittered() {
        let mut rng = rand::rng();
        let samples: Vec<_> = (0..50).map(|_| backoff(5, &mut rng)).collect();
        assert!(samples.iter().any(|d| *d != samples[0]));
    }

    #[test]
    fn retry_after_wins_over_backoff() {
        let mut rng = rand::rng();
        let wait = Some(Duration::from_secs(3));
        assert_eq!(
            delay_before_retry(0, wait, &mut rng),
            Duration::from_secs(3)
        );
        assert_eq!(
            delay_before_retry(0, Some(Duration::from_secs(600)), &mut rng),
            RETRY_AFTER_CAP
        );
        assert!(delay_before_retry(0, None, &mut rng) <= BACKOFF_BASE);
    }
}
