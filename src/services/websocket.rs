//! The app's one WebSocket. [`WsConnector::connect`] starts a task that opens the socket, sends
//! [`ClientFrame::Auth`] first (the token never goes in the URL), reports every
//! [`ServerFrame`] and connection change through a callback, sends queued [`ClientFrame`]s,
//! pings every 20 s and reconnects with exponential backoff and jitter (0.5 s → 30 s).
//! Dropping the returned [`Connection`] stops it all and closes the socket.
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
}

impl ConnectionState {
    /// The value of the indicator's `data-state` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Online => "online",
            ConnectionState::Connecting => "connecting",
            ConnectionState::Offline => "offline",
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
    /// pending messages itself when the server says `Ready` again).
    fn send(&self, frame: ClientFrame);
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

/// Ping period; the server answers with `Pong`. A ping left unanswered for one full period
/// means the link is dead (a half-open TCP connection never reports a close).
pub const PING_INTERVAL_MS: u32 = 20_000;
const BACKOFF_MIN_MS: u32 = 500;
const BACKOFF_MAX_MS: u32 = 30_000;

/// The delay before reconnection attempt `attempt` (0-based): doubling from 0.5 s, capped at
/// 30 s, with "equal jitter" (half fixed, half random) so a server restart is not greeted by
/// every client at the same instant. `random` is in [0, 1).
pub fn backoff_delay_ms(attempt: u32, random: f64) -> u32 {
    let base = BACKOFF_MIN_MS
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_MAX_MS);
    let half = base / 2;
    half + (f64::from(half) * random.clamp(0.0, 1.0)) as u32
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
    tx: mpsc::UnboundedSender<ClientFrame>,
    abort: AbortHandle,
}

impl Connection for WsConnection {
    fn send(&self, frame: ClientFrame) {
        // Fails only once the task is gone (logout), when nothing needs sending any more.
        let _ = self.tx.unbounded_send(frame);
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
    /// The server refused the token: do not hammer it; the provider logs out.
    Refused,
}

async fn run(
    url: String,
    token: String,
    events: Callback<SocketEvent>,
    mut outgoing: mpsc::UnboundedReceiver<ClientFrame>,
) {
    let mut attempt: u32 = 0;
    loop {
        // Frames queued while down are stale: the provider resends what is still pending.
        while outgoing.try_recv().is_ok() {}
        events.emit(SocketEvent::State(ConnectionState::Connecting));
        match session(&url, &token, &events, &mut outgoing).await {
            Ended::AfterReady => attempt = 0,
            Ended::BeforeReady => {}
            Ended::Refused => {
                events.emit(SocketEvent::State(ConnectionState::Offline));
                return;
            }
        }
        events.emit(SocketEvent::State(ConnectionState::Offline));
        TimeoutFuture::new(backoff_delay_ms(attempt, js_sys::Math::random())).await;
        attempt = attempt.saturating_add(1);
    }
}

fn encode(frame: &ClientFrame) -> WsMessage {
    // Our own frames always serialize.
    WsMessage::Text(serde_json::to_string(frame).unwrap_or_default())
}

async fn session(
    url: &str,
    token: &str,
    events: &Callback<SocketEvent>,
    outgoing: &mut mpsc::UnboundedReceiver<ClientFrame>,
) -> Ended {
    let Ok(socket) = WebSocket::open(url) else {
        return Ended::BeforeReady;
    };
    let (mut sink, mut stream) = socket.split();
    let auth = ClientFrame::Auth {
        token: token.to_owned(),
    };
    if sink.send(encode(&auth)).await.is_err() {
        return Ended::BeforeReady;
    }
    let mut ready = false;
    let mut ticks = IntervalStream::new(PING_INTERVAL_MS);
    let mut nonce: u64 = 0;
    let mut awaiting_pong = false;
    loop {
        // Outgoing frames wait until the server said Ready: anything before would be refused.
        let next_out = if ready {
            Either::Left(outgoing.next())
        } else {
            Either::Right(std::future::pending())
        };
        let incoming = stream.next();
        let tick = ticks.next();
        match select(select(incoming, next_out), tick).await {
            Either::Left((Either::Left((msg, _)), _)) => {
                let text = match msg {
                    Some(Ok(WsMessage::Text(text))) => text,
                    Some(Ok(WsMessage::Bytes(_))) => continue,
                    Some(Err(_)) | None => break,
                };
                let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) else {
                    continue;
                };
                match &frame {
                    ServerFrame::Ready { .. } => {
                        ready = true;
                        events.emit(SocketEvent::State(ConnectionState::Online));
                    }
                    ServerFrame::Pong { .. } => {
                        awaiting_pong = false;
                        continue;
                    }
                    ServerFrame::Error {
                        error,
                        client_id: None,
                    } if error.code == colloque_protocol::ErrorCode::Unauthorized => {
                        events.emit(SocketEvent::Frame(Box::new(frame.clone())));
                        return Ended::Refused;
                    }
                    _ => {}
                }
                events.emit(SocketEvent::Frame(Box::new(frame)));
            }
            Either::Left((Either::Right((frame, _)), _)) => {
                let Some(frame) = frame else {
                    // The provider dropped its sender: logging out.
                    return Ended::Refused;
                };
                if sink.send(encode(&frame)).await.is_err() {
                    break;
                }
            }
            Either::Right(_) => {
                if awaiting_pong {
                    break;
                }
                nonce = nonce.wrapping_add(1);
                awaiting_pong = true;
                if sink
                    .send(encode(&ClientFrame::Ping { nonce }))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    if ready {
        Ended::AfterReady
    } else {
        Ended::BeforeReady
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_at_half_a_second_and_caps_at_thirty() {
        assert_eq!(backoff_delay_ms(0, 0.999_999), 499);
        assert_eq!(backoff_delay_ms(0, 0.0), 250);
        assert_eq!(backoff_delay_ms(3, 0.0), 2_000);
        assert!(backoff_delay_ms(30, 0.999_999) <= 30_000);
        assert_eq!(backoff_delay_ms(30, 0.0), 15_000);
    }

    #[test]
    fn connection_states_have_stable_attribute_values() {
        assert_eq!(ConnectionState::Online.as_str(), "online");
        assert_eq!(ConnectionState::Connecting.as_str(), "connecting");
        assert_eq!(ConnectionState::Offline.as_str(), "offline");
    }
}
