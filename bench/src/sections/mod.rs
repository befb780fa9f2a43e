//! The measurements. Each takes the shared `Bench` and returns a
//! report that renders a table and lists its targets.

pub mod footprint;
pub mod instructions;
pub mod latency;
pub mod profile;
pub mod refresh;
pub mod scaling;
pub mod variants;
pub mod verbs;

use std::fmt::Display;
use std::path::PathBuf;

use crate::emulator::Emulator;
use crate::error::Result;
use crate::options::Options;
use crate::terraform::Harness;

/// What every section runs against.
pub struct Bench {
    pub options: Options,
    pub harness: Harness,
    pub emulator: Emulator,
    pub scratch: PathBuf,
    pub provider_binary: PathBuf,
    pub emulator_binary: PathBuf,
    pub emulator_restarts: usize,
}

impl Bench {
    /// Starts a new emulator if the current one has ended, so one lost
    /// emulator costs one section, not the rest of the benchmark. Returns
    /// why the old one ended.
    pub fn revive_emulator(&mut self) -> Result<Option<String>> {
        let Some(why) = self.emulator.failure() else {
            return Ok(None);
        };
        self.emulator_restarts += 1;
        let log = self
            .scratch
            .join(format!("emulator-{}.err", self.emulator_restarts));
        self.emulator = Emulator::start(&self.emulator_binary, &log)?;
        self.harness
            .set_api(&self.emulator.base_url, &self.emulator.token);
        Ok(Some(why))
    }
}

/// One line of progress on stderr, so stdout holds only the report.
pub fn progress(section: &str, message: impl Display) {
    eprintln!("[{section}] {message}");
}
