//! The Account API emulator as a child process, and its admin routes.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::{BenchError, IoContext, Result};
use crate::http;
use crate::process::Guarded;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
/// A path the emulator answers 404 to but still logs with its arrival time:
/// it ties the emulator's clock to ours.
const CLOCK_MARKER_PATH: &str = "/service/v1/_parallel_bench_clock";

/// The emulator's access token: handed to Terraform through the
/// environment, never printed.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// One API request as the emulator logged it, times in ms since it started.
#[derive(Debug, Clone, Deserialize)]
pub struct RequestRecord {
    #[serde(default)]
    pub method: String,
    pub path: String,
    /// None when the emulator sent no answer.
    pub status: Option<u16>,
    pub started_ms: f64,
    pub finished_ms: f64,
}

/// Where our clock stood when the emulator logged the marker request.
#[derive(Debug, Clone, Copy)]
pub struct ClockMarker {
    sent: Instant,
}

#[derive(Debug)]
pub struct Emulator {
    // Its Drop stops the process.
    process: Guarded,
    stderr_log: PathBuf,
    pub base_url: String,
    address: SocketAddr,
    pub token: Token,
}

#[derive(Deserialize)]
struct AppAnswer {
    app_id: String,
}

#[derive(Deserialize)]
struct KeyAnswer {
    // Only the owner is read: the raw key in the same object is never kept.
    app_id: String,
}

#[derive(Deserialize)]
struct StatsAnswer {
    max_concurrent_requests: usize,
}

impl Emulator {
    pub fn start(binary: &Path, stderr_log: &Path) -> Result<Emulator> {
        let stderr = std::fs::File::create(stderr_log)
            .context(|| format!("creating {}", stderr_log.display()))?;
        let mut command = Command::new(binary);
        command
            .args(["--seed-app", "bench"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut process = Guarded::spawn("parallel-emulator", &mut command)?;
        let stdout = process
            .child_mut()
            .stdout
            .take()
            .ok_or_else(|| BenchError::Emulator("no stdout pipe".into()))?;
        let (sender, receiver) = mpsc::channel();
        // A reader thread, so a silent emulator cannot block us past the
        // startup timeout. It reads every line the emulator announces (it
        // prints more than the three we need, PARALLEL_PLATFORM_URL among
        // them) and stops when we stop listening or the emulator ends.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let (mut base_url, mut token, mut app_id) = (None, None, None);
        while base_url.is_none() || token.is_none() || app_id.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match receiver.recv_timeout(left) {
                Ok(Ok(line)) => line,
                Ok(Err(e)) => return Err(BenchError::Emulator(format!("reading its output: {e}"))),
                Err(_) => {
                    let why = match process.exited() {
                        Some(status) => format!("exited ({status}) before announcing itself"),
                        None => format!("did not announce itself within {STARTUP_TIMEOUT:?}"),
                    };
                    return Err(BenchError::Emulator(format!(
                        "{why}; see {}",
                        stderr_log.display()
                    )));
                }
            };
            match line.trim_start_matches("export ").split_once('=') {
                Some(("PARALLEL_SERVICE_API_URL", v)) => base_url = Some(v.to_owned()),
                Some(("PARALLEL_ACCESS_TOKEN", v)) => token = Some(Token(v.to_owned())),
                Some(("PARALLEL_APP_ID", v)) => app_id = Some(v.to_owned()),
                _ => {}
            }
        }
        // The seeded app is not used: each run makes its own.
        let (Some(base_url), Some(token), Some(_seeded_app)) = (base_url, token, app_id) else {
            return Err(BenchError::Emulator("incomplete announcement".into()));
        };
        let address = base_url
            .strip_prefix("http://")
            .and_then(|hostport| hostport.trim_end_matches('/').parse().ok())
            .ok_or_else(|| BenchError::Emulator(format!("unexpected URL {base_url:?}")))?;
        Ok(Emulator {
            process,
            stderr_log: stderr_log.to_owned(),
            base_url,
            address,
            token,
        })
    }

    /// Why the emulator is gone, if it is: a request refused mid-run is
    /// then the emulator's doing (or whoever killed it), not the provider's.
    pub fn failure(&mut self) -> Option<String> {
        let status = self.process.exited()?;
        let output = std::fs::read_to_string(&self.stderr_log).unwrap_or_default();
        let skip = output.lines().count().saturating_sub(20);
        let tail: Vec<&str> = output.lines().skip(skip).collect();
        Some(format!(
            "the emulator process ended ({status}); its last stderr lines: {:?}",
            tail.join("\n")
        ))
    }

    fn call(&self, method: &'static str, path: &str, body: Option<&str>) -> Result<String> {
        let response = http::request(self.address, method, path, body)?;
        if response.status == 200 {
            Ok(response.body)
        } else {
            Err(BenchError::Http {
                method,
                path: path.to_owned(),
                reason: format!("status {}", response.status),
            })
        }
    }

    /// The emulator's CPU so far: on a shared machine the API's own work
    /// competes with Terraform and the provider.
    pub fn cpu_so_far(&self) -> Option<Duration> {
        crate::process::cpu_so_far(self.process.id())
    }

    pub fn set_latency(&self, latency: Duration) -> Result<()> {
        let body =
            serde_json::json!({ "ms": u64::try_from(latency.as_millis()).unwrap_or(u64::MAX) })
                .to_string();
        self.call("POST", "/_emulator/latency", Some(&body))
            .map(drop)
    }

    /// A fresh app, so each run's keys can be counted on their own.
    pub fn create_app(&self, name: &str) -> Result<String> {
        let body = serde_json::json!({ "app_name": name }).to_string();
        let answer: AppAnswer =
            serde_json::from_str(&self.call("POST", "/_emulator/apps", Some(&body))?)?;
        Ok(answer.app_id)
    }

    pub fn live_keys_of(&self, app_id: &str) -> Result<usize> {
        let keys: Vec<KeyAnswer> =
            serde_json::from_str(&self.call("GET", "/_emulator/keys", None)?)?;
        Ok(keys.iter().filter(|key| key.app_id == app_id).count())
    }

    /// Forgets the request log and the concurrency high-water mark.
    pub fn clear_requests(&self) -> Result<()> {
        self.call("DELETE", "/_emulator/requests", None).map(drop)
    }

    pub fn requests(&self) -> Result<Vec<RequestRecord>> {
        Ok(serde_json::from_str(&self.call(
            "GET",
            "/_emulator/requests",
            None,
        )?)?)
    }

    pub fn max_concurrent_requests(&self) -> Result<usize> {
        let stats: StatsAnswer =
            serde_json::from_str(&self.call("GET", "/_emulator/stats", None)?)?;
        Ok(stats.max_concurrent_requests)
    }

    /// Logs a marker request; `Timeline::new` later finds it in the log.
    pub fn mark_clock(&self) -> Result<ClockMarker> {
        let sent = Instant::now();
        let response = http::request(self.address, "GET", CLOCK_MARKER_PATH, None)?;
        if response.status != 404 {
            return Err(BenchError::Emulator(format!(
                "clock marker answered {}, expected 404",
                response.status
            )));
        }
        Ok(ClockMarker { sent })
    }
}

/// The API requests of one Terraform run, on the run's clock.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// (start, end) of each real API request, in seconds since Terraform
    /// was started, sorted by start.
    pub requests: Vec<(f64, f64)>,
    /// Requests answered with something other than 2xx, or not at all
    /// (retries show up here).
    pub unsuccessful: usize,
}

