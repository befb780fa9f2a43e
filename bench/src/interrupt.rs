//! Ctrl-C, SIGTERM and SIGHUP become a flag instead of killing the process,
//! so every wait notices it, returns an error, and the normal unwinding
//! kills the emulator and Terraform and removes the scratch directory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::{BenchError, IoContext, Result};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

pub fn install() -> Result<()> {
    let flag = FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, Arc::clone(flag))
            .context(|| format!("installing a handler for signal {signal}"))?;
    }
    Ok(())
}

pub fn requested() -> bool {
    FLAG.get().is_some_and(|flag| flag.load(Ordering::SeqCst))
}

/// `Err(Interrupted)` once a signal has arrived.
pub fn check() -> Result<()> {
    if requested() {
        Err(BenchError::Interrupted)
    } else {
        Ok(())
    }
}
