//! The load generator's clients: REST login and conversation, one authenticated WebSocket per
//! user, and the shared bookkeeping that turns acks and pushes into latencies and counts.

use anyhow::{Context, bail};
use colloque_protocol::{
    ClientFrame, ClientMsgId, ConversationId, ConversationSummary, LoginRequest, LoginResponse,
    MessagePage, ServerFrame, StartConversationRequest, UserId,
};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A logged-in user.
#[derive(Clone)]
pub struct Session {
    /// The access token.
    pub token: String,
    /// Who.
    pub user: UserId,
}

/// `POST /api/auth/login`, from the user's own address: real users do not all share one, and
/// the server's login throttle counts per address. The benchmark's server trusts the loopback
/// proxy (`--trusted-proxies 127.0.0.1`), so each user's `X-Forwarded-For` is their address.
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<Session> {
    let response = http
        .post(format!("{base}/api/auth/login"))
        .header("x-forwarded-for", address_of(email))
        .json(&LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        })
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("login of {email} failed: {}", response.status());
    }
    let body: LoginResponse = response.json().await?;
    Ok(Session {
        token: body.token,
        user: body.user.id,
    })
}

/// A stable address per user, in the shared address space of RFC 6598 (100.64.0.0/10).
fn address_of(email: &str) -> String {
    // FNV-1a: any stable spread will do.
    let hash = email.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let bits = (hash & 0x003f_ffff) as u32;
    std::net::Ipv4Addr::from(0x6440_0000 | bits).to_string()
}

/// `POST /api/conversations` with `with`.
pub async fn start_conversation(
    http: &reqwest::Client,
    base: &str,
    session: &Session,
    with: UserId,
) -> anyhow::Result<ConversationId> {
    let response = http
        .post(format!("{base}/api/conversations"))
        .bearer_auth(&session.token)
        .json(&StartConversationRequest {
            with_user_id: with,
            subject: Some("Benchmark".to_owned()),
            topic: colloque_protocol::Topic::MedicalQuestion,
        })
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("starting a conversation failed: {}", response.status());
    }
    let summary: ConversationSummary = response.json().await?;
    Ok(summary.id)
}

/// `GET /api/conversations/{id}/messages?after=…&limit=100`.
pub async fn page_after(
    http: &reqwest::Client,
    base: &str,
    session: &Session,
    conversation: ConversationId,
    after: i64,
) -> anyhow::Result<MessagePage> {
    let response = http
        .get(format!(
            "{base}/api/conversations/{}/messages?after={after}&limit={}",
            conversation.0,
            colloque_protocol::MAX_PAGE_SIZE
        ))
        .bearer_auth(&session.token)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("history page failed: {}", response.status());
    }
    Ok(response.json().await?)
}

/// Sends `count` messages into `conversation` from `socket`, 100 in flight at a time, each
/// hundred acked before the next; fails unless all of them are acked.
pub async fn send_acked(
    socket: &Socket,
    conversation: ConversationId,
    count: usize,
) -> anyhow::Result<()> {
    let tracker = Tracker::new();
    socket.track(&tracker);
    for window in 0..count.div_ceil(100) {
        let upto = ((window + 1) * 100).min(count) as u64;
        for index in tracker.sent.load(Ordering::Relaxed)..upto {
            socket.send(conversation, &tracker, index);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while tracker.acked.load(Ordering::Relaxed) < upto && Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(100), socket.acked.notified()).await;
        }
    }
    let acked = tracker.acked.load(Ordering::Relaxed);
    anyhow::ensure!(
        acked == count as u64,
        "only {acked} of {count} messages were acked"
    );
    Ok(())
}

