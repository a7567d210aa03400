//! The upgrade (`GET /ws`: origin check, socket caps) and the authentication handshake: the
//! first frame must be `auth` with a valid token. Once the socket is registered and `ready`
//! sent, it is split between the [`super::reader`] and the [`super::writer`], and lives until
//! either ends.

use super::admission::{OpenSocket, Refusal, Unauthenticated};
use super::frames::{
    CLOSE_POLICY, CLOSE_TOO_BIG, binary_refused, close, decode, error_frame, is_too_big,
    send_client_id, send_frame,
};
use super::reader::Conn;
use super::writer::write_loop;
use crate::audit::{Action, Entry, Source};
use crate::auth::{self, AuthUser};
use crate::delivery::Registration;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use colloque_protocol::{ApiError, ClientFrame, ErrorCode, MAX_FRAME_BYTES, ServerFrame};
use futures_util::StreamExt;
use std::time::{Duration, Instant};

/// The socket's read buffer. tungstenite's default (128 KiB) is zero-filled up front, so it
/// was resident for every idle socket: 148 KB of RSS per connected user, measured by
/// `cargo xtask bench`. Client frames are small; a larger frame (up to [`MAX_FRAME_BYTES`])
/// grows the buffer as it arrives.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// After the authentication deadline, how long the server may take to send its close frame
/// before it drops the socket.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How long the writer may take to flush its last frames once the reader ended.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// `Retry-After` when the server holds as many sockets as it may.
const SOCKETS_FULL_RETRY_SECS: u64 = 10;

/// `GET /ws`: checks the `Origin` (a page of a foreign origin gets 403 and no upgrade; clients
/// that send no `Origin` — not browsers — are let through, they carry no ambient credential),
/// then the socket caps ([`super::admission`]: 503 `server_busy` when the server is full, 429
/// `rate_limited` when the address has too many sockets waiting to authenticate), then
/// upgrades. Frames (and messages) over [`MAX_FRAME_BYTES`] close the socket with 1009.
pub async fn handler(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let source = source.over_ws();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let text = origin.to_str().unwrap_or("");
        if !state.security.origin_allowed(text) {
            tracing::info!("websocket refused for its origin");
            let detail: String = text.chars().take(200).collect();
            let entry = Entry::new(Action::OriginRefused, None).detail(detail);
            state.audit.refused(&source, &entry);
            return AppError::Forbidden("this origin may not open a socket").into_response();
        }
    }
    let address = auth::address_key(source.ip.as_deref().and_then(|ip| ip.parse().ok()));
    let places = match state.sockets.admit(&address) {
        Ok(places) => places,
        Err(Refusal::Full) => {
            tracing::warn!("websocket refused: the server holds as many sockets as it may");
            return AppError::Busy(SOCKETS_FULL_RETRY_SECS).into_response();
        }
        Err(Refusal::TooManyFromAddress) => {
            tracing::info!("websocket refused: too many unauthenticated sockets from its address");
            return AppError::rate_limited(state.limits.ws_auth_timeout).into_response();
        }
    };
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| connection(socket, state, source, places))
}

