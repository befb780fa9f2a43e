//! The panic guard: a bug in provider code becomes an error diagnostic
//! instead of a crashed plugin, which would make Terraform lose track of
//! every operation in flight.

use crate::diag::{Diagnostic, Diagnostics};
use futures_util::FutureExt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};

fn internal_error(what: &str) -> Diagnostics {
    tracing::error!(operation = what, "provider code panicked");
    Diagnostic::error(
        "Provider internal error",
        format!(
            "The provider failed unexpectedly during {what}. Please report this bug; run with \
             TF_LOG=DEBUG for details."
        ),
    )
    .into()
}

/// Runs asynchronous provider code behind the guard.
pub(super) async fn guarded<T>(
    what: &str,
    future: impl Future<Output = T>,
    on_panic: impl FnOnce(Diagnostics) -> T,
) -> T {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(_) => on_panic(internal_error(what)),
    }
}

/// Runs synchronous provider code (validation, plan changes, upgrades)
/// behind the guard.
pub(super) fn guarded_sync<T>(
    what: &str,
    run: impl FnOnce() -> T,
    on_panic: impl FnOnce(Diagnostics) -> T,
) -> T {
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(result) => result,
        Err(_) => on_panic(internal_error(what)),
    }
}
