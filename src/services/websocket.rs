//! The app's one WebSocket. [`WsConnector::connect`] starts a task that opens the socket, sends
//! [`ClientFrame::Auth`] first (the token never goes in the URL), reports every
//! [`ServerFrame`] and connection change through a callback, sends queued [`ClientFrame`]s,
//! pings every 20 s (no frame within 10 s of a ping: the socket is dead and reopened) and
//! reconnects with exponential backoff and full jitter (0.5 s → 30 s), at once when the
//! provider says the network is back. A renewed token re-authenticates the live socket; a
//! refused one parks the task until the session supplies another. Dropping the returned
//! [`Connection`] stops it all and closes the socket.
//!
//! The messaging provider only sees the [`Connector`] trait, so tests can hand it an in-memory
//! transport and drive the real provider, hooks and components with frames.

use colloque_protocol::{ClientFrame, ServerFrame};
use futures_channel::mpsc;
use futures_util::future::{AbortHandle, Abortable, Either, select};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::Message as WsMessage;
use gloo_net::websocket::futures::WebSocket;
use gloo_timers::future::{IntervalStream, TimeoutFuture};
use std::rc::Rc;
use yew::Callback;

/// How the live connection is doing, as shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnectionState {
    /// Authenticated and receiving events.
    Online,
    /// Opening or authenticating.
    Connecting,
    /// Down; a reconnection is scheduled (or nobody is logged in).
    #[default]
    Offline,
    /// The server closed this tab's socket because the account holds too many (other tabs
    /// took over): no reconnection until the person asks for one.
    Paused,
}

impl ConnectionState {
    /// The value of the indicator's `data-state` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Online => "online",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Offline => "offline",
            ConnectionState::Paused => "paused",
        }
    }
}

/// What a transport reports to the messaging provider.
#[derive(Debug, Clone, PartialEq)]
pub enum SocketEvent {
    /// The connection changed state. `Online` is reported when the server sent `Ready`, which
    /// also arrives as a [`SocketEvent::Frame`].
    State(ConnectionState),
    /// A frame from the server (boxed: frames are large, state changes tiny).
    Frame(Box<ServerFrame>),
}

/// A live transport. Dropping it disconnects.
pub trait Connection {
    /// Queues a frame; frames queued while disconnected are dropped (the provider resyncs
    /// pending messages itself when the server says `Ready` again). An
    /// [`ClientFrame::Auth`] carries a renewed token: the live socket authenticates again
    /// with it (the server answers `Ready` again) and every later reconnection uses it.
    fn send(&self, frame: ClientFrame);

    /// The network is back (the browser's `online` event): reconnect now rather than at the
    /// end of the backoff, or check a connection that looks alive with a ping.
    fn wake(&self) {}
}

/// Opens transports. The app uses [`WsConnector`]; tests inject their own.
pub trait Connector {
    /// Starts connecting with `token`, reporting through `events`.
    fn connect(&self, token: String, events: Callback<SocketEvent>) -> Box<dyn Connection>;
}

/// A [`Connector`] as a prop: compared by identity.
#[derive(Clone)]
pub struct ConnectorRef(pub Rc<dyn Connector>);

impl PartialEq for ConnectorRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Ping period. The server also closes sockets that stay silent for about a minute.
pub const PING_INTERVAL_MS: u32 = 20_000;
/// After a ping, no frame at all for this long means the link is dead (a half-open TCP
/// connection never reports a close): the socket is dropped and reopened.
pub const PONG_TIMEOUT_MS: u32 = 10_000;
const BACKOFF_MIN_MS: u32 = 500;
const BACKOFF_MAX_MS: u32 = 30_000;

/// The delay before retry `attempt` (0-based): the ceiling doubles from 0.5 s up to 30 s,
/// and the delay is drawn uniformly below it ("full jitter"), so that a server restart is
/// not greeted by every client at the same instant. `random` is in [0, 1). Used for the
/// socket's reconnections and for each message's resends.
pub fn backoff_delay_ms(attempt: u32, random: f64) -> u32 {
    let ceiling = BACKOFF_MIN_MS
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_MAX_MS);
    let random = if random.is_nan() {
        0.0
    } else {
        random.clamp(0.0, 1.0)
    };
    (f64::from(ceiling) * random).min(f64::from(ceiling - 1)) as u32
}

/// The real transport: a browser WebSocket.
pub struct WsConnector {
    url: String,
}

impl WsConnector {
    /// A connector for `url` (see [`crate::config::Config::ws_url`]).
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }
}

/// What the provider tells the socket task.
enum Command {
    Frame(ClientFrame),
    Token(String),
    Wake,
}

impl Connector for WsConnector {
    fn connect(&self, token: String, events: Callback<SocketEvent>) -> Box<dyn Connection> {
        let (tx, rx) = mpsc::unbounded();
        let (abort, registration) = AbortHandle::new_pair();
        let task = run(self.url.clone(), token, events, rx);
        wasm_bindgen_futures::spawn_local(async move {
            let _ = Abortable::new(task, registration).await;
        });
        Box::new(WsConnection { tx, abort })
    }
}

