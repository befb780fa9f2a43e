//! A hand-written accept loop, so a handler can make its connection vanish
//! without a response, which is what a crashed proxy or a network cut looks
//! like to a client. `axum::serve` offers no way to do that.

use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Request extension that lets a handler abort its own connection.
#[derive(Debug, Clone)]
pub struct ConnectionKiller(CancellationToken);

impl ConnectionKiller {
    /// The connection task drops the socket as soon as it sees this, so any
    /// response still being produced is never written.
    pub fn kill(&self) {
        self.0.cancel();
    }
}

/// Serves `app` on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                tokio::spawn(serve_connection(stream, app.clone(), shutdown.clone()));
            }
            // Usually descriptor exhaustion under load; pausing lets
            // in-flight connections finish and free some.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

async fn serve_connection(stream: TcpStream, app: Router, shutdown: CancellationToken) {
    // Small JSON answers should not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let kill_switch = CancellationToken::new();
    let killer = ConnectionKiller(kill_switch.clone());
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(killer.clone());
        app.clone().oneshot(request)
    });
    // HTTP/1 only: its request futures live inside the connection future,
    // so dropping the connection really drops everything in flight on it.
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = connection => {}
        () = kill_switch.cancelled() => {}
        () = shutdown.cancelled() => {}
    }
}