/// What every socket reports into while a phase runs.
pub struct Tracker {
    /// Send time of every message not yet both acked and delivered.
    pending: Mutex<HashMap<ClientMsgId, InFlight>>,
    /// Messages of this phase both acked and delivered, with their sockets: a frame for one of
    /// them again is a duplicate.
    settled: Mutex<HashMap<ClientMsgId, Route>>,
    /// send → ack, µs.
    pub ack: Mutex<Histogram<u64>>,
    /// send → pushed to the doctor's socket, µs.
    pub delivered: Mutex<Histogram<u64>>,
    /// Messages sent.
    pub sent: AtomicU64,
    /// Acks received.
    pub acked: AtomicU64,
    /// Pushes received for a known message.
    pub delivered_count: AtomicU64,
    /// Pushes or acks of a message of this phase already seen.
    pub duplicates: AtomicU64,
    /// Every duplicate, for a closer look.
    duplicate_log: Mutex<Vec<Duplicate>>,
    /// Acks or pushes of messages of an earlier phase that arrived late.
    pub strays: AtomicU64,
    /// Error frames.
    pub errors: AtomicU64,
    /// When each message was sent, acked and delivered; kept only by [`Tracker::recording`].
    timeline: Option<Mutex<HashMap<ClientMsgId, Times>>>,
}

/// When one message was sent, acked and first delivered.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// Queued on its socket.
    pub sent: Instant,
    /// Its ack arrived.
    pub acked: Option<Instant>,
    /// Its first `message` frame arrived.
    pub delivered: Option<Instant>,
}

struct InFlight {
    sent: Instant,
    acked: bool,
    delivered: bool,
    route: Route,
}

/// Which sockets a message went through ([`Socket::number`]).
#[derive(Debug, Clone, Copy)]
struct Route {
    sent: Instant,
    /// The sender's socket.
    from: u64,
    /// The socket of its first push.
    to: Option<u64>,
}

/// A frame for a message that had already had one.
#[derive(Debug, Clone, Copy)]
pub struct Duplicate {
    /// Which.
    pub kind: DuplicateKind,
    /// How long after the message was sent it came.
    pub after_send: Duration,
    /// Whether the message's ack had come before it.
    pub after_ack: bool,
}

/// What a [`Duplicate`] was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateKind {
    /// A second ack.
    Ack,
    /// A push onto the sender's own socket (this one or the first): the message echoed back.
    PushToSender,
    /// The same message pushed twice onto one socket.
    PushTwiceOnOneSocket,
    /// Pushed onto a second socket that is not the sender's.
    PushOnAnotherSocket,
}

impl Tracker {
    /// An empty tracker.
    pub fn new() -> Arc<Tracker> {
        Arc::new(Self::empty(false))
    }

    /// An empty tracker that also keeps every message's [`Times`] ([`Tracker::timeline`]).
    pub fn recording() -> Arc<Tracker> {
        Arc::new(Self::empty(true))
    }

    fn empty(recording: bool) -> Tracker {
        let histogram = || Mutex::new(Histogram::new_with_bounds(1, 120_000_000, 3).unwrap());
        Tracker {
            pending: Mutex::new(HashMap::new()),
            settled: Mutex::new(HashMap::new()),
            ack: histogram(),
            delivered: histogram(),
            sent: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            delivered_count: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            duplicate_log: Mutex::new(Vec::new()),
            strays: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            timeline: recording.then(|| Mutex::new(HashMap::new())),
        }
    }

    /// Every message's [`Times`], in no particular order (empty unless
    /// [`Tracker::recording`]).
    pub fn timeline(&self) -> Vec<Times> {
        self.timeline
            .as_ref()
            .map(|timeline| timeline.lock().unwrap().values().copied().collect())
            .unwrap_or_default()
    }

