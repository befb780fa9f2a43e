//! Everything that can stop a measurement, as values.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{label} did not finish within {}s and was killed", after.as_secs())]
    Timeout { label: String, after: Duration },
    #[error("interrupted")]
    Interrupted,
    #[error("the benchmark's time limit (--max-minutes) was reached")]
    OutOfTime,
    #[error("{label} failed ({status}); last output:\n{tail}")]
    CommandFailed {
        label: String,
        status: String,
        tail: String,
    },
    #[error("emulator: {0}")]
    Emulator(String),
    #[error("HTTP {method} {path}: {reason}")]
    Http {
        method: &'static str,
        path: String,
        reason: String,
    },
    #[error("{what} is missing: {path}")]
    Missing { what: &'static str, path: PathBuf },
    #[error("invalid arguments: {0}")]
    Usage(String),
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("plot: {0}")]
    Plot(String),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unexpected result: {0}")]
    Unexpected(String),
}

pub type Result<T, E = BenchError> = std::result::Result<T, E>;

/// Adds a sentence of context to an I/O error, so a failure says which file
/// or process it was about.
pub trait IoContext<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| BenchError::Io {
            context: context(),
            source,
        })
    }
}
