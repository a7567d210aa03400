//! Delivery to the sockets this instance holds, whichever instance stored what they are told.
//!
//! After a commit, the instance that wrote pushes to its own sockets at once (the message is in
//! its memory), then publishes a wake-up on the [`Bus`] for every participant. An instance that
//! receives a wake-up reads the messages its sockets miss from the database and pushes them, in
//! order. Delivery does not depend on the bus: each socket keeps the last position it was pushed
//! per conversation ([`registry`]), a wake-up at or below it is dropped, and a gap is filled
//! from the database. The bus may drop, repeat or reorder; what it loses, the sweep finds:
//! - every few seconds (faster while the bus is down), the conversations active since the last
//!   sweep are compared with what this instance's sockets were pushed ([`Delivery::sweep`]);
//! - after a reconnection to the bus or a slow-consumer drop, every conversation of every user
//!   with a socket here is ([`Delivery::resync`]).
//!
//! There is no lock held from commit to push: two batches that commit in one order and push in
//! the other cannot reorder a socket's messages, because a socket only ever takes the message
//! right after its position.

mod cursors;
pub mod registry;
mod typing;

pub use cursors::CursorKind;

pub use registry::{
    ConnId, KICK_REVOKED, KICK_SHUTDOWN, KICK_TOO_MANY_SOCKETS, KICK_TOO_SLOW, Kick, Outbound,
    Registration, Registry, SOCKETS_PER_USER,
};

use crate::auth::refresh::generation_live;
use crate::auth::{SessionRules, idle_cutoff};
use crate::bus::{Bus, BusState, Event, Incoming};
use crate::domain::SessionId;
use crate::metrics::{Metrics, seconds_since};
use crate::store::{LiveGeneration, Page, Store};
use crate::util::now_ms;
use axum::extract::ws::Utf8Bytes;
use colloque_protocol::{
    ClientMsgId, ConversationId, Message, Role, Seq, ServerFrame, Timestamp, UserId,
};
use registry::serialize;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;

/// How many messages one read of a gap fetches (a socket queue holds 256 frames).
const FILL_PAGE: u32 = 100;

/// How far back a sweep looks beyond the previous one: a batch's messages carry the time their
/// batch was planned, and it commits within the database's statement timeouts; the margin also
/// absorbs clock differences between instances.
const SWEEP_MARGIN_MS: i64 = 120_000;

/// How many users one query of a resync covers.
const RESYNC_CHUNK: usize = 500;

/// What delivery has done since start (for metrics and tests).
#[derive(Debug, Default)]
pub struct Stats {
    /// Gaps read from the database and pushed (wake-ups from other instances, races between
    /// batches, sweeps).
    pub fills: AtomicU64,
    /// Of which found by a sweep or a resync: what a lost wake-up would have announced.
    pub swept: AtomicU64,
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    registry: Registry,
    store: Store,
    bus: Bus,
    /// Gaps being filled, per (user, conversation); `true`: asked again meanwhile, run again.
    fills: Arc<Mutex<HashMap<(UserId, ConversationId), bool>>>,
    stats: Arc<Stats>,
    /// When a session has ended (idle limit, grace of a refresh).
    rules: SessionRules,
    metrics: Metrics,
}

impl Delivery {
    /// Delivery over this instance's sockets.
    pub fn new(
        store: Store,
        bus: Bus,
        sockets: (usize, usize),
        rules: SessionRules,
        metrics: Metrics,
    ) -> Self {
        let (queue, per_user) = sockets;
        // The bus subscribes to a user's wake-ups while this instance holds one of their
        // sockets; the registry says so under its lock, in the order of the changes.
        let presence = {
            let bus = bus.clone();
            Box::new(move |user, here| match here {
                true => bus.watch(user),
                false => bus.unwatch(user),
            })
        };
        Self {
            registry: Registry::with_presence(queue, per_user, presence),
            store,
            bus,
            fills: Arc::default(),
            stats: Arc::default(),
            rules,
            metrics,
        }
    }

    /// The sockets.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The bus.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// This instance's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// What delivery has done.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Registers a socket authenticated for `session` at `generation`. It stands at its
    /// conversations' heads, read now: the client loads what came before over REST, after the
    /// `ready` frame.
    pub async fn register(
        &self,
        user: UserId,
        role: Role,
        session: SessionId,
        generation: i64,
    ) -> Result<Registration, sqlx::Error> {
        let heads = self.store.conversation_heads(user).await?;
        Ok(self
            .registry
            .register(user, role, session, generation, heads))
    }