#[tracing::instrument(name = "ws", skip_all, fields(user = tracing::field::Empty))]
async fn connection(
    mut socket: WebSocket,
    state: AppState,
    source: Source,
    (_open, waiting): (OpenSocket, Unauthenticated),
) {
    // The deadline holds whatever the peer does: past it (and a moment to send the close),
    // the socket is dropped, even while a write to a peer that never reads is blocked.
    // The setup's steps (authentication, the profile, the registry, `ready`) are boxed: each
    // runs once, and a socket's task, which may then idle for hours, would otherwise keep room
    // for the largest of them (this future: 18.4 KB → 11.5 KB, measured on 2026-12-07; with
    // `AppState` behind one `Arc`, `cargo xtask bench`'s idle socket went from 38.6 to 17.8 KB).
    let limit = state.limits.ws_auth_timeout + CLOSE_GRACE;
    let Ok(Some(user)) =
        tokio::time::timeout(limit, Box::pin(authenticate(&mut socket, &state))).await
    else {
        return;
    };
    drop(waiting);
    tracing::Span::current().record("user", tracing::field::display(user.id));
    tracing::debug!("socket authenticated");

    let profile = match Box::pin(state.store.profile(user.id)).await {
        Ok(Some(profile)) => profile,
        Ok(None) => {
            let _ = socket.send(close(CLOSE_POLICY, "unknown user")).await;
            return;
        }
        Err(error) => {
            tracing::error!(%error, "failed to load the profile of a socket's user");
            let _ = socket.send(close(1011, "internal error")).await;
            return;
        }
    };
    let registered = Box::pin(state.delivery.register(
        user.id,
        user.role,
        user.session.clone(),
        user.generation,
    ))
    .await;
    let Registration { id, tx, rx, kicked } = match registered {
        Ok(registration) => registration,
        Err(error) => {
            tracing::error!(%error, "failed to register a socket");
            let _ = socket.send(close(1011, "internal error")).await;
            return;
        }
    };

    // Ready goes out before the writer starts, so it is the first frame after `auth` even if
    // events were queued in the meantime.
    let ready = ServerFrame::Ready { user: profile };
    let ready = Box::pin(send_frame(&mut socket, &ready));
    if !matches!(
        tokio::time::timeout(state.limits.ws_write_timeout, ready).await,
        Ok(Ok(()))
    ) {
        state.delivery.unregister(user.id, id);
        return;
    }

    let (sink, stream) = socket.split();
    let heartbeat = state.limits.ws_heartbeat;
    let mut writer = tokio::spawn(write_loop(
        sink,
        rx,
        kicked,
        user.expires_at,
        heartbeat,
        state.limits.ws_write_timeout,
    ));
    let user_id = user.id;
    let reader_state = state.clone();
    let mut reader = tokio::spawn(async move {
        let mut socket = Conn {
            state: reader_state,
            user,
            id,
            tx,
            source,
            session_checked: Some(Instant::now()),
            last_typing: None,
        };
        socket.read_loop(stream).await;
    });

    tokio::select! {
        _ = &mut writer => reader.abort(),
        _ = &mut reader => {
            // The reader's queue handle is gone; dropping the registry's lets the writer flush what
            // is queued (e.g. an error frame, then a close) and stop.
            state.delivery.unregister(user_id, id);
            if tokio::time::timeout(FLUSH_TIMEOUT, &mut writer).await.is_err() {
                writer.abort();
            }
        }
    }
    state.delivery.unregister(user_id, id);
    tracing::debug!("socket closed");
}

/// Waits for the `auth` frame. Other frames get an error (`not_authenticated`,
/// `invalid_json`, ...) and the socket stays open until the deadline; a bad token gets an
/// `unauthorized` error frame and a 1008 close.
async fn authenticate(socket: &mut WebSocket, state: &AppState) -> Option<AuthUser> {
    let deadline = tokio::time::Instant::now() + state.limits.ws_auth_timeout;
    loop {
        let received = match tokio::time::timeout_at(deadline, socket.recv()).await {
            Ok(received) => received,
            Err(_) => {
                let _ = socket
                    .send(close(CLOSE_POLICY, "authentication timeout"))
                    .await;
                return None;
            }
        };
        let text = match received {
            Some(Ok(WsMessage::Text(text))) => text,
            Some(Ok(WsMessage::Binary(_))) => {
                send_frame(socket, &binary_refused()).await.ok()?;
                continue;
            }
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
            Some(Ok(WsMessage::Close(_))) | None => return None,
            Some(Err(error)) => {
                if is_too_big(&error) {
                    let _ = socket.send(close(CLOSE_TOO_BIG, "frame too large")).await;
                }
                return None;
            }
        };
        match decode(text.as_str()) {
            Ok(ClientFrame::Auth { token }) => match auth::authenticate(
                &state.tokens,
                &state.store,
                &state.touches,
                state.limits.session_rules(),
                &token,
            )
            .await
            {
                Ok(user) if user.enrolment_only => {
                    // A session restricted to MFA enrolment has nothing to do on a socket.
                    let refused = AppError::MfaEnrolmentRequired;
                    let _ = send_frame(socket, &error_frame(&refused, None)).await;
                    let _ = socket.send(close(CLOSE_POLICY, "enrol first")).await;
                    return None;
                }
                Ok(user) => return Some(user),
                Err(error) => {
                    let _ = send_frame(socket, &error_frame(&unauthorized(error), None)).await;
                    let _ = socket.send(close(CLOSE_POLICY, "unauthorized")).await;
                    return None;
                }
            },
            Ok(frame) => {
                let refused = ServerFrame::Error {
                    error: ApiError::new(ErrorCode::NotAuthenticated, "send an auth frame first"),
                    client_id: send_client_id(&frame),
                };
                send_frame(socket, &refused).await.ok()?;
            }
            Err(refused) => send_frame(socket, &refused.into_frame()).await.ok()?,
        }
    }
}

/// Authentication failures are all `unauthorized`, except the server's own failures.
fn unauthorized(error: AppError) -> AppError {
    match error {
        AppError::Internal(_) => error,
        _ => AppError::Unauthorized,
    }
}
