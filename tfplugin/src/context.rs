//! What every call to a provider's object can see of its surroundings: the
//! stop signal and the provider's configured data. Its own module because
//! every kind of object (framework.rs, list.rs, action.rs) takes it.

use super::delivery::Delivery;
use super::diag::{Diagnostic, Diagnostics};
use super::lifecycle::KeepAlive;
use super::notices::Notices;
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What a provider's configuration produced (typically its API client),
/// handed by the framework to every object it calls afterwards, as
/// terraform-plugin-framework's `ProviderData` is.
pub type ProviderData = Arc<dyn Any + Send + Sync>;

/// What every call can see of its surroundings.
#[derive(Clone, Default)]
pub struct Context {
    /// Fires when Terraform asks the provider to stop (Ctrl-C): long waits
    /// and requests should give up promptly.
    pub cancel: CancellationToken,
    /// The provider's configured data, once `Provider::configure` has
    /// given it.
    pub provider_data: Option<ProviderData>,
    /// Where work that must outlive this call runs (a refresh already
    /// sent, whose rotated tokens must be saved).
    pub keep_alive: KeepAlive,
    /// Warnings no single call owns, shown with the next answer.
    pub notices: Notices,
    /// Hooks told whether this call's answer reached Terraform (applies
    /// and action invocations; see [`Delivery`]).
    pub delivery: Delivery,
}

impl Context {
    /// The provider's configured data as the type the provider gave. An
    /// error diagnostic when the provider is not configured, which happens
    /// when its configuration was not known yet (it depends on a resource
    /// that is not created).
    pub fn provider_data<T: Any + Send + Sync>(&self) -> Result<&T, Diagnostics> {
        self.provider_data
            .as_deref()
            .and_then(|data| data.downcast_ref::<T>())
            .ok_or_else(|| {
                Diagnostic::error(
                    "Provider not configured",
                    "The provider's configuration was not known when this object needed it \
                     (for example, a provider argument depends on a resource that is not \
                     created yet). Make the provider configuration known before apply.",
                )
                .into()
            })
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("cancel", &self.cancel)
            .field("configured", &self.provider_data.is_some())
            .finish()
    }
}