    /// Forgets a socket.
    pub fn unregister(&self, user: UserId, id: ConnId) {
        self.registry.unregister(user, id);
    }

    /// Messages were committed: push them to the sockets here, then wake the other instances
    /// up (once per user and conversation, at its new head). `origin` is the socket that sent
    /// each message, if any: it gets an `ack` instead.
    pub fn messages_stored(&self, stored: &[(Message, [UserId; 2], Option<ConnId>)]) {
        let mut heads: HashMap<(UserId, ConversationId), Seq> = HashMap::new();
        self.metrics.messages_stored.inc_by(stored.len() as u64);
        for (message, participants, origin) in stored {
            let text = serialize(&ServerFrame::Message {
                message: message.clone(),
            });
            let mut pushed = false;
            for user in participants {
                let offered = self.registry.offer(*user, message, &text, *origin);
                pushed |= offered.pushed;
                if offered.gap {
                    self.fill(*user, message.conversation_id);
                }
                let head = heads
                    .entry((*user, message.conversation_id))
                    .or_insert(message.seq);
                *head = (*head).max(message.seq);
            }
            if pushed {
                self.metrics
                    .send_to_push
                    .observe(seconds_since(message.sent_at));
            }
        }
        for ((user, conversation), seq) in heads {
            self.bus.publish(user, Event::Message { conversation, seq });
        }
    }

    /// A conversation was created or changed: push each participant their own view of it,
    /// here and on the other instances.
    pub async fn conversation_changed(
        &self,
        conversation: ConversationId,
        [patient, doctor]: [UserId; 2],
    ) -> Result<(), sqlx::Error> {
        for (user, role) in [(patient, Role::Patient), (doctor, Role::Doctor)] {
            self.push_summary(user, role, conversation).await?;
            self.bus.publish(user, Event::Conversation { conversation });
        }
        Ok(())
    }

    /// Some of `user`'s sessions ended: the other instances check their sockets' sessions.
    /// (This instance closes its own sockets of the session at once; see the callers.)
    pub fn sessions_ended(&self, user: UserId) {
        self.bus.publish(user, Event::Sessions);
    }

    async fn push_summary(
        &self,
        user: UserId,
        role: Role,
        conversation: ConversationId,
    ) -> Result<(), sqlx::Error> {
        if self.registry.connection_count(user) == 0 {
            return Ok(());
        }
        if let Some(summary) = self.summaries_for(user, role, conversation).await?.pop() {
            self.registry.conversation(user, &summary);
        }
        Ok(())
    }

    /// One conversation as `user` sees it, with its doctor's absence and due date
    /// ([`crate::chat::summaries`]).
    async fn summaries_for(
        &self,
        user: UserId,
        role: Role,
        conversation: ConversationId,
    ) -> Result<Vec<colloque_protocol::ConversationSummary>, sqlx::Error> {
        crate::chat::summaries(&self.store, user, role, Some(conversation)).await
    }

    /// Handles what the bus brought.
    pub async fn on_incoming(&self, incoming: Incoming) {
        let result = match incoming {
            Incoming::Resync => self.resync().await,
            Incoming::Event(user, Event::Message { conversation, seq }) => {
                if self.registry.behind(user, conversation, seq).is_some() {
                    self.fill(user, conversation);
                }
                Ok(())
            }
            Incoming::Event(user, event @ (Event::Read { .. } | Event::Delivered { .. })) => {
                self.cursor_woken(user, event);
                Ok(())
            }
            Incoming::Event(user, Event::Conversation { conversation }) => {
                match self.registry.role_of(user) {
                    Some(role) => self.push_summary(user, role, conversation).await,
                    None => Ok(()),
                }
            }
            Incoming::Event(user, Event::Sessions) => {
                self.recheck_sessions(Some(user)).await.map(drop)
            }
            Incoming::Event(
                user,
                Event::Typing {
                    conversation,
                    writer,
                },
            ) => {
                self.typing_woken(user, conversation, writer);
                Ok(())
            }
        };
        if let Err(error) = result {
            tracing::warn!(%error, "a wake-up could not be handled; the sweep will catch up");
        }
    }

