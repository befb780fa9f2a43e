//! A time limit for one operation, retries and waits included, that also
//! gives up when Terraform asks the provider to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A cancellation token that fires on Ctrl-C (StopProvider) or when the
/// operation's time limit passes, whichever comes first. It remembers its
/// limit, so that a timeout's message can name it.
pub struct Deadline {
    token: CancellationToken,
    limit: Duration,
    /// Set by the timer before it cancels the token, so that whoever wakes
    /// on the token already sees why.
    expired: Arc<AtomicBool>,
    timer: tokio::task::JoinHandle<()>,
}

impl Deadline {
    pub fn start(stop: &CancellationToken, limit: Duration) -> Self {
        let token = stop.child_token();
        let expire = token.clone();
        let expired = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&expired);
        let timer = tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            flag.store(true, Ordering::Release);
            expire.cancel();
        });
        Deadline {
            token,
            limit,
            expired,
            timer,
        }
    }

    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// The time limit it was started with.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Whether it was the time limit that fired.
    pub fn timed_out(&self) -> bool {
        self.expired.load(Ordering::Acquire)
    }

    /// The limit, if it is what fired: what a timeout's message names.
    pub fn timed_out_after(&self) -> Option<Duration> {
        self.timed_out().then_some(self.limit)
    }
}

impl Drop for Deadline {
    /// However the operation ends, its timer goes with it.
    fn drop(&mut self) {
        self.timer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_limit_fires_the_token_and_says_so() {
        let stop = CancellationToken::new();
        let deadline = Deadline::start(&stop, Duration::from_millis(5));
        deadline.token().cancelled().await;
        // The flag is set before the token fires: no wait, and no busy loop
        // that would hang instead of failing.
        assert!(deadline.timed_out(), "woken by the limit, it must say so");
        assert_eq!(deadline.timed_out_after(), Some(Duration::from_millis(5)));
        assert!(!stop.is_cancelled(), "the limit must not stop other work");
    }

    #[tokio::test]
    async fn a_stop_fires_the_token_but_is_no_timeout() {
        let stop = CancellationToken::new();
        let deadline = Deadline::start(&stop, Duration::from_secs(3600));
        stop.cancel();
        assert!(deadline.token().is_cancelled());
        assert!(!deadline.timed_out());
        assert_eq!(deadline.timed_out_after(), None);
        assert_eq!(deadline.limit(), Duration::from_secs(3600));
    }
}
