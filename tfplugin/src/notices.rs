//! Warnings no single call owns. Some work is shared by the calls that
//! happen to need it (a saved login refreshed once for every request that
//! found its token expired); when such work has something to tell the
//! user, the provider pushes it here, and the framework adds it to the
//! answer of the next call that returns diagnostics, exactly once. A
//! TRACE line alone would go unseen.

use super::diag::Diagnostic;
use super::proto::tfplugin6 as pb;
use std::sync::{Arc, Mutex, PoisonError};

/// Warnings waiting for an answer to ride on; cheap to clone.
#[derive(Clone, Default)]
pub struct Notices(Arc<Mutex<Vec<Diagnostic>>>);

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Notices").field(&self.pending()).finish()
    }
}

impl Notices {
    /// Queues `diagnostic` for the next answer.
    pub fn push(&self, diagnostic: Diagnostic) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(diagnostic);
    }

    /// How many are waiting.
    pub fn pending(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Takes every waiting notice, in the order pushed.
    pub fn take(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// An answer with a diagnostics list a notice can join.
pub(crate) trait CarriesDiagnostics {
    fn diagnostics_mut(&mut self) -> &mut Vec<pb::Diagnostic>;
}

macro_rules! carries_diagnostics {
    ($($response:ty),* $(,)?) => {$(
        impl CarriesDiagnostics for $response {
            fn diagnostics_mut(&mut self) -> &mut Vec<pb::Diagnostic> {
                &mut self.diagnostics
            }
        }
    )*};
}

carries_diagnostics!(
    pb::configure_provider::Response,
    pb::read_resource::Response,
    pb::plan_resource_change::Response,
    pb::apply_resource_change::Response,
    pb::import_resource_state::Response,
    pb::read_data_source::Response,
    pb::open_ephemeral_resource::Response,
    pb::renew_ephemeral_resource::Response,
    pb::close_ephemeral_resource::Response,
);

/// `answer` with every waiting notice added.
pub(crate) fn deliver<R: CarriesDiagnostics>(notices: &Notices, mut answer: R) -> R {
    answer
        .diagnostics_mut()
        .extend(notices.take().iter().map(Diagnostic::to_proto));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_rides_on_the_next_answer_once() {
        let notices = Notices::default();
        notices.push(Diagnostic::warning("Saved login not saved", "why"));
        assert_eq!(notices.pending(), 1);
        let first = deliver(&notices, pb::read_resource::Response::default());
        assert_eq!(first.diagnostics.len(), 1);
        assert_eq!(first.diagnostics[0].summary, "Saved login not saved");
        let second = deliver(&notices, pb::read_resource::Response::default());
        assert!(second.diagnostics.is_empty());
    }
}
