//! One task per socket direction, like axum's chat example: after authentication the socket is
//! split; the writer drains the socket's queue (its own answers and pushed events, in order)
//! and pings the client every heartbeat, the reader handles client frames and closes a socket
//! that went silent. When either ends, the other is stopped.

use super::admission::{OpenSocket, Refusal, Unauthenticated};
use crate::audit::{Action, Entry, Source};
use crate::auth::{self, AuthUser};
use crate::chat;
use crate::delivery::{Kick, Outbound, Registration};
use crate::domain::MessageBody;
use crate::error::AppError;
use crate::state::AppState;
use crate::util::now_ms;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use colloque_protocol::{
    ApiError, ClientFrame, ClientMsgId, ConversationId, ErrorCode, MAX_FRAME_BYTES, ServerFrame,
    Timestamp,
};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The socket's read buffer. tungstenite's default (128 KiB) is zero-filled up front, so it
/// was resident for every idle socket: 148 KB of RSS per connected user, measured by
/// `cargo xtask bench`. Client frames are small; a larger frame (up to [`MAX_FRAME_BYTES`])
/// grows the buffer as it arrives.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// How long a socket trusts its last session check before it asks the database again. Every
/// check was a database round trip per frame, the largest single cost of a send measured by
/// `cargo xtask bench` (see README, "Performance").
const SESSION_RECHECK: Duration = Duration::from_secs(1);

/// After the authentication deadline, how long the server may take to send its close frame
/// before it drops the socket.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How long the writer may take to flush its last frames once the reader ended.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// `Retry-After` when the server holds as many sockets as it may.
const SOCKETS_FULL_RETRY_SECS: u64 = 10;

const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_GOING_AWAY: u16 = 1001;

