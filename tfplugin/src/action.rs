//! Actions (protocol 6.10, Terraform 1.14): operations outside the
//! create/read/update/delete life of a resource, invoked by
//! `terraform apply -invoke=action.TYPE.NAME` or by a resource's
//! `action_trigger`. An action reports progress while it runs and ends
//! with its diagnostics.

use super::context::Context;
use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;
use async_trait::async_trait;
use tokio::sync::mpsc;

/// Progress messages of a running action, shown by Terraform as they come.
pub struct Progress {
    messages: mpsc::Sender<String>,
}

impl Progress {
    pub(crate) fn new(messages: mpsc::Sender<String>) -> Self {
        Progress { messages }
    }

    /// Reports one step. A Terraform that has gone away is no reason to
    /// fail, so this never errors; the context's cancellation tells the
    /// action to stop.
    pub async fn report(&self, message: impl Into<String>) {
        let _ = self.messages.send(message.into()).await;
    }
}

/// An action type: one operation, configured by an `action` block and run
/// when Terraform invokes it.
#[async_trait]
pub trait Action: Send + Sync + 'static {
    /// The action type name, prefixed like a resource's.
    fn type_name(&self) -> &'static str;

    /// The schema of the action's `config` block.
    fn schema(&self) -> Schema;

    /// Offline checks of a configuration: values may still be unknown.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Checks before the apply that invokes the action, with the config as
    /// planned. The framework has already deferred or refused a config
    /// with unknown values, so every value here is known.
    fn plan(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Does the work. Errors returned end the invocation as failed.
    async fn invoke(&self, ctx: &Context, config: &Value, progress: &Progress) -> Diagnostics;
}