    /// Closes the sockets here whose session is no longer live, or whose token a refresh of
    /// the session has retired (of `user`, or of everyone). Returns the users whose sockets
    /// were closed.
    pub async fn recheck_sessions(&self, user: Option<UserId>) -> Result<Vec<UserId>, sqlx::Error> {
        let sessions = self.registry.sessions(user);
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let live: HashMap<String, LiveGeneration> = self
            .store
            .live_generations(&sessions, now, idle_cutoff(self.rules.idle, now))
            .await?
            .into_iter()
            .map(|live| (live.id.clone(), live))
            .collect();
        let checked: HashSet<String> = sessions.into_iter().collect();
        let mut users = self.registry.close_ended(|session, generation| {
            session_ended(&checked, &live, session, generation, now, self.rules.grace)
        });
        users.sort();
        users.dedup();
        Ok(users)
    }

    /// Fills `user`'s gap in `conversation` from the database, in a task of its own; a fill
    /// already running for the pair runs once more instead.
    fn fill(&self, user: UserId, conversation: ConversationId) {
        {
            let mut fills = self.fills.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(again) = fills.get_mut(&(user, conversation)) {
                *again = true;
                return;
            }
            fills.insert((user, conversation), false);
        }
        let delivery = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = delivery.fill_now(user, conversation).await {
                    tracing::warn!(%error, "failed to fill a socket's gap; the sweep will retry");
                }
                let mut fills = delivery
                    .fills
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                match fills.get_mut(&(user, conversation)) {
                    Some(again) if *again => *again = false,
                    _ => {
                        fills.remove(&(user, conversation));
                        return;
                    }
                }
            }
        });
    }

    async fn fill_now(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), sqlx::Error> {
        self.stats.fills.fetch_add(1, Ordering::Relaxed);
        let mut summary: Option<Utf8Bytes> = None;
        loop {
            let Some((from, unknown)) = self.registry.behind(user, conversation, Seq(i64::MAX))
            else {
                return Ok(());
            };
            if unknown && summary.is_none() {
                let Some(role) = self.registry.role_of(user) else {
                    return Ok(());
                };
                summary = self
                    .summaries_for(user, role, conversation)
                    .await?
                    .pop()
                    .map(|conversation| serialize(&ServerFrame::Conversation { conversation }));
            }
            let (messages, more) = self
                .store
                .messages_page(conversation, Page::After(from), FILL_PAGE)
                .await?;
            let sent_at: HashMap<Seq, Timestamp> = messages
                .iter()
                .map(|message| (message.seq, message.sent_at))
                .collect();
            let texts: Vec<(Seq, ClientMsgId, Utf8Bytes)> = messages
                .into_iter()
                .map(|message| {
                    let (seq, client_id) = (message.seq, message.client_id);
                    (seq, client_id, serialize(&ServerFrame::Message { message }))
                })
                .collect();
            let pushed = self
                .registry
                .fill(user, conversation, summary.as_ref(), &texts);
            for seq in pushed {
                if let Some(at) = sent_at.get(&seq) {
                    self.metrics.send_to_push.observe(seconds_since(*at));
                }
            }
            if !more {
                return Ok(());
            }
        }
    }

    /// Compares the conversations active since `since` with what this instance's sockets
    /// were pushed, and fills the gaps. Returns how many gaps were found.
    pub async fn sweep(&self, since: Timestamp) -> Result<usize, sqlx::Error> {
        if self.registry.total() == 0 {
            return Ok(0);
        }
        let heads = self.store.heads_active_since(since).await?;
        Ok(self.fill_behind(heads))
    }

    /// Compares every conversation of every user with a socket here with what their sockets
    /// were pushed, and fills the gaps (after wake-ups may have been lost).
    pub async fn resync(&self) -> Result<(), sqlx::Error> {
        let users: Vec<UserId> = self
            .registry
            .users_here()
            .into_iter()
            .map(|(user, _)| user)
            .collect();
        let mut found = 0;
        for chunk in users.chunks(RESYNC_CHUNK) {
            let heads = self.store.heads_of_users(chunk).await?;
            found += self.fill_behind(heads);
        }
        if found > 0 {
            tracing::info!(gaps = found, "resync filled gaps");
        }
        Ok(())
    }

    fn fill_behind(&self, heads: Vec<crate::store::Head>) -> usize {
        let mut found = 0;
        for head in heads {
            for user in [head.patient, head.doctor] {
                if self
                    .registry
                    .behind(user, head.conversation, head.seq)
                    .is_some()
                {
                    found += 1;
                    self.stats.swept.fetch_add(1, Ordering::Relaxed);
                    self.fill(user, head.conversation);
                }
            }
        }
        found
    }

    /// Sweeps every `interval` (every `interval_down` while the bus is down), as long as the
    /// server runs; resyncs when the bus asks.
    pub async fn run(
        self,
        mut incoming: mpsc::Receiver<Incoming>,
        interval: Duration,
        interval_down: Duration,
    ) {
        let mut last = now_ms();
        let mut last_sweep = tokio::time::Instant::now();
        // Ticks at the shorter interval, so that a sweep follows within `interval_down` when
        // the bus goes down, whenever the last one was.
        let mut ticks = tokio::time::interval(interval_down.min(interval));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                received = incoming.recv() => match received {
                    Some(received) => self.on_incoming(received).await,
                    None => return,
                },
                _ = ticks.tick() => {
                    let every = if self.bus.state() == BusState::Down { interval_down } else { interval };
                    if last_sweep.elapsed() < every {
                        continue;
                    }
                    last_sweep = tokio::time::Instant::now();
                    let started = now_ms();
                    match self.sweep(Timestamp(last.0 - SWEEP_MARGIN_MS)).await {
                        Ok(0) => {}
                        Ok(gaps) => tracing::info!(gaps, "the sweep found undelivered messages"),
                        Err(error) => tracing::warn!(%error, "the delivery sweep failed"),
                    }
                    last = started;
                }
            }
        }
    }
}

