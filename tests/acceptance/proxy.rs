//! A tiny HTTP/1.1 proxy in front of the emulator that removes one field
//! from the next successful key-creation answer.
//!
//! The emulator's scripted bodies are fixed in advance, so they cannot carry
//! the id of the key the emulator really creates. An "incomplete 200" test
//! needs exactly that: a real key, a real id, and one field missing, so that
//! the key saved in state can later be revoked by `terraform destroy`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

pub struct StripFieldProxy {
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

struct Rule {
    upstream: SocketAddr,
    field: &'static str,
    strips_left: AtomicUsize,
}

impl StripFieldProxy {
    /// Forwards everything to `upstream` (an `http://host:port` base URL);
    /// the first `times` answers `200` to `POST …/keys` lose `field`.
    pub fn start(upstream_base_url: &str, field: &'static str, times: usize) -> StripFieldProxy {
        let upstream: SocketAddr = upstream_base_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|err| panic!("emulator base URL {upstream_base_url:?}: {err}"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let address = listener.local_addr().expect("proxy address");
        let stopping = Arc::new(AtomicBool::new(false));
        let rule = Arc::new(Rule {
            upstream,
            field,
            strips_left: AtomicUsize::new(times),
        });
        let stop = Arc::clone(&stopping);
        let accept_thread = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let rule = Arc::clone(&rule);
                std::thread::spawn(move || {
                    // A failed exchange only means the client sees a broken
                    // connection, which the test would then report.
                    let _ = forward(client, &rule);
                });
            }
        });
        StripFieldProxy {
            address,
            stopping,
            accept_thread: Some(accept_thread),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for StripFieldProxy {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request, one answer, then the connection closes (the answer says
/// so, so the client opens a new connection for its next request).
fn forward(client: TcpStream, rule: &Rule) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let (request_line, headers) = read_head(&mut reader)?;
    let mut body = vec![0; content_length(&headers)];
    reader.read_exact(&mut body)?;

    let mut upstream = TcpStream::connect(rule.upstream)?;
    let mut request = format!("{request_line}\r\n");
    for (name, value) in headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("connection"))
    {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    upstream.write_all(request.as_bytes())?;
    upstream.write_all(&body)?;

    let mut upstream_reader = BufReader::new(upstream);
    let (status_line, response_headers) = read_head(&mut upstream_reader)?;
    let mut response_body = Vec::new();
    upstream_reader.read_to_end(&mut response_body)?;

    let is_create = request_line.starts_with("POST ")
        && request_line
            .split(' ')
            .nth(1)
            .is_some_and(|path| path.ends_with("/keys"));
    let is_ok = status_line.split(' ').nth(1) == Some("200");
    if is_create && is_ok && take_one(&rule.strips_left) {
        response_body = without_field(&response_body, rule.field);
    }

    let mut response = format!("{status_line}\r\n");
    for (name, value) in response_headers.iter().filter(|(name, _)| {
        !["connection", "content-length", "transfer-encoding"]
            .iter()
            .any(|skip| name.eq_ignore_ascii_case(skip))
    }) {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response_body.len()
    ));
    let mut client = client;
    client.write_all(response.as_bytes())?;
    client.write_all(&response_body)?;
    client.flush()
}

fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn without_field(body: &[u8], field: &str) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.remove(field);
            serde_json::Value::Object(object).to_string().into_bytes()
        }
        _ => body.to_vec(),
    }
}

type Headers = Vec<(String, String)>;

fn read_head(reader: &mut impl BufRead) -> std::io::Result<(String, Headers)> {
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Ok((first.trim_end_matches(['\r', '\n']).to_owned(), headers))
}

fn content_length(headers: &Headers) -> usize {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}
