//! Shutdown and stop: two different things in go-plugin. Shutdown (from
//! GRPCController) ends the process; StopProvider only cancels work in
//! flight, and the server keeps serving.
//!
//! And a third, which go-plugin has no message for: Terraform killed
//! (SIGKILL, a second Ctrl-C) sends nothing at all. Its connection closes,
//! which cuts off every call on it, and nobody ever tells the plugin to
//! exit. [`Lifeline`] is how the server survives that: calls that act on
//! the world run detached from their connection, the parent watch notices
//! Terraform is gone, and the server then lets those calls finish (within a
//! grace period) before it exits.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The cancellation token handed to each call. StopProvider cancels the
/// current one and installs a fresh one, so calls made after a stop are not
/// born cancelled.
#[derive(Clone, Default)]
pub struct StopSignal(Arc<Mutex<CancellationToken>>);

impl StopSignal {
    /// The token calls started now should watch.
    pub fn current(&self) -> CancellationToken {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Cancels the current token and installs a fresh one.
    pub fn stop(&self) {
        let mut token = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        token.cancel();
        *token = CancellationToken::new();
    }
}

/// How often the parent watch looks. A create's answer takes up to
/// `request_timeout` anyway; a quarter second adds little to that and costs
/// one getppid() per tick.
pub const PARENT_POLL: Duration = Duration::from_millis(250);

/// Whether Terraform is still there to take answers, and the calls that
/// must outlive their connection because they act on the world (an apply
/// whose answer is the only record of what it created).
#[derive(Clone, Default)]
pub struct Lifeline {
    gone: CancellationToken,
    in_flight: TaskTracker,
}

impl Lifeline {
    /// Terraform is gone: no answer will reach it any more.
    pub fn mark_gone(&self) {
        self.gone.cancel();
    }

    /// Whether Terraform is gone (see [`Lifeline::mark_gone`]).
    pub fn is_gone(&self) -> bool {
        self.gone.is_cancelled()
    }

    /// Completes once Terraform is gone.
    pub async fn gone(&self) {
        self.gone.cancelled().await;
    }

    /// Runs `work` on its own task, so that a connection closing under it
    /// (which drops the call's future) does not cut it off; [`Self::drain`]
    /// waits for it.
    pub fn detach<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.in_flight.spawn(work));
    }

    /// Waits up to `grace` for every detached call to finish (one detached
    /// meanwhile included), and says whether they all did.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.in_flight.close();
        let drained = tokio::time::timeout(grace, self.in_flight.wait()).await;
        drained.is_ok()
    }

    /// Calls still running.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Where work that must outlive its call runs (see [`KeepAlive`]).
    pub fn keep_alive(&self) -> KeepAlive {
        KeepAlive(self.in_flight.clone())
    }
}

/// Work that must reach its end even when the call that started it is
/// dropped (its connection closed, Terraform killed, a deadline passed):
/// it runs on its own task, which the server waits for before the process
/// exits, as for a detached apply. The caller awaits the handle, and gets
/// the result when it is still there to take it. A default one (outside a
/// server, in tests) runs the work the same way, but nothing waits for it.
#[derive(Clone, Default)]
pub struct KeepAlive(TaskTracker);

impl KeepAlive {
    /// Runs `work` on its own task and hands back its handle.
    pub fn spawn<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(work)
    }
}

/// Marks Terraform gone when the process that started us has exited, which
/// the kernel shows by giving us another parent (init, or a subreaper).
/// A parent-PID watch rather than PR_SET_PDEATHSIG: that signal would kill
/// the plugin at once, in the middle of the calls it should finish, and it
/// fires when the parent *thread* exits, which in a Go program is any OS
/// thread of the runtime.
pub fn watch_parent(
    lifeline: Lifeline,
    parent_now: impl Fn() -> u32 + Send + 'static,
    every: Duration,
) {
    let parent = parent_now();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = parent_now();
            if now != parent {
                tracing::warn!(
                    parent,
                    now,
                    "Terraform (the parent process) is gone; finishing calls in flight, then exiting"
                );
                lifeline.mark_gone();
                return;
            }
        }
    });
}

/// Terraform gone: cancel what can be cancelled (waits, retries; a request
/// already sent runs to its answer) and end the server, as a Shutdown
/// would.
pub async fn end_when_gone(lifeline: Lifeline, stop: StopSignal, shutdown: CancellationToken) {
    tokio::select! {
        () = lifeline.gone() => {
            stop.stop();
            shutdown.cancel();
        }
        () = shutdown.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_new_parent_means_terraform_is_gone() {
        let parent = Arc::new(AtomicU32::new(4242));
        let lifeline = Lifeline::default();
        let reading = parent.clone();
        watch_parent(
            lifeline.clone(),
            move || reading.load(Ordering::SeqCst),
            Duration::from_millis(5),
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!lifeline.is_gone(), "the same parent: Terraform is there");
        parent.store(1, Ordering::SeqCst);
        tokio::time::timeout(Duration::from_secs(5), lifeline.gone())
            .await
            .expect("the watch notices the new parent");
    }

    #[tokio::test]
    async fn drain_waits_for_detached_calls_but_not_beyond_the_grace() {
        let lifeline = Lifeline::default();
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        let done = Arc::new(AtomicU32::new(0));
        let counter = done.clone();
        lifeline.detach(async move {
            let _ = finished.await;
            counter.store(1, Ordering::SeqCst);
        });
        assert_eq!(lifeline.in_flight(), 1);
        assert!(!lifeline.drain(Duration::from_millis(20)).await);
        let _ = finish.send(());
        assert!(lifeline.drain(Duration::from_secs(5)).await);
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn kept_alive_work_outlives_its_caller_and_is_drained() {
        let lifeline = Lifeline::default();
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        let handle = lifeline.keep_alive().spawn(async move {
            let _ = finished.await;
            7
        });
        // The caller gives up (its future dropped): the work runs on.
        drop(handle);
        assert_eq!(lifeline.in_flight(), 1);
        assert!(!lifeline.drain(Duration::from_millis(20)).await);
        let _ = finish.send(());
        assert!(lifeline.drain(Duration::from_secs(5)).await);
        let answered = lifeline.keep_alive().spawn(async { 7 }).await;
        assert_eq!(answered.ok(), Some(7));
    }

    #[test]
    fn stop_cancels_work_in_flight_but_not_later_work() {
        let stop = StopSignal::default();
        let in_flight = stop.current();
        stop.stop();
        assert!(in_flight.is_cancelled());
        assert!(!stop.current().is_cancelled());
    }
}
