//! One operation as its code sees it: begun with what is about to be sent,
//! then each outcome as it comes.

use super::{Entry, Event, Journal, new_op};

/// The journal entries of one operation. Writing is best effort: a journal
/// that cannot be written (no HOME, a read-only disk) must not stop the
/// work it records, so a failure is logged and the operation goes on, as
/// it did before there was a journal.
#[derive(Debug, Clone)]
pub struct Operation {
    journal: Option<Journal>,
    op: String,
}

impl Operation {
    /// Records `sent` in this environment's journal, before the request.
    pub fn begin(sent: Event) -> Operation {
        Operation::begin_in(Journal::from_env(), sent)
    }

    pub fn begin_in(journal: Option<Journal>, sent: Event) -> Operation {
        let operation = Operation {
            journal,
            op: new_op(),
        };
        operation.record(sent);
        operation
    }

    /// Continues an operation a journal already holds (one a later run
    /// acts on).
    pub fn resume(journal: Journal, op: &str) -> Operation {
        Operation {
            journal: Some(journal),
            op: op.to_owned(),
        }
    }

    pub fn id(&self) -> &str {
        &self.op
    }

    pub fn record(&self, event: Event) {
        let Some(journal) = &self.journal else {
            tracing::warn!(
                "no journal (set HOME, XDG_STATE_HOME or PARALLEL_RECOVERY_FILE): \
                 an interrupted run cannot be recovered from"
            );
            return;
        };
        if let Err(err) = journal.append(&Entry::now(&self.op, event)) {
            tracing::warn!(
                path = %journal.path().display(),
                "cannot write the journal: {err}; an interrupted run cannot be recovered from"
            );
        }
    }
}
