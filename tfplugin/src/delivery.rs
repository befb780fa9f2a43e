//! Whether a call's answer reached Terraform. Terraform can be killed, or
//! hang up, after the provider acted and before it took the answer; a
//! provider that keeps a journal of what it did needs to know which of its
//! outcomes Terraform has (settled) and which it never will.

use std::sync::{Arc, Mutex, PoisonError};

type Hook = Box<dyn FnOnce(bool) + Send>;

/// The hooks of one call, run once its answer was handed over (`true`) or
/// could not be (`false`). Only calls that change something report this:
/// applies and action invocations; elsewhere the hooks are dropped unrun.
#[derive(Clone, Default)]
pub struct Delivery(Arc<Mutex<Vec<Hook>>>);

impl Delivery {
    /// Runs `hook` with whether this call's answer reached Terraform.
    pub fn on_delivery(&self, hook: impl FnOnce(bool) + Send + 'static) {
        self.hooks().push(Box::new(hook));
    }

    /// Runs every hook registered so far.
    pub(crate) fn settle(&self, delivered: bool) {
        let hooks = std::mem::take(&mut *self.hooks());
        for hook in hooks {
            hook(delivered);
        }
    }

    fn hooks(&self) -> std::sync::MutexGuard<'_, Vec<Hook>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("hooks", &self.hooks().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU8, Ordering};

    #[test]
    fn hooks_run_once_with_the_outcome() {
        let delivery = Delivery::default();
        let seen = Arc::new(AtomicU8::new(0));
        let counter = seen.clone();
        delivery.on_delivery(move |delivered| {
            counter.fetch_add(if delivered { 1 } else { 10 }, Ordering::SeqCst);
        });
        delivery.clone().settle(true);
        delivery.settle(false);
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
