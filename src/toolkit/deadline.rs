//! A time limit for one operation, retries and waits included, that also
//! gives up when Terraform asks the provider to stop.

use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A cancellation token that fires on Ctrl-C (StopProvider) or when the
/// operation's time limit passes, whichever comes first.
pub struct Deadline {
    token: CancellationToken,
    timer: tokio::task::JoinHandle<()>,
}

impl Deadline {
    pub fn start(stop: &CancellationToken, limit: Duration) -> Self {
        let token = stop.child_token();
        let expire = token.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            expire.cancel();
        });
        Deadline { token, timer }
    }

    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Whether it was the time limit that fired.
    pub fn timed_out(&self) -> bool {
        self.timer.is_finished()
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
        // The timer task ends right after it cancels.
        while !deadline.timed_out() {
            tokio::task::yield_now().await;
        }
        assert!(!stop.is_cancelled(), "the limit must not stop other work");
    }

    #[tokio::test]
    async fn a_stop_fires_the_token_but_is_no_timeout() {
        let stop = CancellationToken::new();
        let deadline = Deadline::start(&stop, Duration::from_secs(3600));
        stop.cancel();
        assert!(deadline.token().is_cancelled());
        assert!(!deadline.timed_out());
    }
}