impl Timeline {
    /// `run_started` is when Terraform was spawned; the marker must have
    /// been logged shortly before.
    pub fn new(
        records: &[RequestRecord],
        marker: ClockMarker,
        run_started: Instant,
    ) -> Result<Timeline> {
        let marker_ms = records
            .iter()
            .find(|record| record.path == CLOCK_MARKER_PATH)
            .map(|record| record.started_ms)
            .ok_or_else(|| {
                BenchError::Emulator("clock marker missing from the request log".into())
            })?;
        // Seconds from Terraform's start back to the marker (usually < 0).
        let marker_at = signed_seconds(marker.sent, run_started);
        let to_run_clock = |ms: f64| marker_at + (ms - marker_ms) / 1e3;
        let mut requests: Vec<(f64, f64)> = records
            .iter()
            .filter(|record| record.path != CLOCK_MARKER_PATH)
            .map(|record| {
                (
                    to_run_clock(record.started_ms),
                    to_run_clock(record.finished_ms),
                )
            })
            .collect();
        requests.sort_by(|a, b| a.0.total_cmp(&b.0));
        let unsuccessful = records
            .iter()
            .filter(|record| record.path != CLOCK_MARKER_PATH)
            .filter(|record| !record.status.is_some_and(|code| (200..300).contains(&code)))
            .count();
        Ok(Timeline {
            requests,
            unsuccessful,
        })
    }

    pub fn first_start(&self) -> Option<f64> {
        self.requests.first().map(|r| r.0)
    }

    pub fn last_end(&self) -> Option<f64> {
        self.requests.iter().map(|r| r.1).max_by(f64::total_cmp)
    }

    /// Mean number of requests in flight between the first start and the
    /// last end: how well the parallelism slots were used.
    pub fn mean_concurrency(&self) -> Option<f64> {
        let window = self.last_end()? - self.first_start()?;
        if window <= 0.0 {
            return None;
        }
        let busy: f64 = self.requests.iter().map(|(start, end)| end - start).sum();
        Some(busy / window)
    }
}

/// `a - b` in seconds, negative when `a` is earlier.
fn signed_seconds(a: Instant, b: Instant) -> f64 {
    match a.checked_duration_since(b) {
        Some(after) => after.as_secs_f64(),
        None => -b.saturating_duration_since(a).as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str, started_ms: f64, finished_ms: f64) -> RequestRecord {
        RequestRecord {
            method: "GET".into(),
            path: path.into(),
            status: Some(200),
            started_ms,
            finished_ms,
        }
    }

    #[test]
    fn token_debug_is_redacted() {
        let token = Token("emu-secret".into());
        assert!(!format!("{token:?}").contains("secret"));
    }

    #[test]
    fn timeline_is_put_on_the_run_clock() {
        let now = Instant::now();
        let marker = ClockMarker { sent: now };
        let run_started = now + Duration::from_millis(100);
        let records = [
            record(CLOCK_MARKER_PATH, 1000.0, 1000.5),
            record("/service/v1/apps/x/keys", 1600.0, 1650.0),
            record("/service/v1/apps/x/keys", 1300.0, 1350.0),
        ];
        let timeline = Timeline::new(&records, marker, run_started).expect("timeline");
        assert_eq!(timeline.requests.len(), 2);
        assert_eq!(timeline.unsuccessful, 0);
        let first = timeline.first_start().expect("first");
        assert!((first - 0.2).abs() < 1e-9, "{first}");
        let last = timeline.last_end().expect("last");
        assert!((last - 0.55).abs() < 1e-9, "{last}");
        let concurrency = timeline.mean_concurrency().expect("concurrency");
        assert!((concurrency - 0.1 / 0.35).abs() < 1e-9);
    }

    #[test]
    fn a_log_without_the_marker_is_an_error() {
        let records = [record("/service/v1/apps", 1.0, 2.0)];
        let now = Instant::now();
        assert!(Timeline::new(&records, ClockMarker { sent: now }, now).is_err());
    }
}
