//! The writing side of an authenticated socket: its queue (its own answers and pushed events,
//! in order) out to the peer, a ping every heartbeat, the error and close frames when the
//! token expires or the socket is kicked (logout, revocation, too slow, shutdown).

use super::frames::{CLOSE_NORMAL, CLOSE_POLICY, close};
use crate::delivery::{Kick, Outbound};
use crate::util::now_ms;
use axum::extract::ws::{Message as WsMessage, WebSocket};
use colloque_protocol::{ApiError, ErrorCode, ServerFrame, Timestamp};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub(super) async fn write_loop(
    mut sink: SplitSink<WebSocket, WsMessage>,
    mut rx: mpsc::Receiver<Outbound>,
    mut kicked: oneshot::Receiver<Kick>,
    expires_at: Timestamp,
    heartbeat: Duration,
    write_timeout: Duration,
) {
    let expiry = tokio::time::sleep(until(expires_at));
    tokio::pin!(expiry);
    let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut kick_pending = true;
    loop {
        tokio::select! {
            biased;
            kick = &mut kicked, if kick_pending => match kick {
                Ok(kick) => {
                    if let Some((code, message)) = kick.error {
                        let frame = ServerFrame::Error {
                            error: ApiError::new(code, message),
                            client_id: None,
                        };
                        let _ = write(&mut sink, WsMessage::Text(Outbound::frame_text(&frame)), write_timeout).await;
                    }
                    let _ = write(&mut sink, close(kick.code, kick.reason), write_timeout).await;
                    return;
                }
                // Unregistered without a kick: keep draining the queue.
                Err(_) => kick_pending = false,
            },
            () = &mut expiry => {
                let expired = ServerFrame::Error {
                    error: ApiError::new(ErrorCode::Unauthorized, "the session expired"),
                    client_id: None,
                };
                let _ = write(&mut sink, WsMessage::Text(Outbound::frame_text(&expired)), write_timeout).await;
                let _ = write(&mut sink, close(CLOSE_POLICY, "session expired"), write_timeout).await;
                return;
            }
            outbound = rx.recv() => match outbound {
                Some(Outbound::Text(text)) => {
                    if !write(&mut sink, WsMessage::Text(text), write_timeout).await {
                        return;
                    }
                }
                Some(Outbound::Expiry(renewed)) => {
                    expiry.as_mut().reset(tokio::time::Instant::now() + until(renewed));
                }
                Some(Outbound::Close(code, reason)) => {
                    let _ = write(&mut sink, close(code, reason), write_timeout).await;
                    return;
                }
                None => {
                    let _ = write(&mut sink, close(CLOSE_NORMAL, ""), write_timeout).await;
                    return;
                }
            },
            _ = pings.tick() => {
                if !write(&mut sink, WsMessage::Ping(Default::default()), write_timeout).await {
                    return;
                }
            }
        }
    }
}

/// Sends one message, or gives up after `timeout`: a peer that does not read cannot hold a
/// socket, its task and its buffers by blocking the server's writes. False: the socket is to
/// be dropped.
async fn write(
    sink: &mut SplitSink<WebSocket, WsMessage>,
    message: WsMessage,
    timeout: Duration,
) -> bool {
    matches!(
        tokio::time::timeout(timeout, sink.send(message)).await,
        Ok(Ok(()))
    )
}

/// How long until `at`.
fn until(at: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(at.0 - now_ms().0).unwrap_or(0))
}
