//! The reading side of an authenticated socket: client frames in, each handled through
//! [`crate::chat`] and answered on the socket's queue (which the [`super::writer`] drains).

use super::frames::{
    CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_TOO_BIG, binary_refused, decode, error_frame, is_too_big,
    send_client_id,
};
use crate::audit::{Action, Entry, Source};
use crate::auth::{self, AuthUser};
use crate::chat;
use crate::delivery::Outbound;
use crate::domain::MessageBody;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::ws::{Message as WsMessage, WebSocket};
use colloque_protocol::{ClientFrame, ConversationId, ServerFrame, TYPING_INTERVAL_MS};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The reading side of an authenticated socket.
pub(super) struct Conn {
    pub(super) state: AppState,
    pub(super) user: AuthUser,
    pub(super) id: crate::delivery::ConnId,
    pub(super) tx: mpsc::Sender<Outbound>,
    pub(super) source: Source,
    /// When the session was last found live in the database.
    pub(super) session_checked: Option<Instant>,
    /// The latest `typing` frame passed on: at most one per conversation and
    /// [`TYPING_INTERVAL_MS`], whatever the client sends.
    pub(super) last_typing: Option<(ConversationId, Instant)>,
}

/// The socket must close: its session is no longer valid.
struct Closing(u16, &'static str);

impl Conn {
    pub(super) async fn read_loop(&mut self, mut stream: SplitStream<WebSocket>) {
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
                // Boxed: a reader spends its life waiting for frames, and without the box its
                // future keeps room for the largest handling (a send's) on every idle socket.
                Ok(WsMessage::Text(text)) => match decode(text.as_str()) {
                    Ok(frame) => match Box::pin(self.handle(frame)).await {
                        Ok(Some(reply)) => reply,
                        Ok(None) => continue,
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

    /// Handles one authenticated client frame, returning the frame that answers it (none for
    /// `typing`, unless refused).
    async fn handle(&mut self, frame: ClientFrame) -> Result<Option<ServerFrame>, Closing> {
        // Every frame counts against the user's budget, shared with their REST requests; past
        // it the frame is refused (a send's `client_id` is kept: the client retries later).
        if let Err(wait) = self.state.throttles.requests.take(&self.user.id) {
            return Ok(Some(error_frame(
                &AppError::rate_limited(wait),
                send_client_id(&frame),
            )));
        }
        let frame = match frame {
            ClientFrame::Ping { nonce } => return Ok(Some(ServerFrame::Pong { nonce })),
            ClientFrame::Auth { token } => return self.reauthenticate(&token).await.map(Some),
            // Dropped before anything is read: a client cannot make the server work harder
            // by writing faster.
            ClientFrame::Typing { conversation_id } if self.typing_too_soon(conversation_id) => {
                return Ok(None);
            }
            frame => frame,
        };
        let (state, user) = (&self.state, &self.user);
        // Re-check the session before anything that reads or writes data, at most once per
        // revocation check (5 s by default): a logout closes the session's sockets at once on
        // every instance (the registry kicks them here, the bus tells the others), and the
        // instance's periodic check closes the rest as often; this covers a frame that arrives
        // in between. (Once a second was the bound on one server; in a cluster it was one
        // database read per send, the cluster benchmark's largest query.)
        if self
            .session_checked
            .is_none_or(|at| at.elapsed() >= self.state.limits.revocation_check)
        {
            let checked = auth::check_session(
                &state.store,
                &state.touches,
                state.limits.session_rules(),
                &user.session,
                user.id,
                user.generation,
            )
            .await;
            match checked {
                Ok(Some(_)) => self.session_checked = Some(Instant::now()),
                Ok(None) => return Err(Closing(CLOSE_POLICY, "session ended")),
                Err(error) => return Ok(Some(error_frame(&error, send_client_id(&frame)))),
            }
        }
        let conn = Some(self.id);
        let (conversation, result) = match frame {
            ClientFrame::Send {
                conversation_id,
                client_id,
                body,
                urgent,
                attachment_ids,
                template_id,
            } => {
                let result = match MessageBody::parse(&body) {
                    Ok(body) => {
                        // While it is in flight, a gap filled from the database does not push
                        // this socket its own message: the ack will stand for it.
                        let registry = state.delivery.registry();
                        registry.sending(user.id, self.id, client_id);
                        let outgoing = chat::Outgoing {
                            conversation_id,
                            client_id,
                            body,
                            urgent: urgent.then(|| self.source.clone()),
                            attachments: attachment_ids,
                            template: template_id.map(|id| (id, self.source.clone())),
                        };
                        let sent = chat::send_message(state, user, outgoing, conn).await;
                        registry.answered(user.id, self.id, client_id);
                        sent
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
            ClientFrame::Received {
                conversation_id,
                seq,
            } => {
                let kind = chat::CursorKind::Delivered;
                let result = chat::move_cursor(state, user, kind, conversation_id, seq, conn).await;
                let reply = result
                    .map(|cursor| ServerFrame::Delivered { cursor })
                    .map_err(|error| (error, None));
                (conversation_id, reply)
            }
            ClientFrame::Typing { conversation_id } => {
                match chat::typing(state, user, conversation_id).await {
                    Ok(()) => return Ok(None),
                    Err(error) => (conversation_id, Err((error, None))),
                }
            }
            ClientFrame::Ping { .. } | ClientFrame::Auth { .. } => {
                unreachable!("handled above")
            }
        };
        Ok(Some(match result {
            Ok(reply) => reply,
            Err((error, client_id)) => {
                if error.is_access_denial() {
                    self.audit_refusal(conversation, &error);
                }
                error_frame(&error, client_id)
            }
        }))
    }

    /// True when a `typing` frame for `conversation` was passed on less than
    /// [`TYPING_INTERVAL_MS`] ago (it is dropped); else notes this one.
    fn typing_too_soon(&mut self, conversation: ConversationId) -> bool {
        let interval = Duration::from_millis(TYPING_INTERVAL_MS.unsigned_abs());
        if let Some((last, at)) = self.last_typing
            && last == conversation
            && at.elapsed() < interval
        {
            return true;
        }
        self.last_typing = Some((conversation, Instant::now()));
        false
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
            state.limits.session_rules(),
            token,
        )
        .await;
        let renewed = match renewed {
            Ok(renewed) if renewed.id == self.user.id && !renewed.enrolment_only => renewed,
            Ok(renewed) if renewed.enrolment_only => {
                return Err(Closing(CLOSE_POLICY, "enrol first"));
            }
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
        self.state.delivery.registry().set_session(
            renewed.id,
            self.id,
            renewed.session.clone(),
            renewed.generation,
        );
        let _ = self.tx.send(Outbound::Expiry(renewed.expires_at)).await;
        self.user = renewed;
        self.session_checked = Some(Instant::now());
        Ok(ServerFrame::Ready { user: profile })
    }

    /// Counts a refused frame in the audit trail (one row per minute, not per frame).
    fn audit_refusal(&self, conversation: ConversationId, error: &AppError) {
        let entry = Entry::new(Action::WsFrameRefused, Some(self.user.id))
            .conversation(conversation)
            .detail(format!("{:?}", error.code()));
        self.state.audit.refused(&self.source, &entry);
    }
}