/// Whether a socket's session is over, by a read of the live sessions among `checked` (the
/// sessions of the sockets held when the read began). A socket registered since, whose session
/// was not read, is left alone: the next check reads it (closing it here would drop a socket
/// that just logged in, as the cluster benchmark's 3,000-socket burst showed, 5 sockets of
/// 1,000 on one instance). Nor is a token newer than the read ended: it comes from a refresh
/// that committed after the read.
fn session_ended(
    checked: &HashSet<String>,
    live: &HashMap<String, LiveGeneration>,
    session: &SessionId,
    generation: i64,
    now: Timestamp,
    grace: Duration,
) -> bool {
    if !checked.contains(&session.0) {
        return false;
    }
    live.get(&session.0).is_none_or(|live| {
        generation < live.generation
            && !generation_live(generation, live.generation, live.rotated_at, now, grace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(10);

    fn read(sessions: &[(&str, i64)]) -> (HashSet<String>, HashMap<String, LiveGeneration>) {
        let checked = ["s-live", "s-revoked", "s-rotated"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let live = sessions
            .iter()
            .map(|&(id, generation)| {
                let live = LiveGeneration {
                    id: id.to_owned(),
                    generation,
                    rotated_at: Some(Timestamp(0)),
                };
                (id.to_owned(), live)
            })
            .collect();
        (checked, live)
    }

    fn ended(session: &str, generation: i64, now: i64) -> bool {
        let (checked, live) = read(&[("s-live", 0), ("s-rotated", 2)]);
        session_ended(
            &checked,
            &live,
            &SessionId(session.to_owned()),
            generation,
            Timestamp(now),
            GRACE,
        )
    }

    #[test]
    fn a_session_the_read_found_live_is_not_ended() {
        assert!(!ended("s-live", 0, 1));
    }

    #[test]
    fn a_session_the_read_did_not_find_is_ended() {
        assert!(ended("s-revoked", 0, 1));
    }

    #[test]
    fn a_socket_registered_after_the_read_began_is_left_for_the_next_check() {
        assert!(!ended("s-new", 0, 1));
    }

    #[test]
    fn a_token_retired_by_a_refresh_is_ended_once_its_grace_is_over() {
        assert!(!ended("s-rotated", 1, 1_000), "within the grace");
        assert!(ended("s-rotated", 1, 60_000), "after it");
        assert!(ended("s-rotated", 0, 1), "two generations behind");
    }

    #[test]
    fn a_token_newer_than_the_read_is_not_ended() {
        assert!(!ended("s-live", 1, 1));
    }
}
