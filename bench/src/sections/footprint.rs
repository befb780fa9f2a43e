//! Section 4: the provider process itself: start-up to handshake, peak
//! memory over a large apply, and binary size.

use std::process::{Command, Stdio};

use serde::Serialize;

use super::{Bench, progress};
use crate::error::{BenchError, IoContext, Result};
use crate::report::{self, Target};
use crate::rss;
use crate::stats::Summary;
use crate::terraform::{Launch, Series, Verb};
use crate::{handshake, interrupt};

const TARGET_HANDSHAKE_MS: f64 = 10.0;
const TARGET_RSS_MB: f64 = 20.0;
const TARGET_SIZE_MB: f64 = 15.0;
/// Decimal megabytes: the stricter reading of "MB".
const MB: f64 = 1e6;

#[derive(Debug, Serialize)]
pub struct FootprintReport {
    pub handshake_ms: Option<Summary>,
    pub handshake_error: Option<String>,
    pub rss_n: usize,
    /// Peak RSS of each provider process Terraform launched during the apply.
    pub rss_peaks_kib: Vec<u64>,
    pub rss_apply_s: Option<f64>,
    pub rss_error: Option<String>,
    pub binary_bytes: u64,
    /// After `strip --strip-all`, when strip is installed.
    pub stripped_bytes: Option<u64>,
}

pub fn run(bench: &mut Bench) -> Result<FootprintReport> {
    let count = bench.options.handshake_count;
    let sockets = bench.scratch.join("sockets");
    std::fs::create_dir_all(&sockets).context(|| format!("creating {}", sockets.display()))?;
    let (handshake_ms, handshake_error) =
        match handshake::measure(&bench.provider_binary, &sockets, count) {
            Ok(samples) => {
                let ms: Vec<f64> = samples.values.iter().map(|s| s * 1e3).collect();
                let summary = crate::stats::Samples { values: ms }.summary();
                progress(
                    "process",
                    format!(
                        "handshake: median {:.2} ms of {count}",
                        summary.median.unwrap_or(f64::NAN)
                    ),
                );
                (Some(summary), None)
            }
            Err(BenchError::Interrupted) => return Err(BenchError::Interrupted),
            Err(e) => (None, Some(e.to_string())),
        };

    let rss_n = bench.options.rss_n;
    let (rss_peaks_kib, rss_apply_s, rss_error) = match peak_rss(bench, rss_n) {
        Ok((peaks, seconds)) => (peaks, Some(seconds), None),
        Err(BenchError::Interrupted) => return Err(BenchError::Interrupted),
        Err(e) => (Vec::new(), None, Some(e.to_string())),
    };
    interrupt::check()?;

    let binary_bytes = std::fs::metadata(&bench.provider_binary)
        .context(|| format!("reading {}", bench.provider_binary.display()))?
        .len();
    let stripped_bytes = stripped_size(bench)?;
    Ok(FootprintReport {
        handshake_ms,
        handshake_error,
        rss_n,
        rss_peaks_kib,
        rss_apply_s,
        rss_error,
        binary_bytes,
        stripped_bytes,
    })
}

fn peak_rss(bench: &mut Bench, n: usize) -> Result<(Vec<u64>, f64)> {
    let rss_dir = bench.harness.rss_dir();
    rss::clear(&rss_dir)?;
    let app_id = bench.emulator.create_app("bench-rss")?;
    let dir = bench.harness.workdir(Series::Provider, n, &app_id, "rss")?;
    let outcome = bench.harness.run(&dir, Verb::Apply, Launch::MeasuringRss)?;
    let peaks = rss::collected(&rss_dir)?;
    if peaks.is_empty() {
        return Err(BenchError::Unexpected(
            "the RSS wrapper recorded no provider process".into(),
        ));
    }
    progress(
        "process",
        format!(
            "apply x{n} through the RSS wrapper: {:.2} s, {} provider process(es), peak {} KiB",
            outcome.seconds(),
            peaks.len(),
            peaks.iter().max().copied().unwrap_or_default()
        ),
    );
    Ok((peaks, outcome.seconds()))
}

/// The size a release would ship: strip a copy, so the measurement does not
/// depend on the profile's `strip` setting.
fn stripped_size(bench: &Bench) -> Result<Option<u64>> {
    let copy = bench.scratch.join("provider-stripped");
    std::fs::copy(&bench.provider_binary, &copy)
        .context(|| format!("copying to {}", copy.display()))?;
    let stripped = Command::new("strip")
        .arg("--strip-all")
        .arg(&copy)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !stripped {
        return Ok(None);
    }
    let bytes = std::fs::metadata(&copy)
        .context(|| format!("reading {}", copy.display()))?
        .len();
    Ok(Some(bytes))
}

impl FootprintReport {
    fn peak_rss_mb(&self) -> Option<f64> {
        self.rss_peaks_kib
            .iter()
            .max()
            .map(|kib| *kib as f64 * 1024.0 / MB)
    }

    fn size_mb(&self) -> f64 {
        self.stripped_bytes.unwrap_or(self.binary_bytes) as f64 / MB
    }

    pub fn targets(&self) -> Vec<Target> {
        vec![
            Target::at_most(
                "provider start-up: exec to handshake (median)",
                self.handshake_ms.as_ref().and_then(|s| s.median),
                TARGET_HANDSHAKE_MS,
                "ms",
            ),
            Target::at_most(
                format!("provider peak RSS over apply x{}", self.rss_n),
                self.peak_rss_mb(),
                TARGET_RSS_MB,
                "MB",
            ),
            Target::at_most(
                "provider binary size, stripped",
                Some(self.size_mb()),
                TARGET_SIZE_MB,
                "MB",
            ),
        ]
    }

    pub fn render(&self) -> String {
        let handshake = match (&self.handshake_ms, &self.handshake_error) {
            (Some(s), _) => format!(
                "median {}, min {}, max {} ({} launches)",
                opt_ms(s.median),
                opt_ms(s.min),
                opt_ms(s.max),
                s.samples.len()
            ),
            (None, Some(e)) => format!("failed: {e}"),
            (None, None) => "not measured".into(),
        };
        let rss = match (&self.peak_rss_mb(), &self.rss_error) {
            (Some(mb), _) => format!(
                "{} peak of {} provider process(es) (each: {}); the apply took {}",
                report::number(*mb, "MB"),
                self.rss_peaks_kib.len(),
                self.rss_peaks_kib
                    .iter()
                    .map(|kib| format!("{:.1} MB", *kib as f64 * 1024.0 / MB))
                    .collect::<Vec<_>>()
                    .join(", "),
                report::seconds(self.rss_apply_s),
            ),
            (None, Some(e)) => format!("failed: {e}"),
            (None, None) => "not measured".into(),
        };
        let size = match self.stripped_bytes {
            Some(stripped) => format!(
                "{:.2} MB as built, {:.2} MB after strip --strip-all",
                self.binary_bytes as f64 / MB,
                stripped as f64 / MB
            ),
            None => format!(
                "{:.2} MB as built (strip not available)",
                self.binary_bytes as f64 / MB
            ),
        };
        format!(
            "4. Provider process (1 MB = 10^6 bytes)\n{}",
            report::table(
                &["measure", "value"],
                &[
                    vec!["exec → handshake line".into(), handshake],
                    vec![format!("peak RSS, apply x{}", self.rss_n), rss],
                    vec!["release binary".into(), size],
                ],
            )
        )
    }
}

fn opt_ms(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.2} ms"))
}
