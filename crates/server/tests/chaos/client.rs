//! A protocol-level client, faithful to what the app does (the Yew app cannot run natively):
//!
//! - every message gets a UUID v4 client id when it is written, before its first send, and goes
//!   into an outbox that lives in the client, not in the connection: it survives socket cuts and
//!   server kills, and a message stays there until the server confirms it;
//! - messages are sent over the WebSocket (`send`) and confirmed by `ack`; after each
//!   (re)connection everything still in the outbox is sent again (the server is idempotent on
//!   (sender, client id)); transient refusals (`rate_limited`, `internal`, ...) are retried
//!   with exponential backoff and full jitter, per message, so one stuck message blocks none;
//! - the client keeps the last sequence number it delivered; on every `ready` it catches up
//!   with `GET /api/conversations/{id}/messages?after=<last>&limit=100` until `has_more` is
//!   false; pushes, acks and history pages are merged by seq (a `BTreeMap`) and handed to the
//!   "UI" only contiguously, so the UI sees every message once, in seq order, with no gap;
//! - reconnection uses exponential backoff with jitter; a dead socket is detected with pings.
//!
//! Delays are scaled down from the app's (0.5 s → 30 s) so that a test run stays short.

use colloque_protocol::{
    ClientFrame, ClientMsgId, ConversationId, ErrorCode, LoginResponse, Message, MessagePage, Seq,
    ServerFrame, UserId,
};
use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type PageFuture = Pin<Box<dyn Future<Output = Result<MessagePage, RestError>> + Send>>;

/// Reconnection: doubling from 25 ms, capped at 1 s, equal jitter (the app: 0.5 s → 30 s).
const RECONNECT_MIN: Duration = Duration::from_millis(25);
const RECONNECT_MAX: Duration = Duration::from_secs(1);
/// Per-message retry after a transient refusal: full jitter, 50 ms → 2 s.
const RETRY_MIN: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_secs(2);
/// Connecting and authenticating must finish within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Heartbeat: a ping when nothing arrived for this long...
const PING_AFTER: Duration = Duration::from_millis(1_000);
/// ...and the socket is declared dead when still nothing arrived this long after the ping.
const DEAD_AFTER: Duration = Duration::from_secs(4);
/// A send still unanswered on a live socket after this is sent again (idempotent).
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// A gap in the received sequence that lasts this long triggers a catch-up.
const GAP_PATIENCE: Duration = Duration::from_millis(300);
/// History page size for catch-up: the protocol's maximum.
const PAGE: u32 = colloque_protocol::MAX_PAGE_SIZE;
/// Housekeeping period of a connected client (timers, heartbeat, gap check).
const TICK: Duration = Duration::from_millis(20);

/// Commands from the test to a running client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Drop the socket abruptly (no close handshake); the client reconnects.
    Cut,
    /// Stop and hand the state back.
    Stop,
}

/// Live counters, read by the test while the client runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Messages written so far (given a client id).
    pub created: AtomicU64,
    /// Messages confirmed by the server (ack, or seen in history).
    pub confirmed: AtomicU64,
    /// Messages still in the outbox.
    pub outbox: AtomicU64,
    /// The last seq delivered to the UI.
    pub delivered_seq: AtomicI64,
    /// Sessions that reached `ready`.
    pub readies: AtomicU64,
    /// True while a socket is authenticated.
    pub online: AtomicBool,
    /// True when the last catch-up reached `has_more = false` on the current socket.
    pub caught_up: AtomicBool,
}

/// What the client needs to know about itself.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// "patient" or "doctor", for messages and reports.
    pub name: &'static str,
    /// Login email (the demo password is used).
    pub email: String,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// `ws://127.0.0.1:<port>/ws`.
    pub ws_url: String,
    /// The conversation to write to and follow.
    pub conversation: ConversationId,
    /// How many messages to write in all.
    pub quota: u64,
    /// At most this many messages in the outbox; writing pauses when it is full.
    pub window: usize,
    /// Seed of this client's randomness (client ids, bodies, jitter).
    pub seed: u64,
}

