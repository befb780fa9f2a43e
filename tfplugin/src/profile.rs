//! Opt-in per-RPC profile, for the benchmark: with `TFPLUGIN_RPC_PROFILE`
//! set to a file, every gRPC call appends one JSON line to it (method, wall
//! and thread-CPU microseconds on this side of the socket, request and
//! response bytes). Unset, the layer passes every call straight through.
//!
//! The runtime has one thread, so the CPU of a call is the thread's CPU
//! summed over the polls of that call alone (its handler and request
//! decoding, then its response encoding), not of the calls it overlaps.

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::fs::File;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

pub const ENV: &str = "TFPLUGIN_RPC_PROFILE";

/// Where the lines go; `None` (the default) costs one branch per call.
#[derive(Clone, Default)]
pub struct ProfileLayer {
    sink: Option<Arc<File>>,
}

impl ProfileLayer {
    pub fn from_env() -> Self {
        let sink = std::env::var_os(ENV)
            .filter(|path| !path.is_empty())
            .and_then(|path| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .ok()
            })
            .map(Arc::new);
        ProfileLayer { sink }
    }
}

impl<S> Layer<S> for ProfileLayer {
    type Service = Profiled<S>;

    fn layer(&self, inner: S) -> Profiled<S> {
        Profiled {
            inner,
            sink: self.sink.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Profiled<S> {
    inner: S,
    sink: Option<Arc<File>>,
}

/// One call being measured.
struct Probe {
    sink: Arc<File>,
    method: String,
    started: Instant,
    cpu: Duration,
    request_bytes: Arc<std::sync::atomic::AtomicUsize>,
    response_bytes: usize,
}

impl Probe {
    fn finish(&self) {
        let line = format!(
            "{{\"pid\":{},\"method\":\"{}\",\"wall_us\":{},\"cpu_us\":{},\"request_bytes\":{},\
             \"response_bytes\":{},\"process_cpu_us\":{}}}\n",
            std::process::id(),
            self.method,
            self.started.elapsed().as_micros(),
            self.cpu.as_micros(),
            self.request_bytes
                .load(std::sync::atomic::Ordering::Relaxed),
            self.response_bytes,
            cpu_now(libc::CLOCK_PROCESS_CPUTIME_ID).as_micros(),
        );
        // One write on an O_APPEND file: lines of concurrent calls and of
        // several provider processes do not interleave.
        let _ = (&*self.sink).write_all(line.as_bytes());
    }
}

fn cpu_now(clock: libc::clockid_t) -> Duration {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a pointer we own.
    let code = unsafe { libc::clock_gettime(clock, &mut time) };
    if code != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(time.tv_sec).unwrap_or(0),
        u32::try_from(time.tv_nsec).unwrap_or(0),
    )
}

/// Runs `poll` and adds the thread CPU it took to `total`.
fn timed<T>(total: &mut Duration, poll: impl FnOnce() -> T) -> T {
    let before = cpu_now(libc::CLOCK_THREAD_CPUTIME_ID);
    let result = poll();
    *total += cpu_now(libc::CLOCK_THREAD_CPUTIME_ID).saturating_sub(before);
    result
}

impl<S> Service<http::Request<Body>> for Profiled<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Unpin,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = ProfiledFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let Some(sink) = &self.sink else {
            return ProfiledFuture {
                inner: self.inner.call(request),
                probe: None,
            };
        };
        let started = Instant::now();
        let method = request
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let request_bytes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let request = request.map(|body| {
            Body::new(CountedRequest {
                inner: body,
                bytes: request_bytes.clone(),
            })
        });
        let mut probe = Probe {
            sink: sink.clone(),
            method,
            started,
            cpu: Duration::ZERO,
            request_bytes,
            response_bytes: 0,
        };
        let inner = timed(&mut probe.cpu, || self.inner.call(request));
        ProfiledFuture {
            inner,
            probe: Some(probe),
        }
    }
}

pub struct ProfiledFuture<F> {
    inner: F,
    probe: Option<Probe>,
}

impl<F, E> Future for ProfiledFuture<F>
where
    F: Future<Output = Result<http::Response<Body>, E>> + Unpin,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let Some(probe) = &mut this.probe else {
            return Pin::new(&mut this.inner).poll(cx);
        };
        let polled = timed(&mut probe.cpu, || Pin::new(&mut this.inner).poll(cx));
        match polled {
            Poll::Ready(Ok(response)) => {
                let probe = this.probe.take();
                Poll::Ready(Ok(
                    response.map(|body| Body::new(ProfiledResponse { inner: body, probe }))
                ))
            }
            other => other,
        }
    }
}

/// Counts the bytes of a request as the handler reads them.
struct CountedRequest {
    inner: Body,
    bytes: Arc<std::sync::atomic::AtomicUsize>,
}

impl HttpBody for CountedRequest {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            self.bytes
                .fetch_add(data.len(), std::sync::atomic::Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Times the encoding of a response and writes the call's line once the
/// response is sent (or dropped).
struct ProfiledResponse {
    inner: Body,
    probe: Option<Probe>,
}

impl HttpBody for ProfiledResponse {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let this = &mut *self;
        let Some(probe) = &mut this.probe else {
            return Pin::new(&mut this.inner).poll_frame(cx);
        };
        let polled = timed(&mut probe.cpu, || Pin::new(&mut this.inner).poll_frame(cx));
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            probe.response_bytes += data.len();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ProfiledResponse {
    fn drop(&mut self) {
        if let Some(probe) = self.probe.take() {
            probe.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_advances_with_work() {
        let mut total = Duration::ZERO;
        let sum = timed(&mut total, || {
            (0..2_000_000u64).fold(0u64, |a, b| std::hint::black_box(a.wrapping_add(b)))
        });
        assert!(sum > 0);
        assert!(total > Duration::ZERO);
    }

    #[test]
    fn unset_means_no_sink() {
        let layer = ProfileLayer::default();
        assert!(layer.sink.is_none());
    }
}
