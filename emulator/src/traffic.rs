//! What the emulator received: a log of requests and the high-water mark of
//! requests in flight, which tests use to check retries and parallelism.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Method;
use serde::Serialize;

use crate::locking::lock;

/// One request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: Method,
    /// Path without the query string, e.g. `/service/v1/apps/{id}/keys`.
    pub path: String,
    /// `None` when no response was sent: the connection was dropped by a
    /// fault or the client went away first.
    pub status: Option<u16>,
    /// The fault applied to this request, if any (see `FaultKind::name`).
    pub fault: Option<&'static str>,
    /// The client's `User-Agent` header, when it sent a readable one.
    pub user_agent: Option<String>,
    pub started: Instant,
    pub finished: Instant,
}

impl RequestRecord {
    pub fn duration(&self) -> Duration {
        self.finished.saturating_duration_since(self.started)
    }
}

/// JSON form for `GET /_emulator/requests`; instants become milliseconds
/// since the emulator started.
#[derive(Debug, Serialize)]
pub struct RequestRecordJson {
    method: String,
    path: String,
    status: Option<u16>,
    fault: Option<&'static str>,
    user_agent: Option<String>,
    started_ms: f64,
    finished_ms: f64,
}

#[derive(Debug)]
pub struct Traffic {
    epoch: Instant,
    records: Mutex<Vec<RequestRecord>>,
    in_flight: AtomicUsize,
    high_water: AtomicUsize,
}

impl Traffic {
    pub fn new() -> Traffic {
        Traffic {
            epoch: Instant::now(),
            records: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            high_water: AtomicUsize::new(0),
        }
    }

    /// Starts tracking a request; the returned guard logs it when finished
    /// or, if the request future is dropped first, as unanswered.
    pub fn begin(
        self: &Arc<Self>,
        method: Method,
        path: String,
        user_agent: Option<String>,
    ) -> InFlight {
        let now_in_flight = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.high_water.fetch_max(now_in_flight, Ordering::SeqCst);
        InFlight {
            traffic: Arc::clone(self),
            method,
            path,
            user_agent,
            fault: None,
            started: Instant::now(),
            finished: false,
        }
    }

    pub fn records(&self) -> Vec<RequestRecord> {
        lock(&self.records).clone()
    }

    pub fn records_json(&self) -> Vec<RequestRecordJson> {
        let millis =
            |instant: Instant| instant.saturating_duration_since(self.epoch).as_secs_f64() * 1e3;
        lock(&self.records)
            .iter()
            .map(|record| RequestRecordJson {
                method: record.method.to_string(),
                path: record.path.clone(),
                status: record.status,
                fault: record.fault,
                user_agent: record.user_agent.clone(),
                started_ms: millis(record.started),
                finished_ms: millis(record.finished),
            })
            .collect()
    }

    /// Forgets the log and restarts the high-water mark from what is in
    /// flight now, so a test can measure one phase at a time.
    pub fn clear(&self) {
        lock(&self.records).clear();
        self.high_water
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    pub fn max_concurrent(&self) -> usize {
        self.high_water.load(Ordering::SeqCst)
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// A request being served.
#[derive(Debug)]
pub struct InFlight {
    traffic: Arc<Traffic>,
    method: Method,
    path: String,
    user_agent: Option<String>,
    fault: Option<&'static str>,
    started: Instant,
    finished: bool,
}

impl InFlight {
    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn set_fault(&mut self, name: &'static str) {
        self.fault = Some(name);
    }

    /// Logs the request now; `None` means no response will be sent.
    pub fn finish(mut self, status: Option<u16>) {
        self.record(status);
    }

    fn record(&mut self, status: Option<u16>) {
        if self.finished {
            return;
        }
        self.finished = true;
        let record = RequestRecord {
            method: self.method.clone(),
            path: std::mem::take(&mut self.path),
            status,
            fault: self.fault,
            user_agent: self.user_agent.take(),
            started: self.started,
            finished: Instant::now(),
        };
        lock(&self.traffic.records).push(record);
        self.traffic.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.record(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_water_mark_tracks_overlap() {
        let traffic = Arc::new(Traffic::new());
        let first = traffic.begin(Method::GET, "/a".into(), None);
        let second = traffic.begin(Method::GET, "/b".into(), None);
        assert_eq!(traffic.in_flight(), 2);
        first.finish(Some(200));
        let third = traffic.begin(Method::GET, "/c".into(), None);
        assert_eq!(traffic.max_concurrent(), 2);
        third.finish(Some(404));
        drop(second);
        assert_eq!(traffic.in_flight(), 0);

        let records = traffic.records();
        let summary: Vec<_> = records
            .iter()
            .map(|r| (r.path.as_str(), r.status))
            .collect();
        assert_eq!(
            summary,
            [("/a", Some(200)), ("/c", Some(404)), ("/b", None)]
        );
    }

    #[test]
    fn clear_restarts_the_high_water_mark_from_current_load() {
        let traffic = Arc::new(Traffic::new());
        let a = traffic.begin(Method::GET, "/a".into(), None);
        let b = traffic.begin(Method::GET, "/b".into(), None);
        a.finish(Some(200));
        traffic.clear();
        assert_eq!(traffic.max_concurrent(), 1);
        assert!(traffic.records().is_empty());
        b.finish(Some(200));
        assert_eq!(traffic.records_json().len(), 1);
    }
}