/// The history of one message, for the checker.
#[derive(Debug, Clone)]
pub struct SendRecord {
    /// The client id, fixed before the first send.
    pub client_id: ClientMsgId,
    /// The text.
    pub body: String,
    /// How many times a `send` frame carried it.
    pub attempts: u32,
    /// How many `ack` frames came back for it (more than one after a resend is normal).
    pub acks: u32,
    /// The stored message, from the first confirmation.
    pub confirmed: Option<Message>,
    /// True when the confirmation was an `ack`, false when history showed it first.
    pub confirmed_by_ack: bool,
    /// How many times it was in flight (sent, unconfirmed) when its socket died.
    pub interrupted: u32,
    /// Wall-clock time (ms) of the last such interruption.
    pub last_interrupted_ms: Option<i64>,
    /// Transient refusals received.
    pub transient_errors: u32,
    /// A permanent refusal: the message was given up (a test failure).
    pub failed: Option<ErrorCode>,
    /// An ack or page gave a different stored message for this client id (a server bug).
    pub conflicting_confirmations: u32,
}

/// Counters of what happened to the client.
#[derive(Debug, Default, Clone)]
pub struct ClientStats {
    /// Connection attempts.
    pub connects: u64,
    /// Sessions that reached `ready`.
    pub readies: u64,
    /// Sockets cut on command.
    pub cuts: u64,
    /// Sockets that ended otherwise after `ready` (server killed, kicked, dead).
    pub drops: u64,
    /// `send` frames written.
    pub transmissions: u64,
    /// `ack` frames received.
    pub acks: u64,
    /// `message` pushes received for the conversation.
    pub pushes: u64,
    /// History pages fetched while catching up.
    pub pages: u64,
    /// Catch-ups that reached `has_more = false`.
    pub catchups: u64,
    /// Catch-ups started because of a gap in what arrived (not at `ready`).
    pub gap_catchups: u64,
    /// Catch-up requests that failed (server down, timeout).
    pub page_failures: u64,
    /// Messages received (push, ack, page) that were already delivered.
    pub redundant: u64,
    /// Sends answered with a transient error, by code.
    pub transient_errors: BTreeMap<String, u64>,
    /// Error frames without a client id, by code.
    pub other_errors: BTreeMap<String, u64>,
    /// Sends resent because no answer came on a live socket.
    pub ack_timeouts: u64,
    /// Sockets declared dead by the heartbeat.
    pub heartbeat_deaths: u64,
    /// Logins (the first one included).
    pub logins: u64,
    /// Acks for a client id this client never wrote (a server bug).
    pub unknown_acks: u64,
    /// Two different messages received for one seq (a server bug).
    pub seq_conflicts: u64,
    /// Messages of another conversation received (a server bug).
    pub foreign: u64,
    /// Frames this client could not decode (a newer server?).
    pub unknown_frames: u64,
}

struct Pending {
    order: usize,
    /// The socket number it was last sent on, and when; `None` when it must be sent.
    in_flight: Option<(u64, Instant)>,
    /// Not before this (after a transient refusal).
    not_before: Instant,
    /// Transient refusals so far, for the backoff.
    refusals: u32,
}

/// How a session ended.
enum Ended {
    /// The test asked to stop.
    Stop,
    /// Never reached `ready`.
    BeforeReady,
    /// Reached `ready`, then the socket was lost or cut.
    AfterReady,
}

/// An error of a REST call.
#[derive(Debug)]
pub enum RestError {
    /// No answer (server down, timeout).
    Transport(String),
    /// An HTTP error status.
    Status(u16),
}

impl std::fmt::Display for RestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestError::Transport(error) => write!(f, "no answer: {error}"),
            RestError::Status(status) => write!(f, "HTTP {status}"),
        }
    }
}

