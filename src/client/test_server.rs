//! A tiny HTTP/1.1 server on 127.0.0.1 answering canned replies, one per
//! connection, in order, and recording what it was asked. Test-only: it
//! unwraps freely.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// What the server does with one request.
pub(crate) enum Reply {
    /// Writes these bytes verbatim, then closes the connection.
    Raw(String),
    /// Closes the connection without answering.
    Close,
    /// Never answers.
    Hang,
    /// Waits, then replies.
    Delayed(std::time::Duration, Box<Reply>),
}

/// A complete response with `connection: close`.
pub(crate) fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut text = format!(
        "HTTP/1.1 {status} Canned\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    Reply::Raw(text)
}

pub(crate) fn json(status: u16, body: &str) -> Reply {
    response(status, &[("content-type", "application/json")], body)
}

#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub method: String,
    pub path: String,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) struct TestServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl TestServer {
    pub(crate) async fn start(replies: Vec<Reply>) -> Self {
        Self::start_with(replies, None).await
    }

    pub(crate) async fn start_tls(replies: Vec<Reply>, acceptor: TlsAcceptor) -> Self {
        Self::start_with(replies, Some(acceptor)).await
    }

    async fn start_with(replies: Vec<Reply>, tls: Option<TlsAcceptor>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let recorded = recorded.clone();
                let replies = replies.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => serve_one(tcp, recorded, replies).await,
                        Some(acceptor) => {
                            // A client refusing our certificate ends here.
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                serve_one(stream, recorded, replies).await;
                            }
                        }
                    }
                });
            }
        });
        Self {
            port,
            requests,
            task,
        }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/account", self.port)
    }

    /// A client of this server with the defaults and a test token.
    pub(crate) fn client(&self) -> super::AccountClient {
        let config = super::ClientConfig {
            base_url: self.base_url(),
            ..super::ClientConfig::new(crate::secret::Secret::new("tok_test_server"))
        };
        super::AccountClient::new(config).unwrap()
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_one<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    recorded.lock().unwrap().push(request);
    let reply = replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| response(599, &[], "no canned reply left"));
    let reply = match reply {
        Reply::Delayed(wait, reply) => {
            tokio::time::sleep(wait).await;
            *reply
        }
        other => other,
    };
    match reply {
        Reply::Delayed(..) => {}
        Reply::Raw(bytes) => {
            let _ = stream.write_all(bytes.as_bytes()).await;
            let _ = stream.flush().await;
            let _ = stream.shutdown().await;
        }
        Reply::Close => {}
        Reply::Hang => std::future::pending::<()>().await,
    }
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Recorded> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}