/// The frame types this server understands, to tell an unknown `type` from a malformed frame.
const KNOWN_TYPES: [&str; 4] = ["auth", "send", "mark_read", "ping"];

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
            state.store.audit(&source, entry).await;
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
    let limit = state.limits.ws_auth_timeout + CLOSE_GRACE;
    let Ok(Some(user)) = tokio::time::timeout(limit, authenticate(&mut socket, &state)).await
    else {
        return;
    };
    drop(waiting);
    tracing::Span::current().record("user", tracing::field::display(user.id));
    tracing::debug!("socket authenticated");

    let profile = match state.store.profile(user.id).await {
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
    let registered = state
        .delivery
        .register(user.id, user.role, user.session.clone())
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
    let ready = send_frame(&mut socket, &ready);
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
                state.limits.session_idle,
                &token,
            )
            .await
            {
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

/// The reading side of an authenticated socket.
struct Conn {
    state: AppState,
    user: AuthUser,
    id: crate::delivery::ConnId,
    tx: mpsc::Sender<Outbound>,
    source: Source,
    /// When the session was last found live in the database.
    session_checked: Option<Instant>,
}

/// The socket must close: its session is no longer valid.
struct Closing(u16, &'static str);

impl Conn {
    async fn read_loop(&mut self, mut stream: SplitStream<WebSocket>) {
        let limits = &self.state.limits;
        // Any frame counts, pongs to the writer's pings included: a live browser answers every
        // ping, so a dead peer is noticed after two heartbeats, an idle one after the idle limit.
        let silence = limits.ws_idle_timeout.min(limits.ws_heartbeat * 2);
        loop {
            let received = match tokio::time::timeout(silence, stream.next()).await {
                Ok(Some(received)) => received,
                Ok(None) => return,
                Err(_) => {
                    tracing::debug!("socket silent for too long");
                    let _ = self
                        .tx
                        .send(Outbound::Close(CLOSE_GOING_AWAY, "idle timeout"))
                        .await;
                    return;
                }
            };
            let reply = match received {
                Ok(WsMessage::Text(text)) => match decode(text.as_str()) {
                    Ok(frame) => match self.handle(frame).await {
                        Ok(reply) => reply,
                        Err(Closing(code, reason)) => {
                            let _ = self
                                .tx
                                .send(Outbound::frame(&error_frame(&AppError::Unauthorized, None)))
                                .await;
                            let _ = self.tx.send(Outbound::Close(code, reason)).await;
                            return;
                        }
                    },
                    Err(refused) => refused.into_frame(),
                },
                Ok(WsMessage::Binary(_)) => binary_refused(),
                Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => continue,
                Ok(WsMessage::Close(_)) => return,
                Err(error) => {
                    if is_too_big(&error) {
                        let _ = self
                            .tx
                            .send(Outbound::Close(CLOSE_TOO_BIG, "frame too large"))
                            .await;
                    } else {
                        tracing::debug!(%error, "socket read failed");
                    }
                    return;
                }
            };
            if self.tx.send(Outbound::frame(&reply)).await.is_err() {
                return;
            }
        }
    }

    /// Handles one authenticated client frame, returning the frame that answers it.
    async fn handle(&mut self, frame: ClientFrame) -> Result<ServerFrame, Closing> {
        // Every frame counts against the user's budget, shared with their REST requests; past
        // it the frame is refused (a send's `client_id` is kept: the client retries later).
        if let Err(wait) = self.state.throttles.requests.take(&self.user.id) {
            return Ok(error_frame(
                &AppError::rate_limited(wait),
                send_client_id(&frame),
            ));
        }
        let frame = match frame {
            ClientFrame::Ping { nonce } => return Ok(ServerFrame::Pong { nonce }),
            ClientFrame::Auth { token } => return self.reauthenticate(&token).await,
            frame => frame,
        };
        let (state, user) = (&self.state, &self.user);
        // Re-check the session before anything that reads or writes data: a logout in another
        // process, a disabled account or an expired session stop the socket here. A logout on
        // this server closes the session's sockets at once (the registry kicks them; the other instances hear it through the bus); the database
        // check catches the rest, at most SESSION_RECHECK after it happened.
        if self
            .session_checked
            .is_none_or(|at| at.elapsed() >= SESSION_RECHECK)
        {
            let checked = auth::check_session(
                &state.store,
                &state.touches,
                state.limits.session_idle,
                &user.session,
                user.id,
            )
            .await;
            match checked {
                Ok(Some(_)) => self.session_checked = Some(Instant::now()),
                Ok(None) => return Err(Closing(CLOSE_POLICY, "session ended")),
                Err(error) => return Ok(error_frame(&error, send_client_id(&frame))),
            }
        }
        let conn = Some(self.id);
        let (conversation, result) = match frame {
            ClientFrame::Send {
                conversation_id,
                client_id,
                body,
            } => {
                let result = match MessageBody::parse(&body) {
                    Ok(body) => {
                        chat::send_message(state, user, conversation_id, client_id, &body, conn)
                            .await
                    }
                    Err(error) => Err(error.into()),
                };
                let reply = result
                    .map(|sent| ServerFrame::Ack {
                        client_id,
                        message: sent.message,
                    })
                    .map_err(|error| (error, Some(client_id)));
                (conversation_id, reply)
            }
            ClientFrame::MarkRead {
                conversation_id,
                seq,
            } => {
                let result = chat::mark_read(state, user, conversation_id, seq, conn).await;
                // The other sockets got the same frame through delivery.
                let reply = result
                    .map(|cursor| ServerFrame::Read { cursor })
                    .map_err(|error| (error, None));
                (conversation_id, reply)
            }
            ClientFrame::Ping { .. } | ClientFrame::Auth { .. } => {
                unreachable!("handled above")
            }
        };
        Ok(match result {
            Ok(reply) => reply,
            Err((error, client_id)) => {
                if error.is_access_denial() {
                    self.audit_refusal(conversation, &error).await;
                }
                error_frame(&error, client_id)
            }
        })
    }

    /// `auth` on an authenticated socket: a renewed token of the same user. The socket keeps
    /// its place (registration, queue) and now lives as long as the new token; `ready` again.
    /// A bad token, or another user's, ends the socket.
    async fn reauthenticate(&mut self, token: &str) -> Result<ServerFrame, Closing> {
        let state = &self.state;
        let renewed = auth::authenticate(
            &state.tokens,
            &state.store,
            &state.touches,
            state.limits.session_idle,
            token,
        )
        .await;
        let renewed = match renewed {
            Ok(renewed) if renewed.id == self.user.id => renewed,
            Ok(_) => {
                tracing::info!("socket re-authentication as another user refused");
                return Err(Closing(CLOSE_POLICY, "another user"));
            }
            Err(AppError::Internal(error)) => {
                return Ok(error_frame(&AppError::Internal(error), None));
            }
            Err(_) => return Err(Closing(CLOSE_POLICY, "unauthorized")),
        };
        let profile = match self.state.store.profile(renewed.id).await {
            Ok(Some(profile)) => profile,
            Ok(None) => return Err(Closing(CLOSE_POLICY, "unknown user")),
            Err(error) => return Ok(error_frame(&error.into(), None)),
        };
        self.state
            .delivery
            .registry()
            .set_session(renewed.id, self.id, renewed.session.clone());
        let _ = self.tx.send(Outbound::Expiry(renewed.expires_at)).await;
        self.user = renewed;
        self.session_checked = Some(Instant::now());
        Ok(ServerFrame::Ready { user: profile })
    }

    async fn audit_refusal(&self, conversation: ConversationId, error: &AppError) {
        let entry = Entry::new(Action::WsFrameRefused, Some(self.user.id))
            .conversation(conversation)
            .detail(format!("{:?}", error.code()));
        self.state.store.audit(&self.source, entry).await;
    }
}

async fn write_loop(
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

/// A frame that could not be decoded.
#[derive(Debug)]
pub struct Refused {
    /// `invalid_json` or `unknown_frame`.
    pub code: ErrorCode,
    /// A fixed hint (never quotes the frame).
    pub message: &'static str,
    /// The `client_id` of a malformed `send`, when readable.
    pub client_id: Option<ClientMsgId>,
}

impl Refused {
    /// The error frame answering it.
    pub fn into_frame(self) -> ServerFrame {
        ServerFrame::Error {
            error: ApiError::new(self.code, self.message),
            client_id: self.client_id,
        }
    }
}

/// Parses a client frame. The JSON is read as a value first, so that a frame with an unknown
/// `type` (`unknown_frame`: maybe a newer client) is told apart from one that is malformed
/// (`invalid_json`). A malformed `send` still reports its `client_id` when it has a readable
/// one, so the client can mark that message as failed.
pub fn decode(text: &str) -> Result<ClientFrame, Refused> {
    let refuse = |code, message, client_id| Refused {
        code,
        message,
        client_id,
    };
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| refuse(ErrorCode::InvalidJson, "the frame is not valid JSON", None))?;
    let Some(kind) = value.get("type").and_then(serde_json::Value::as_str) else {
        return Err(refuse(
            ErrorCode::InvalidJson,
            "the frame has no string \"type\" field",
            None,
        ));
    };
    if !KNOWN_TYPES.contains(&kind) {
        return Err(refuse(ErrorCode::UnknownFrame, "unknown frame type", None));
    }
    let is_send = kind == "send";
    let client_id = value
        .get("client_id")
        .cloned()
        .and_then(|id| serde_json::from_value::<ClientMsgId>(id).ok());
    serde_json::from_value(value).map_err(|_| {
        refuse(
            ErrorCode::InvalidJson,
            "the frame lacks a field or has a field of the wrong type",
            if is_send { client_id } else { None },
        )
    })
}

fn send_client_id(frame: &ClientFrame) -> Option<ClientMsgId> {
    match frame {
        ClientFrame::Send { client_id, .. } => Some(*client_id),
        _ => None,
    }
}

fn error_frame(error: &AppError, client_id: Option<ClientMsgId>) -> ServerFrame {
    ServerFrame::Error {
        error: error.to_api_error(),
        client_id,
    }
}

fn binary_refused() -> ServerFrame {
    ServerFrame::Error {
        error: ApiError::new(
            ErrorCode::InvalidInput,
            "binary frames are not supported; send JSON text",
        ),
        client_id: None,
    }
}

fn close(code: u16, reason: &'static str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

async fn send_frame(socket: &mut WebSocket, frame: &ServerFrame) -> Result<(), axum::Error> {
    let text = serde_json::to_string(frame).map_err(axum::Error::new)?;
    socket.send(WsMessage::Text(text.into())).await
}

/// axum wraps tungstenite's errors without exposing their type; a message or frame over the
/// configured size is reported as tungstenite's `Error::Capacity`, whose text starts with
/// "Space limit exceeded". (Covered by the `an_oversized_frame_closes_the_socket_with_1009`
/// integration test, which fails if that text ever changes.)
fn is_too_big(error: &axum::Error) -> bool {
    error.to_string().contains("Space limit exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(refused: Refused) -> ErrorCode {
        refused.code
    }

    #[test]
    fn a_frame_that_is_not_json_is_invalid_json() {
        assert_eq!(
            code_of(decode("{not json").unwrap_err()),
            ErrorCode::InvalidJson
        );
    }

    #[test]
    fn a_frame_of_unknown_type_is_unknown_frame() {
        assert_eq!(
            code_of(decode(r#"{"type":"launch_missiles"}"#).unwrap_err()),
            ErrorCode::UnknownFrame
        );
    }

    #[test]
    fn a_known_frame_missing_a_field_is_invalid_json_and_keeps_its_client_id() {
        let frame = decode(
            r#"{"type":"send","client_id":"12345678-9abc-def0-1234-56789abcdef0","conversation_id":"x"}"#,
        )
        .unwrap_err();
        assert_eq!(frame.code, ErrorCode::InvalidJson);
        assert!(frame.client_id.is_some());
    }

    #[test]
    fn a_ping_decodes() {
        assert_eq!(
            decode(r#"{"type":"ping","nonce":4}"#).unwrap(),
            ClientFrame::Ping { nonce: 4 }
        );
    }
}
