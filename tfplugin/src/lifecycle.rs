//! Shutdown and stop: two different things in go-plugin. Shutdown (from
//! GRPCController) ends the process; StopProvider only cancels work in
//! flight, and the server keeps serving.

use std::sync::{Arc, Mutex, PoisonError};
use tokio_util::sync::CancellationToken;

/// The cancellation token handed to each call. StopProvider cancels the
/// current one and installs a fresh one, so calls made after a stop are not
/// born cancelled.
#[derive(Clone, Default)]
pub struct StopSignal(Arc<Mutex<CancellationToken>>);

impl StopSignal {
    pub fn current(&self) -> CancellationToken {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn stop(&self) {
        let mut token = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        token.cancel();
        *token = CancellationToken::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_cancels_work_in_flight_but_not_later_work() {
        let stop = StopSignal::default();
        let in_flight = stop.current();
        stop.stop();
        assert!(in_flight.is_cancelled());
        assert!(!stop.current().is_cancelled());
    }
}
