//! Just enough HTTP to drive the emulator's admin routes over loopback.
//! HTTP/1.0 with the connection closed after each answer, so the body is
//! simply everything after the headers (no chunking to decode).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::error::{BenchError, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Admin answers are small except the request log; this bounds a runaway.
const MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

pub fn request(
    address: SocketAddr,
    method: &'static str,
    path: &str,
    json_body: Option<&str>,
) -> Result<Response> {
    let failure = |reason: String| BenchError::Http {
        method,
        path: path.to_owned(),
        reason,
    };
    let mut stream = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)
        .map_err(|e| failure(format!("connect: {e}")))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| failure(e.to_string()))?;
    let body = json_body.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| failure(format!("send: {e}")))?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE_BYTES)
        .read_to_end(&mut raw)
        .map_err(|e| failure(format!("receive: {e}")))?;
    parse_response(&raw).map_err(failure)
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "no end of headers in the answer".to_owned())?;
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    Ok(Response {
        status,
        body: body.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let raw = b"HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{\"ms\":50}";
        let response = parse_response(raw).expect("parses");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "{\"ms\":50}");
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(parse_response(b"").is_err());
        assert!(parse_response(b"HTTP/1.0\r\n\r\n").is_err());
        assert!(parse_response(b"\xff\xfe\r\n\r\n").is_err());
    }
}
