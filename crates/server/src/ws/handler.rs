//! One task per socket direction, like axum's chat example: after authentication the socket is
//! split; the writer drains the socket's queue (its own answers and pushed events, in order),
//! the reader handles client frames. When either ends, the other is stopped.

use super::hub::{Kick, Outbound, Registration};
use crate::auth::{self, AuthUser};
use crate::chat;
use crate::db;
use crate::domain::MessageBody;
use crate::error::AppError;
use crate::state::AppState;
use crate::util::now_ms;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use colloque_protocol::{
    ApiError, ClientFrame, ClientMsgId, ErrorCode, MAX_FRAME_BYTES, ServerFrame, Timestamp,
};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long a new socket may take to send its `auth` frame.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the writer may take to flush its last frames once the reader ended.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_NORMAL: u16 = 1000;

/// The frame types this server understands, to tell an unknown `type` from a malformed frame.
const KNOWN_TYPES: [&str; 4] = ["auth", "send", "mark_read", "ping"];

/// `GET /ws`: upgrades the connection. Frames (and messages) over [`MAX_FRAME_BYTES`] close the
/// socket with 1009.
pub async fn handler(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| connection(socket, state))
}

#[tracing::instrument(name = "ws", skip_all, fields(user = tracing::field::Empty))]
async fn connection(mut socket: WebSocket, state: AppState) {
    let Some(user) = authenticate(&mut socket, &state).await else {
        return;
    };
    tracing::Span::current().record("user", tracing::field::display(user.id));
    tracing::debug!("socket authenticated");

    let Registration { id, tx, rx, kicked } = state.hub.register(user.id, user.session.clone());

    // Ready goes out before the writer starts, so it is the first frame after `auth` even if
    // events were queued in the meantime.
    let profile = match db::users::profile(&state.db, user.id).await {
        Ok(Some(profile)) => profile,
        Ok(None) => {
            state.hub.unregister(user.id, id);
            let _ = socket.send(close(CLOSE_POLICY, "unknown user")).await;
            return;
        }
        Err(error) => {
            tracing::error!(%error, "failed to load the profile of a socket's user");
            state.hub.unregister(user.id, id);
            let _ = socket.send(close(1011, "internal error")).await;
            return;
        }
    };
    if send_frame(&mut socket, &ServerFrame::Ready { user: profile })
        .await
        .is_err()
    {
        state.hub.unregister(user.id, id);
        return;
    }

    let (sink, stream) = socket.split();
    let mut writer = tokio::spawn(write_loop(sink, rx, kicked, user.expires_at));
    let mut reader = tokio::spawn(read_loop(stream, tx, state.clone(), user.clone(), id));

    tokio::select! {
        _ = &mut writer => reader.abort(),
        _ = &mut reader => {
            // The reader's queue handle is gone; dropping the hub's lets the writer flush what
            // is queued (e.g. an error frame, then a close) and stop.
            state.hub.unregister(user.id, id);
            if tokio::time::timeout(FLUSH_TIMEOUT, &mut writer).await.is_err() {
                writer.abort();
            }
        }
    }
    state.hub.unregister(user.id, id);
    tracing::debug!("socket closed");
}