    fn will_send(&self, id: ClientMsgId, from: u64) {
        let sent = Instant::now();
        self.pending.lock().unwrap().insert(
            id,
            InFlight {
                sent,
                acked: false,
                delivered: false,
                route: Route {
                    sent,
                    from,
                    to: None,
                },
            },
        );
        if let Some(timeline) = &self.timeline {
            timeline.lock().unwrap().insert(
                id,
                Times {
                    sent,
                    acked: None,
                    delivered: None,
                },
            );
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    fn on_ack(&self, id: ClientMsgId, socket: u64) {
        self.settle(id, true, socket);
    }

    fn on_delivered(&self, id: ClientMsgId, socket: u64) {
        self.settle(id, false, socket);
    }

    fn settle(&self, id: ClientMsgId, ack: bool, socket: u64) {
        let mut pending = self.pending.lock().unwrap();
        let Some(entry) = pending.get_mut(&id) else {
            let settled = self.settled.lock().unwrap().get(&id).copied();
            match settled {
                Some(route) => self.duplicate(ack, route, socket, true),
                None => {
                    self.strays.fetch_add(1, Ordering::Relaxed);
                }
            }
            return;
        };
        let seen = if ack {
            &mut entry.acked
        } else {
            &mut entry.delivered
        };
        if *seen {
            let (route, acked) = (entry.route, entry.acked);
            drop(pending);
            self.duplicate(ack, route, socket, acked);
            return;
        }
        *seen = true;
        if !ack {
            entry.route.to = Some(socket);
        }
        let now = Instant::now();
        let micros = now.duration_since(entry.sent).as_micros().max(1) as u64;
        if let Some(timeline) = &self.timeline
            && let Some(times) = timeline.lock().unwrap().get_mut(&id)
        {
            let at = if ack {
                &mut times.acked
            } else {
                &mut times.delivered
            };
            *at = Some(now);
        }
        let done = entry.acked && entry.delivered;
        if done {
            let route = entry.route;
            pending.remove(&id);
            self.settled.lock().unwrap().insert(id, route);
        }
        drop(pending);
        if ack {
            self.acked.fetch_add(1, Ordering::Relaxed);
            let _ = self.ack.lock().unwrap().record(micros);
        } else {
            self.delivered_count.fetch_add(1, Ordering::Relaxed);
            let _ = self.delivered.lock().unwrap().record(micros);
        }
    }

    fn duplicate(&self, ack: bool, route: Route, socket: u64, after_ack: bool) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
        let kind = if ack {
            DuplicateKind::Ack
        } else if socket == route.from || route.to == Some(route.from) {
            DuplicateKind::PushToSender
        } else if route.to == Some(socket) {
            DuplicateKind::PushTwiceOnOneSocket
        } else {
            DuplicateKind::PushOnAnotherSocket
        };
        self.duplicate_log.lock().unwrap().push(Duplicate {
            kind,
            after_send: route.sent.elapsed(),
            after_ack,
        });
    }

    /// Every duplicate so far.
    pub fn duplicate_log(&self) -> Vec<Duplicate> {
        self.duplicate_log.lock().unwrap().clone()
    }

    /// Whether `id`'s ack has arrived (or it is not one of this tracker's messages).
    pub fn is_acked(&self, id: ClientMsgId) -> bool {
        self.pending
            .lock()
            .unwrap()
            .get(&id)
            .is_none_or(|entry| entry.acked)
    }

    /// Messages sent but never acked, and acked but never delivered.
    pub fn missing(&self) -> (u64, u64) {
        let pending = self.pending.lock().unwrap();
        let unacked = pending.values().filter(|m| !m.acked).count() as u64;
        let undelivered = pending.values().filter(|m| !m.delivered).count() as u64;
        (unacked, undelivered)
    }
}

/// One authenticated socket. Frames are written by a task of its own, so a sender never waits
/// on the network; a reader task feeds the current [`Tracker`].
pub struct Socket {
    out: mpsc::UnboundedSender<WsMessage>,
    tracker: Arc<Mutex<Arc<Tracker>>>,
    /// Notified at each ack (closed-loop senders wait on it).
    pub acked: Arc<Notify>,
    /// Which socket of this process it is (the trackers tell a push onto its sender's socket
    /// from a push onto another).
    number: u64,
}

/// The next [`Socket::number`].
static NEXT_SOCKET: AtomicU64 = AtomicU64::new(1);

impl Socket {
    /// Connects, authenticates and waits for `ready`.
    pub async fn connect(url: &str, session: &Session) -> anyhow::Result<Socket> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        // From the user's own address, as at login (the server caps the sockets waiting to
        // authenticate per address).
        let mut request = url.into_client_request()?;
        request.headers_mut().insert(
            "x-forwarded-for",
            address_of(&format!("user-{}", session.user.0)).parse()?,
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .context("WebSocket connect")?;
        let auth = ClientFrame::Auth {
            token: session.token.clone(),
        };
        ws.send(WsMessage::text(serde_json::to_string(&auth)?))
            .await?;
        loop {
            match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                Ok(Some(Ok(WsMessage::Text(text)))) => {
                    match serde_json::from_str::<ServerFrame>(&text)? {
                        ServerFrame::Ready { .. } => break,
                        ServerFrame::Error { error, .. } => bail!("auth refused: {error:?}"),
                        _ => {}
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(error))) => return Err(error.into()),
                Ok(None) => bail!("closed before ready"),
                Err(_) => bail!("no ready within 30 s"),
            }
        }
        let (mut sink, mut stream) = ws.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<WsMessage>();
        tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let number = NEXT_SOCKET.fetch_add(1, Ordering::Relaxed);
        let tracker = Arc::new(Mutex::new(Tracker::new()));
        let acked = Arc::new(Notify::new());
        let (reader_tracker, reader_acked) = (tracker.clone(), acked.clone());
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let WsMessage::Text(text) = message else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<ServerFrame>(&text) else {
                    continue;
                };
                let tracker = reader_tracker.lock().unwrap().clone();
                match frame {
                    ServerFrame::Ack { client_id, .. } => {
                        tracker.on_ack(client_id, number);
                        reader_acked.notify_one();
                    }
                    ServerFrame::Message { message } => {
                        tracker.on_delivered(message.client_id, number);
                    }
                    ServerFrame::Error { .. } => {
                        tracker.errors.fetch_add(1, Ordering::Relaxed);
                        reader_acked.notify_one();
                    }
                    _ => {}
                }
            }
        });
        Ok(Socket {
            out,
            tracker,
            acked,
            number,
        })
    }

    /// Reports into `tracker` from now on.
    pub fn track(&self, tracker: &Arc<Tracker>) {
        *self.tracker.lock().unwrap() = tracker.clone();
    }

    /// Queues a `send` of a short message (no medical content: a benchmark line); returns its
    /// client id.
    pub fn send(&self, conversation: ConversationId, tracker: &Tracker, index: u64) -> ClientMsgId {
        let client_id = ClientMsgId(uuid::Uuid::new_v4());
        let frame = ClientFrame::Send {
            conversation_id: conversation,
            client_id,
            body: format!("Message de test numéro {index}, sans contenu médical."),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        };
        let text = serde_json::to_string(&frame).expect("a frame serialises");
        tracker.will_send(client_id, self.number);
        let _ = self.out.send(WsMessage::text(text));
        client_id
    }

    /// A closed loop until `deadline`: sends, waits for that message's ack (10 s at most),
    /// sends the next; one message in flight at a time. An ack notified while nobody waited (an
    /// earlier phase's) only wakes the loop once, for nothing: it checks its own message.
    pub async fn closed_loop(
        &self,
        conversation: ConversationId,
        tracker: &Tracker,
        deadline: Instant,
    ) {
        let mut index = 0;
        while Instant::now() < deadline {
            let id = self.send(conversation, tracker, index);
            index += 1;
            let give_up = tokio::time::Instant::now() + Duration::from_secs(10);
            while !tracker.is_acked(id) && tokio::time::Instant::now() < give_up {
                let _ = tokio::time::timeout_at(give_up, self.acked.notified()).await;
            }
        }
    }

    /// Closes the socket (the writer task ends and sends a close frame).
    pub fn close(self) {
        drop(self.out);
    }
}
