//! The HTTP accept loop: what `axum::serve` does (hyper's HTTP/1 and HTTP/2 with upgrades, the
//! peer address for [`axum::extract::ConnectInfo`], graceful shutdown), plus the limits it does
//! not offer:
//! - a **header-read timeout**: a client has this long to send a request's headers, from the
//!   connection's start or the previous response (hyper's, which needs a timer that
//!   `axum::serve` does not set). HTTP/1 only, as the server is built. A slow-headers client (slowloris) cannot hold a connection,
//!   and an idle keep-alive connection is closed after it too;
//! - a **cap on open HTTP connections**: past it a new connection is closed at once, before
//!   anything is read. An upgraded connection (a WebSocket) leaves the HTTP count; sockets
//!   have their own cap (`ws::admission`).
//!
//! Request deadlines are a middleware ([`request_deadline`]).

use crate::error::AppError;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// How long a graceful shutdown waits for open connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The accept loop's limits.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// How long a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// HTTP connections open at once.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then lets every connection finish
/// its requests (graceful shutdown) and returns when they have.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, done_rx) = watch::channel(());
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut refused_since_log = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, or a connection reset before it was accepted: wait a
                    // little rather than spin, as hyper's and axum's loops do.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            refused_since_log += 1;
            if refused_since_log.is_power_of_two() {
                tracing::warn!(
                    refused = refused_since_log,
                    "connection refused: as many HTTP connections are open as allowed"
                );
            }
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let mut stop = stop_rx.clone();
        stop.mark_unchanged();
        let done = done_rx.clone();
        tokio::spawn(async move {
            // HTTP/1 only, as the server is built (axum's `http1` feature): no protocol sniffing,
            // whose wait for a preface has no timeout, so the header timer starts at once.
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            tokio::pin!(connection);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(error = %error, "connection ended with an error");
                        }
                        break;
                    }
                    changed = stop.changed(), if !stopping => {
                        // Signalled, or the loop is gone: either way, finish and close.
                        let _ = changed;
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(permit);
            drop(done);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(done_rx);
    // In-flight requests finish; a client that stops reading its answer cannot hold the
    // shutdown for ever.
    if tokio::time::timeout(SHUTDOWN_GRACE, done_tx.closed())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace; closing anyway");
    }
    Ok(())
}

/// Answers `503 server_busy` for a request its handler has not answered within `limit`. The
/// handler's future is dropped, which rolls back any transaction it held: nothing is stored
/// by halves. (A message already handed to the send queue is committed or not as a whole; the
/// client's retry with the same `client_id` finds it.)
pub async fn request_deadline(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request answered 503: its handler took too long");
            AppError::Busy(1).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn start(limits: ServeLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/who",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, router, limits, async {
            let _ = stopped.await;
        }));
        (address, stop)
    }

    /// Everything the server sent until it closed the connection; `None` if it still held it
    /// open after 10 s (a bound on the wait, not a timing assertion).
    async fn read_all(stream: &mut tokio::net::TcpStream) -> Option<String> {
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        match tokio::time::timeout(Duration::from_secs(10), read).await {
            Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
            Err(_) => None,
        }
    }

    #[tokio::test]
    async fn a_request_is_served_with_its_peer_address() {
        let limits = ServeLimits {
            header_read_timeout: Duration::from_secs(5),
            max_connections: 10,
        };
        let (address, _stop) = start(limits).await;
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /who HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = read_all(&mut stream)
            .await
            .expect("closed after the answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "{answer}");
    }

    #[tokio::test]
    async fn a_client_slow_to_send_its_headers_is_cut_off() {
        let limits = ServeLimits {
            header_read_timeout: Duration::from_millis(200),
            max_connections: 10,
        };
        let (address, _stop) = start(limits).await;
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        // Half a request line, then nothing (slowloris).
        stream.write_all(b"GET /who HT").await.unwrap();
        let answer = read_all(&mut stream)
            .await
            .expect("the server closed the connection of a client that never ended its headers");
        // hyper answers 408 or just closes.
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
        let limits = ServeLimits {
            header_read_timeout: Duration::from_millis(200),
            max_connections: 1,
        };
        let (address, _stop) = start(limits).await;
        let mut silent = tokio::net::TcpStream::connect(address).await.unwrap();
        let answer = read_all(&mut silent)
            .await
            .expect("the server closed a connection that never sent a byte");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
        // Its place is free again: the cap (1) lets the next one in.
        let mut next = tokio::net::TcpStream::connect(address).await.unwrap();
        next.write_all(b"GET /who HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = read_all(&mut next).await.expect("answered");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn past_the_connection_cap_a_new_connection_is_closed_at_once() {
        let limits = ServeLimits {
            header_read_timeout: Duration::from_secs(30),
            max_connections: 2,
        };
        let (address, _stop) = start(limits).await;
        let _first = tokio::net::TcpStream::connect(address).await.unwrap();
        let _second = tokio::net::TcpStream::connect(address).await.unwrap();
        let mut third = tokio::net::TcpStream::connect(address).await.unwrap();
        third
            .write_all(b"GET /who HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .ok();
        let answer = read_all(&mut third).await.expect("closed at once");
        assert!(answer.is_empty(), "the third connection got {answer:?}");
    }

    #[tokio::test]
    async fn a_handler_past_the_request_deadline_answers_503_server_busy() {
        let router: Router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "too late"
                }),
            )
            .layer(axum::middleware::from_fn(|request, next| {
                request_deadline(Duration::from_millis(100), request, next)
            }));
        let response = router
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let error: colloque_protocol::ApiError = serde_json::from_slice(&body).unwrap();
        assert_eq!(error.code, colloque_protocol::ErrorCode::ServerBusy);
    }
}