/// One user's client.
pub struct Client {
    /// Its configuration.
    pub config: ClientConfig,
    /// The user, once logged in.
    pub user_id: UserId,
    token: String,
    http: reqwest::Client,
    rng: StdRng,
    /// Every message written, in writing order.
    pub records: Vec<SendRecord>,
    by_client_id: HashMap<ClientMsgId, usize>,
    outbox: BTreeMap<ClientMsgId, Pending>,
    /// Received but not deliverable yet (a gap before them).
    buffer: BTreeMap<Seq, Message>,
    /// Everything delivered to the UI, in delivery order.
    pub delivered: Vec<Message>,
    /// The last seq delivered.
    pub last_seq: Seq,
    /// When the last message was delivered.
    pub last_delivery_at: Option<Instant>,
    /// Counters.
    pub stats: ClientStats,
    /// Live counters shared with the test.
    pub progress: Arc<Progress>,
    confirmed: u64,
    socket_no: u64,
    reconnect_attempt: u32,
}

impl Client {
    /// Logs in (retrying while the server is unavailable, until `deadline`).
    pub async fn login(config: ClientConfig, deadline: Instant) -> Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("http client");
        let rng = StdRng::seed_from_u64(config.seed);
        let mut client = Client {
            config,
            user_id: UserId(0),
            token: String::new(),
            http,
            rng,
            records: Vec::new(),
            by_client_id: HashMap::new(),
            outbox: BTreeMap::new(),
            buffer: BTreeMap::new(),
            delivered: Vec::new(),
            last_seq: Seq(0),
            last_delivery_at: None,
            stats: ClientStats::default(),
            progress: Arc::new(Progress::default()),
            confirmed: 0,
            socket_no: 0,
            reconnect_attempt: 0,
        };
        loop {
            match client.relogin().await {
                Ok(()) => return client,
                Err(error) if Instant::now() < deadline => {
                    eprintln!("{}: login failed ({error}), retrying", client.config.name);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("{}: login failed: {error}", client.config.name),
            }
        }
    }

    /// The current access token.
    pub fn token(&self) -> &str {
        &self.token
    }

    async fn relogin(&mut self) -> Result<(), RestError> {
        self.stats.logins += 1;
        let response = self
            .http
            .post(format!("{}/api/auth/login", self.config.base_url))
            .json(&serde_json::json!({
                "email": self.config.email,
                "password": colloque_server::DEMO_PASSWORD,
            }))
            .send()
            .await
            .map_err(|e| RestError::Transport(e.to_string()))?;
        if !response.status().is_success() {
            return Err(RestError::Status(response.status().as_u16()));
        }
        let login: LoginResponse = response
            .json()
            .await
            .map_err(|e| RestError::Transport(e.to_string()))?;
        self.token = login.token;
        self.user_id = login.user.id;
        Ok(())
    }