/// Waits for the `auth` frame. Other frames get an error (`not_authenticated`,
/// `invalid_json`, ...) and the socket stays open until the deadline; a bad token gets an
/// `unauthorized` error frame and a 1008 close.
async fn authenticate(socket: &mut WebSocket, state: &AppState) -> Option<AuthUser> {
    let deadline = tokio::time::Instant::now() + AUTH_TIMEOUT;
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
            Ok(ClientFrame::Auth { token }) => {
                match auth::authenticate(&state.tokens, &state.db, &token).await {
                    Ok(user) => return Some(user),
                    Err(error) => {
                        let error = match error {
                            AppError::Internal(_) => error,
                            _ => AppError::Unauthorized,
                        };
                        let _ = send_frame(socket, &error_frame(&error, None)).await;
                        let _ = socket.send(close(CLOSE_POLICY, "unauthorized")).await;
                        return None;
                    }
                }
            }
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

async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    tx: mpsc::Sender<Outbound>,
    state: AppState,
    user: AuthUser,
    conn: super::ConnId,
) {
    while let Some(received) = stream.next().await {
        let reply = match received {
            Ok(WsMessage::Text(text)) => match decode(text.as_str()) {
                Ok(frame) => match handle(&state, &user, conn, frame).await {
                    Ok(reply) => reply,
                    Err(Closing(code, reason)) => {
                        let _ = tx
                            .send(Outbound::frame(&error_frame(&AppError::Unauthorized, None)))
                            .await;
                        let _ = tx.send(Outbound::Close(code, reason)).await;
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
                    let _ = tx
                        .send(Outbound::Close(CLOSE_TOO_BIG, "frame too large"))
                        .await;
                } else {
                    tracing::debug!(%error, "socket read failed");
                }
                return;
            }
        };
        if tx.send(Outbound::frame(&reply)).await.is_err() {
            return;
        }
    }
}

/// The socket must close: its session is no longer valid.
struct Closing(u16, &'static str);

/// Handles one authenticated client frame, returning the frame that answers it.
async fn handle(
    state: &AppState,
    user: &AuthUser,
    conn: super::ConnId,
    frame: ClientFrame,
) -> Result<ServerFrame, Closing> {
    if let ClientFrame::Ping { nonce } = frame {
        return Ok(ServerFrame::Pong { nonce });
    }
    // Re-check the session before anything that reads or writes data: a logout in another
    // process, a disabled account or an expired session stop the socket here.
    match db::sessions::active_user(&state.db, &user.session, user.id, now_ms()).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(Closing(CLOSE_POLICY, "session ended")),
        Err(error) => return Ok(error_frame(&error.into(), send_client_id(&frame))),
    }
    Ok(match frame {
        ClientFrame::Send {
            conversation_id,
            client_id,
            body,
        } => {
            let result = match MessageBody::parse(&body) {
                Ok(body) => {
                    chat::send_message(state, user, conversation_id, client_id, &body, Some(conn))
                        .await
                }
                Err(error) => Err(error.into()),
            };
            match result {
                Ok(sent) => ServerFrame::Ack {
                    client_id,
                    message: sent.message,
                },
                Err(error) => error_frame(&error, Some(client_id)),
            }
        }
        ClientFrame::MarkRead {
            conversation_id,
            seq,
        } => match chat::mark_read(state, user, conversation_id, seq, Some(conn)).await {
            // The other sockets got the same frame from the hub.
            Ok(cursor) => ServerFrame::Read { cursor },
            Err(error) => error_frame(&error, None),
        },
        ClientFrame::Auth { .. } => ServerFrame::Error {
            error: ApiError::new(
                ErrorCode::InvalidInput,
                "this socket is already authenticated",
            ),
            client_id: None,
        },
        ClientFrame::Ping { nonce } => ServerFrame::Pong { nonce },
    })
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, WsMessage>,
    mut rx: mpsc::Receiver<Outbound>,
    mut kicked: oneshot::Receiver<Kick>,
    expires_at: Timestamp,
) {
    let until_expiry = Duration::from_millis(u64::try_from(expires_at.0 - now_ms().0).unwrap_or(0));
    let expiry = tokio::time::sleep(until_expiry);
    tokio::pin!(expiry);
    let mut kick_pending = true;
    loop {
        tokio::select! {
            biased;
            kick = &mut kicked, if kick_pending => match kick {
                Ok(kick) => {
                    let _ = sink.send(close(kick.code, kick.reason)).await;
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
                if let Ok(text) = serde_json::to_string(&expired) {
                    let _ = sink.send(WsMessage::Text(text.into())).await;
                }
                let _ = sink.send(close(CLOSE_POLICY, "session expired")).await;
                return;
            }
            outbound = rx.recv() => match outbound {
                Some(Outbound::Text(text)) => {
                    if sink.send(WsMessage::Text(text)).await.is_err() {
                        return;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let _ = sink.send(close(code, reason)).await;
                    return;
                }
                None => {
                    let _ = sink.send(close(CLOSE_NORMAL, "")).await;
                    return;
                }
            },
        }
    }
}

/// A frame that could not be decoded.
#[derive(Debug)]
struct Refused {
    code: ErrorCode,
    message: &'static str,
    client_id: Option<ClientMsgId>,
}

impl Refused {
    fn into_frame(self) -> ServerFrame {
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
fn decode(text: &str) -> Result<ClientFrame, Refused> {
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