struct WsConnection {
    tx: mpsc::UnboundedSender<Command>,
    abort: AbortHandle,
}

impl Connection for WsConnection {
    fn send(&self, frame: ClientFrame) {
        let command = match frame {
            ClientFrame::Auth { token } => Command::Token(token),
            frame => Command::Frame(frame),
        };
        // Fails only once the task is gone (logout), when nothing needs sending any more.
        let _ = self.tx.unbounded_send(command);
    }

    fn wake(&self) {
        let _ = self.tx.unbounded_send(Command::Wake);
    }
}

impl Drop for WsConnection {
    fn drop(&mut self) {
        // Aborting drops the task, and with it the socket, which closes it.
        self.abort.abort();
    }
}

/// How one connection ended.
enum Ended {
    /// Never got to `Ready`.
    BeforeReady,
    /// Was ready, then dropped: reconnect quickly.
    AfterReady,
    /// The server refused the token: wait for the session to renew it (the provider asks).
    Refused,
    /// The server closed the socket because the account holds too many: stop, and let the
    /// provider (the person) decide when to connect again. Reconnecting by itself would
    /// close another tab's socket, which would reconnect in turn, for ever.
    Paused,
    /// The provider is gone (logout).
    Stopped,
}

/// The task's state across connections.
struct Link {
    url: String,
    token: String,
    events: Callback<SocketEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
}

impl Link {
    fn emit(&self, state: ConnectionState) {
        self.events.emit(SocketEvent::State(state));
    }

    /// Waits `ms`, or less if the network comes back. Frames queued meanwhile are stale: the
    /// provider resends what is still pending after `Ready`. False once the provider is gone.
    async fn pause(&mut self, ms: u32) -> bool {
        let mut sleep = TimeoutFuture::new(ms);
        loop {
            match select(&mut sleep, self.commands.next()).await {
                Either::Left(_) => return true,
                Either::Right((None, _)) => return false,
                Either::Right((Some(Command::Wake), _)) => return true,
                Either::Right((Some(Command::Token(token)), _)) => self.token = token,
                Either::Right((Some(Command::Frame(_)), _)) => {}
            }
        }
    }

    /// After a refusal: waits for a token other than the refused one (the provider has the
    /// session renew it), or at most the longest backoff: a renewal that crossed the refusal
    /// must not park the socket for good.
    async fn new_token(&mut self) -> bool {
        let refused = self.token.clone();
        let mut patience = TimeoutFuture::new(BACKOFF_MAX_MS);
        loop {
            match select(&mut patience, self.commands.next()).await {
                Either::Left(_) => return true,
                Either::Right((None, _)) => return false,
                Either::Right((Some(Command::Token(token)), _)) => self.token = token,
                Either::Right((Some(_), _)) => {}
            }
            if self.token != refused {
                return true;
            }
        }
    }
}

async fn run(
    url: String,
    token: String,
    events: Callback<SocketEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut link = Link {
        url,
        token,
        events,
        commands,
    };
    let mut attempt: u32 = 0;
    loop {
        link.emit(ConnectionState::Connecting);
        let ended = session(&mut link).await;
        if matches!(ended, Ended::Paused) {
            // The provider was told by the error frame, and shows the paused state.
            return;
        }
        link.emit(ConnectionState::Offline);
        let go_on = match ended {
            Ended::Stopped | Ended::Paused => false,
            Ended::Refused => link.new_token().await,
            Ended::AfterReady => {
                attempt = 0;
                link.pause(backoff_delay_ms(0, js_sys::Math::random()))
                    .await
            }
            Ended::BeforeReady => {
                let delay = backoff_delay_ms(attempt, js_sys::Math::random());
                attempt = attempt.saturating_add(1);
                link.pause(delay).await
            }
        };
        if !go_on {
            return;
        }
    }
}

fn encode(frame: &ClientFrame) -> WsMessage {
    // Our own frames always serialize.
    WsMessage::Text(serde_json::to_string(frame).unwrap_or_default())
}