    /// Runs until [`Command::Stop`] (or `deadline`), reconnecting as needed, and hands the
    /// state back. It can be run again afterwards (a client that comes back online).
    pub async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        deadline: Instant,
    ) -> Client {
        loop {
            if Instant::now() > deadline {
                return self;
            }
            let ended = self.session(&mut commands).await;
            self.progress.online.store(false, Ordering::SeqCst);
            self.progress.caught_up.store(false, Ordering::SeqCst);
            self.socket_lost();
            match ended {
                Ended::Stop => return self,
                Ended::AfterReady => self.reconnect_attempt = 0,
                Ended::BeforeReady => {}
            }
            // Writing goes on while offline: new messages wait in the outbox.
            self.write_messages();
            let delay = self.reconnect_delay();
            self.reconnect_attempt = self.reconnect_attempt.saturating_add(1);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                command = commands.recv() => match command {
                    Some(Command::Stop) | None => return self,
                    Some(Command::Cut) => {}
                },
            }
        }
    }

    fn reconnect_delay(&mut self) -> Duration {
        let base = RECONNECT_MIN
            .saturating_mul(1 << self.reconnect_attempt.min(16))
            .min(RECONNECT_MAX);
        let half = base / 2;
        half + half.mul_f64(self.rng.random::<f64>())
    }

    fn retry_delay(&mut self, refusals: u32) -> Duration {
        let cap = RETRY_MIN
            .saturating_mul(1 << refusals.min(16))
            .min(RETRY_MAX);
        cap.mul_f64(self.rng.random::<f64>())
    }

    /// Whatever was in flight on the lost socket must be sent again.
    fn socket_lost(&mut self) {
        let now_ms = wall_ms();
        for pending in self.outbox.values_mut() {
            if pending.in_flight.take().is_some() {
                let record = &mut self.records[pending.order];
                record.interrupted += 1;
                record.last_interrupted_ms = Some(now_ms);
            }
        }
    }

    /// The user writes: new messages while there is room in the outbox.
    fn write_messages(&mut self) {
        while (self.records.len() as u64) < self.config.quota
            && self.outbox.len() < self.config.window
        {
            let number = self.records.len();
            let client_id =
                ClientMsgId(uuid::Builder::from_random_bytes(self.rng.random()).into_uuid());
            let body = body_text(self.config.name, number, &mut self.rng);
            self.by_client_id.insert(client_id, number);
            self.records.push(SendRecord {
                client_id,
                body,
                attempts: 0,
                acks: 0,
                confirmed: None,
                confirmed_by_ack: false,
                interrupted: 0,
                last_interrupted_ms: None,
                transient_errors: 0,
                failed: None,
                conflicting_confirmations: 0,
            });
            self.outbox.insert(
                client_id,
                Pending {
                    order: number,
                    in_flight: None,
                    not_before: Instant::now(),
                    refusals: 0,
                },
            );
        }
        self.publish_progress();
    }

    fn publish_progress(&self) {
        self.progress
            .created
            .store(self.records.len() as u64, Ordering::SeqCst);
        self.progress
            .confirmed
            .store(self.confirmed, Ordering::SeqCst);
        self.progress
            .outbox
            .store(self.outbox.len() as u64, Ordering::SeqCst);
        self.progress
            .delivered_seq
            .store(self.last_seq.0, Ordering::SeqCst);
    }

    async fn session(&mut self, commands: &mut mpsc::UnboundedReceiver<Command>) -> Ended {
        self.socket_no += 1;
        let socket = self.socket_no;
        self.stats.connects += 1;
        let mut ws = tokio::select! {
            connected = tokio::time::timeout(CONNECT_TIMEOUT, self.authenticate()) => match connected {
                Ok(Some(ws)) => ws,
                _ => return Ended::BeforeReady,
            },
            command = commands.recv() => return match command {
                Some(Command::Stop) | None => Ended::Stop,
                Some(Command::Cut) => Ended::BeforeReady,
            },
        };
        self.stats.readies += 1;
        self.progress.readies.fetch_add(1, Ordering::SeqCst);
        self.progress.online.store(true, Ordering::SeqCst);

        // Catch up on what was missed, while sending what is pending and receiving pushes.
        let mut catchup: Option<PageFuture> = Some(self.fetch_after(self.last_seq));
        let mut catchup_retry_at: Option<Instant> = None;
        let mut gap_since: Option<Instant> = None;
        let mut last_received = Instant::now();
        let mut ping_sent: Option<Instant> = None;
        let mut nonce = 0u64;
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        if self.pump(&mut ws, socket).await.is_err() {
            return Ended::AfterReady;
        }
        loop {
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    Some(Command::Stop) | None => {
                        let _ = ws.close(None).await;
                        return Ended::Stop;
                    }
                    Some(Command::Cut) => {
                        // Abrupt: the socket is dropped without a close handshake.
                        self.stats.cuts += 1;
                        drop(ws);
                        return Ended::AfterReady;
                    }
                },
                received = ws.next() => {
                    last_received = Instant::now();
                    ping_sent = None;
                    match received {
                        Some(Ok(WsMessage::Text(text))) => {
                            let Ok(frame) = serde_json::from_str::<ServerFrame>(text.as_str()) else {
                                self.stats.unknown_frames += 1;
                                continue;
                            };
                            match self.on_frame(frame) {
                                FrameOutcome::Continue => {}
                                FrameOutcome::CatchUp => {
                                    if catchup.is_none() {
                                        catchup = Some(self.fetch_after(self.last_seq));
                                    }
                                }
                                FrameOutcome::Relogin => {
                                    let _ = self.relogin().await;
                                    self.stats.drops += 1;
                                    return Ended::AfterReady;
                                }
                            }
                        }
                        Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => {
                            self.stats.drops += 1;
                            return Ended::AfterReady;
                        }
                        Some(Ok(_)) => {}
                    }
                }
                page = async { catchup.as_mut().expect("guarded").await }, if catchup.is_some() => {
                    catchup = None;
                    match page {
                        Ok(page) => {
                            self.stats.pages += 1;
                            let last = page.messages.last().map(|m| m.seq);
                            let has_more = page.has_more;
                            for message in page.messages {
                                self.absorb(message, false);
                            }
                            match (has_more, last) {
                                (true, Some(last)) => catchup = Some(self.fetch_after(last)),
                                _ => {
                                    self.stats.catchups += 1;
                                    self.progress.caught_up.store(true, Ordering::SeqCst);
                                }
                            }
                        }
                        Err(RestError::Status(401)) => {
                            self.stats.page_failures += 1;
                            let _ = self.relogin().await;
                            catchup_retry_at = Some(Instant::now());
                        }
                        Err(_) => {
                            self.stats.page_failures += 1;
                            catchup_retry_at = Some(Instant::now() + Duration::from_millis(100));
                        }
                    }
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    if let Some(at) = catchup_retry_at && now >= at && catchup.is_none() {
                        catchup_retry_at = None;
                        catchup = Some(self.fetch_after(self.last_seq));
                    }
                    // A gap that does not fill by itself: ask the history.
                    if self.buffer.is_empty() {
                        gap_since = None;
                    } else if catchup.is_none() && catchup_retry_at.is_none() {
                        let since = *gap_since.get_or_insert(now);
                        if now - since >= GAP_PATIENCE {
                            self.stats.gap_catchups += 1;
                            gap_since = None;
                            catchup = Some(self.fetch_after(self.last_seq));
                        }
                    }
                    // Heartbeat.
                    match ping_sent {
                        Some(at) if now - at >= DEAD_AFTER => {
                            self.stats.heartbeat_deaths += 1;
                            self.stats.drops += 1;
                            return Ended::AfterReady;
                        }
                        None if now - last_received >= PING_AFTER => {
                            nonce += 1;
                            if send_frame(&mut ws, &ClientFrame::Ping { nonce }).await.is_err() {
                                self.stats.drops += 1;
                                return Ended::AfterReady;
                            }
                            ws_flush_ok(&mut ws).await;
                            ping_sent = Some(now);
                        }
                        _ => {}
                    }
                    // Sends unanswered for too long on a live socket go again.
                    for pending in self.outbox.values_mut() {
                        if let Some((on, at)) = pending.in_flight
                            && on == socket
                            && now - at >= ACK_TIMEOUT
                        {
                            pending.in_flight = None;
                            self.stats.ack_timeouts += 1;
                        }
                    }
                }
            }
            if self.pump(&mut ws, socket).await.is_err() {
                self.stats.drops += 1;
                return Ended::AfterReady;
            }
        }
    }

    /// Opens the socket, sends `auth` first and waits for `ready`.
    async fn authenticate(&mut self) -> Option<Ws> {
        let (mut ws, _) = tokio_tungstenite::connect_async(self.config.ws_url.as_str())
            .await
            .ok()?;
        let auth = ClientFrame::Auth {
            token: self.token.clone(),
        };
        send_frame(&mut ws, &auth).await.ok()?;
        ws.flush().await.ok()?;
        loop {
            match ws.next().await? {
                Ok(WsMessage::Text(text)) => {
                    match serde_json::from_str::<ServerFrame>(text.as_str()).ok()? {
                        ServerFrame::Ready { user } => {
                            assert_eq!(user.id, self.user_id, "ready for another user");
                            return Some(ws);
                        }
                        ServerFrame::Error { error, .. } => {
                            if error.code == ErrorCode::Unauthorized {
                                let _ = self.relogin().await;
                            }
                            *self
                                .stats
                                .other_errors
                                .entry(format!("{:?} (auth)", error.code))
                                .or_default() += 1;
                            return None;
                        }
                        _ => {}
                    }
                }
                Ok(WsMessage::Close(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Sends what is due: every outbox message not in flight on this socket whose retry time
    /// has come. Writing happens first, so new messages go out at once.
    async fn pump(&mut self, ws: &mut Ws, socket: u64) -> Result<(), ()> {
        self.write_messages();
        let now = Instant::now();
        let mut due: Vec<(usize, ClientMsgId)> = self
            .outbox
            .iter()
            .filter(|(_, p)| p.in_flight.is_none() && p.not_before <= now)
            .map(|(id, p)| (p.order, *id))
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        // Oldest first.
        due.sort_unstable();
        for (order, client_id) in due {
            let record = &mut self.records[order];
            let frame = ClientFrame::Send {
                conversation_id: self.config.conversation,
                client_id,
                body: record.body.clone(),
                urgent: false,
                attachment_ids: Vec::new(),
                template_id: None,
            };
            record.attempts += 1;
            self.stats.transmissions += 1;
            if let Some(pending) = self.outbox.get_mut(&client_id) {
                pending.in_flight = Some((socket, now));
            }
            let text = serde_json::to_string(&frame).expect("frames serialize");
            ws.feed(WsMessage::Text(text.into()))
                .await
                .map_err(|_| ())?;
        }
        ws.flush().await.map_err(|_| ())
    }

    fn on_frame(&mut self, frame: ServerFrame) -> FrameOutcome {
        match frame {
            ServerFrame::Ack { client_id, message } => {
                self.stats.acks += 1;
                let Some(&order) = self.by_client_id.get(&client_id) else {
                    self.stats.unknown_acks += 1;
                    return FrameOutcome::Continue;
                };
                let record = &mut self.records[order];
                record.acks += 1;
                if message.client_id != client_id || message.sender_id != self.user_id {
                    record.conflicting_confirmations += 1;
                }
                self.absorb(message, true);
            }
            ServerFrame::Message { message } => {
                self.stats.pushes += 1;
                self.absorb(message, false);
            }
            ServerFrame::Error {
                error,
                client_id: Some(client_id),
            } => {
                let Some(&order) = self.by_client_id.get(&client_id) else {
                    self.stats.unknown_acks += 1;
                    return FrameOutcome::Continue;
                };
                if error.code.is_permanent() {
                    self.records[order].failed = Some(error.code);
                    self.outbox.remove(&client_id);
                    self.publish_progress();
                } else {
                    self.records[order].transient_errors += 1;
                    *self
                        .stats
                        .transient_errors
                        .entry(format!("{:?}", error.code))
                        .or_default() += 1;
                    let refusals = self.outbox.get(&client_id).map(|p| p.refusals);
                    if let Some(refusals) = refusals {
                        let delay = self.retry_delay(refusals);
                        let pending = self.outbox.get_mut(&client_id).expect("present");
                        pending.refusals += 1;
                        pending.in_flight = None;
                        pending.not_before = Instant::now() + delay;
                    }
                    if matches!(
                        error.code,
                        ErrorCode::Unauthorized | ErrorCode::NotAuthenticated
                    ) {
                        return FrameOutcome::Relogin;
                    }
                }
            }
            ServerFrame::Error {
                error,
                client_id: None,
            } => {
                *self
                    .stats
                    .other_errors
                    .entry(format!("{:?}", error.code))
                    .or_default() += 1;
                match error.code {
                    ErrorCode::Unauthorized | ErrorCode::NotAuthenticated => {
                        return FrameOutcome::Relogin;
                    }
                    ErrorCode::ResyncRequired => return FrameOutcome::CatchUp,
                    _ => {}
                }
            }
            ServerFrame::Ready { .. }
            | ServerFrame::Read { .. }
            | ServerFrame::Delivered { .. }
            | ServerFrame::Conversation { .. }
            | ServerFrame::Typing { .. }
            | ServerFrame::Pong { .. } => {}
        }
        FrameOutcome::Continue
    }

    /// Merges a stored message (from an ack, a push or a history page): confirms it if it is
    /// ours, and delivers everything that has become contiguous.
    fn absorb(&mut self, message: Message, from_ack: bool) {
        if message.conversation_id != self.config.conversation {
            self.stats.foreign += 1;
            return;
        }
        if message.sender_id == self.user_id
            && let Some(&order) = self.by_client_id.get(&message.client_id)
        {
            let record = &mut self.records[order];
            match &record.confirmed {
                None => {
                    self.confirmed += 1;
                    record.confirmed = Some(message.clone());
                    record.confirmed_by_ack = from_ack;
                    self.outbox.remove(&message.client_id);
                }
                Some(known) if *known != message => record.conflicting_confirmations += 1,
                Some(_) => {}
            }
        }
        if message.seq <= self.last_seq {
            self.stats.redundant += 1;
            let index = self.delivered.partition_point(|m| m.seq < message.seq);
            if self.delivered.get(index).is_some_and(|m| *m != message) {
                self.stats.seq_conflicts += 1;
            }
        } else {
            match self.buffer.get(&message.seq) {
                Some(known) if *known != message => self.stats.seq_conflicts += 1,
                Some(_) => self.stats.redundant += 1,
                None => {
                    self.buffer.insert(message.seq, message);
                }
            }
            while let Some(next) = self.buffer.remove(&Seq(self.last_seq.0 + 1)) {
                self.last_seq = next.seq;
                self.delivered.push(next);
                self.last_delivery_at = Some(Instant::now());
            }
        }
        self.publish_progress();
    }

    fn fetch_after(&self, after: Seq) -> PageFuture {
        let request = self
            .http
            .get(format!(
                "{}/api/conversations/{}/messages",
                self.config.base_url, self.config.conversation
            ))
            .query(&[("after", after.0.to_string()), ("limit", PAGE.to_string())])
            .bearer_auth(&self.token);
        Box::pin(async move {
            let response = request
                .send()
                .await
                .map_err(|e| RestError::Transport(e.to_string()))?;
            if !response.status().is_success() {
                return Err(RestError::Status(response.status().as_u16()));
            }
            response
                .json::<MessagePage>()
                .await
                .map_err(|e| RestError::Transport(e.to_string()))
        })
    }
}

enum FrameOutcome {
    Continue,
    CatchUp,
    Relogin,
}

async fn send_frame(ws: &mut Ws, frame: &ClientFrame) -> Result<(), ()> {
    let text = serde_json::to_string(frame).expect("frames serialize");
    ws.feed(WsMessage::Text(text.into())).await.map_err(|_| ())
}

async fn ws_flush_ok(ws: &mut Ws) {
    let _ = ws.flush().await;
}

/// The text of message `number`: a unique marker (to detect a message stored twice under two
/// client ids) and some French with accents, of varying length.
fn body_text(name: &str, number: usize, rng: &mut StdRng) -> String {
    const WORDS: [&str; 8] = [
        "Bonjour docteur,",
        "ma tension est à 13/8",
        "depuis hier soir",
        "faut-il continuer le traitement ?",
        "merci pour l'ordonnance",
        "j'ai un peu de fièvre",
        "rendez-vous jeudi à 9 h 30",
        "bien reçu, à bientôt",
    ];
    let mut body = format!("[{name} #{number:05}]");
    for _ in 0..rng.random_range(1..6) {
        body.push(' ');
        body.push_str(WORDS[rng.random_range(0..WORDS.len())]);
    }
    body
}

/// Milliseconds since the Unix epoch (the server's clock: same machine).
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