/// Decodes a server frame with [`super::json`]. Equivalent to reading a [`ServerFrame`]
/// directly (a unit test checks every variant), but serde's derive for an internally tagged
/// enum buffers the frame in a generic `Content` tree and instantiates a second deserializer
/// for every type inside it; reading every variant's fields in one flat struct reuses the
/// instantiations the REST layer already has, which saves a good part of the bundle.
pub fn decode_frame(text: &str) -> Option<ServerFrame> {
    use colloque_protocol::{
        ApiError, ClientMsgId, ConversationId, ConversationSummary, Message, ReadCursor, UserId,
        UserProfile,
    };

    #[derive(serde::Deserialize)]
    struct Flat {
        #[serde(rename = "type")]
        kind: String,
        user: Option<UserProfile>,
        client_id: Option<ClientMsgId>,
        message: Option<Message>,
        cursor: Option<ReadCursor>,
        conversation: Option<ConversationSummary>,
        nonce: Option<u64>,
        error: Option<ApiError>,
        conversation_id: Option<ConversationId>,
        user_id: Option<UserId>,
    }

    let f: Flat = super::json::from_str(text).ok()?;
    Some(match f.kind.as_str() {
        "ready" => ServerFrame::Ready { user: f.user? },
        "ack" => ServerFrame::Ack {
            client_id: f.client_id?,
            message: f.message?,
        },
        "message" => ServerFrame::Message {
            message: f.message?,
        },
        "read" => ServerFrame::Read { cursor: f.cursor? },
        "delivered" => ServerFrame::Delivered { cursor: f.cursor? },
        "conversation" => ServerFrame::Conversation {
            conversation: f.conversation?,
        },
        "typing" => ServerFrame::Typing {
            conversation_id: f.conversation_id?,
            user_id: f.user_id?,
        },
        "pong" => ServerFrame::Pong { nonce: f.nonce? },
        "error" => ServerFrame::Error {
            error: f.error?,
            client_id: f.client_id,
        },
        _ => return None,
    })
}

async fn session(link: &mut Link) -> Ended {
    let Ok(socket) = WebSocket::open(&link.url) else {
        return Ended::BeforeReady;
    };
    let (mut sink, mut stream) = socket.split();
    let auth = ClientFrame::Auth {
        token: link.token.clone(),
    };
    if sink.send(encode(&auth)).await.is_err() {
        return Ended::BeforeReady;
    }
    let mut ready = false;
    let mut ticks = IntervalStream::new(PING_INTERVAL_MS);
    let mut nonce: u64 = 0;
    // Armed by a ping, disarmed by any frame from the server.
    let mut deadline: Option<TimeoutFuture> = None;
    let ended = loop {
        // Commands wait until the server said Ready: frames before it would be refused.
        let next_command = if ready {
            Either::Left(link.commands.next())
        } else {
            Either::Right(std::future::pending())
        };
        let silence = match deadline.as_mut() {
            Some(deadline) => Either::Left(deadline),
            None => Either::Right(std::future::pending()),
        };
        let timers = select(ticks.next(), silence);
        let mut ping = false;
        match select(select(stream.next(), next_command), timers).await {
            Either::Left((Either::Left((msg, _)), _)) => {
                let text = match msg {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Bytes(_))) => continue,
                    Some(Err(_)) | None => break None,
                };
                // The link is alive, whatever the frame.
                deadline = None;
                let Some(frame) = decode_frame(&text) else {
                    continue;
                };
                match &frame {
                    ServerFrame::Ready { .. } => {
                        ready = true;
                        link.emit(ConnectionState::Online);
                    }
                    ServerFrame::Pong { .. } => continue,
                    ServerFrame::Error {
                        error,
                        client_id: None,
                    } if error.code == colloque_protocol::ErrorCode::Unauthorized => {
                        link.events.emit(SocketEvent::Frame(Box::new(frame)));
                        break Some(Ended::Refused);
                    }
                    ServerFrame::Error {
                        error,
                        client_id: None,
                    } if error.code == colloque_protocol::ErrorCode::TooManySockets => {
                        link.events.emit(SocketEvent::Frame(Box::new(frame)));
                        break Some(Ended::Paused);
                    }
                    _ => {}
                }
                link.events.emit(SocketEvent::Frame(Box::new(frame)));
            }
            Either::Left((Either::Right((command, _)), _)) => {
                let frame = match command {
                    // The provider dropped its sender: logging out.
                    None => break Some(Ended::Stopped),
                    Some(Command::Frame(frame)) => frame,
                    Some(Command::Token(token)) => {
                        link.token = token;
                        ClientFrame::Auth {
                            token: link.token.clone(),
                        }
                    }
                    Some(Command::Wake) => {
                        // Looks alive, but the network just came back: make sure.
                        ping = true;
                        ClientFrame::Ping {
                            nonce: nonce.wrapping_add(1),
                        }
                    }
                };
                if sink.send(encode(&frame)).await.is_err() {
                    break None;
                }
            }
            Either::Right((Either::Left(_), _)) => {
                ping = true;
                if sink
                    .send(encode(&ClientFrame::Ping {
                        nonce: nonce.wrapping_add(1),
                    }))
                    .await
                    .is_err()
                {
                    break None;
                }
            }
            // No frame since the ping: the link is dead.
            Either::Right((Either::Right(_), _)) => break None,
        }
        if ping {
            nonce = nonce.wrapping_add(1);
            if deadline.is_none() {
                deadline = Some(TimeoutFuture::new(PONG_TIMEOUT_MS));
            }
        }
    };
    match ended {
        Some(ended) => ended,
        None if ready => Ended::AfterReady,
        None => Ended::BeforeReady,
    }
}

#[cfg(test)]
mod tests;
