//! The sockets this instance holds, per user, and what each was pushed.
//!
//! Each socket has a bounded queue. Pushing never waits: a socket whose queue is full (a client
//! that stopped reading) is disconnected instead of slowing down everybody else; it reconnects
//! and catches up through `GET /api/conversations/{id}/messages?after=`.
//!
//! Each socket keeps, per conversation, the seq of the last message it was pushed (or stands
//! for: the conversation's head when it connected, the message its own send was acked with). A
//! message is pushed only right after that position, so a socket never receives a message
//! twice nor skips one: a message further on means a gap, which the caller fills from the
//! database ([`super::Delivery`]).

use crate::domain::SessionId;
use axum::extract::ws::Utf8Bytes;
use colloque_protocol::{
    ClientMsgId, ConversationId, ConversationSummary, ErrorCode, Message, Role, Seq, ServerFrame,
    UserId,
};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};

/// How many frames may wait for one socket, by default (`Limits::ws_queue`).
pub const SOCKET_QUEUE: usize = 256;

/// How many sockets one user may hold on this instance, by default
/// (`Limits::ws_sockets_per_user`).
pub const SOCKETS_PER_USER: usize = 10;

/// Identifies one socket (a user may have several: tabs, devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(u64);

/// What a socket's writer receives.
#[derive(Debug)]
pub enum Outbound {
    /// A serialized frame to send. A broadcast is serialized once and the bytes are shared by
    /// every recipient socket.
    Text(Utf8Bytes),
    /// Close the socket with this code and reason, after the frames queued before.
    Close(u16, &'static str),
    /// The socket re-authenticated: its token now expires at this time.
    Expiry(colloque_protocol::Timestamp),
}

/// Why a socket was cut off; its writer sends the error frame (if any) and closes with this
/// code, without waiting for the queue.
#[derive(Debug, Clone, Copy)]
pub struct Kick {
    /// WebSocket close code.
    pub code: u16,
    /// Close reason.
    pub reason: &'static str,
    /// The error frame sent just before the close, so the client knows what to do.
    pub error: Option<(ErrorCode, &'static str)>,
}

/// The session was revoked (logout, disabled account, idle or ended session): the client must
/// log in (or refresh) again.
pub const KICK_REVOKED: Kick = Kick {
    code: 1008,
    reason: "session ended",
    error: Some((ErrorCode::Unauthorized, "the session ended")),
};
/// The client did not keep up: it must catch up over REST, then reconnect.
pub const KICK_TOO_SLOW: Kick = Kick {
    code: 1013,
    reason: "too slow; reconnect and catch up",
    error: Some((
        ErrorCode::ResyncRequired,
        "too many frames queued for this socket; reload conversations with after=<last seq>",
    )),
};
/// The user authenticated more sockets than they may hold here, and this one is the oldest:
/// the client should not reconnect by itself (it would close another of the user's sockets),
/// but wait for the person to ask.
pub const KICK_TOO_MANY_SOCKETS: Kick = Kick {
    code: 1008,
    reason: "too many sockets",
    error: Some((
        ErrorCode::TooManySockets,
        "this account has too many sockets open; the oldest was closed",
    )),
};
/// The server is stopping.
pub const KICK_SHUTDOWN: Kick = Kick {
    code: 1001,
    reason: "server shutting down",
    error: None,
};

struct Conn {
    session: SessionId,
    /// The session generation of the token it authenticated with.
    generation: i64,
    tx: mpsc::Sender<Outbound>,
    kick: oneshot::Sender<Kick>,
    /// Per conversation, the last seq pushed. Absent: a conversation created since the socket
    /// connected, which it has not been told about yet.
    pushed: HashMap<ConversationId, Seq>,
    /// Messages this socket sent and was acked while it stood further back (another
    /// instance's message was still on its way): they are passed over, not pushed, when the
    /// position reaches them.
    acked_ahead: Vec<(ConversationId, Seq)>,
    /// The client ids of this socket's own sends not answered yet: a gap filled from the
    /// database between their commit and their ack must not push them back to it.
    sending: Vec<ClientMsgId>,
}

/// At most this many acked-ahead messages are remembered per socket; beyond, the oldest is
/// forgotten and would be pushed (a copy the client drops by its seq).
const ACKED_AHEAD: usize = 32;

impl Conn {
    /// Moves past the acked-ahead messages that directly follow `conversation`'s position.
    fn pass_acked(&mut self, conversation: ConversationId) {
        let Some(at) = self.pushed.get_mut(&conversation) else {
            return;
        };
        while let Some(i) = self
            .acked_ahead
            .iter()
            .position(|&(c, seq)| c == conversation && seq.0 == at.0 + 1)
        {
            *at = self.acked_ahead.swap_remove(i).1;
        }
    }
}

struct UserConns {
    role: Role,
    conns: HashMap<ConnId, Conn>,
}

/// A registered socket's handles.
pub struct Registration {
    /// Its id.
    pub id: ConnId,
    /// Its queue, for frames answering its own requests.
    pub tx: mpsc::Sender<Outbound>,
    /// The writer's end of the queue.
    pub rx: mpsc::Receiver<Outbound>,
    /// Fires when the socket is cut off.
    pub kicked: oneshot::Receiver<Kick>,
}

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new(SOCKET_QUEUE, SOCKETS_PER_USER)
    }
}

/// Told, under the registry's lock, when a user's first socket here registers (`true`) and
/// when their last one goes (`false`). Called under the lock so that the calls come in the
/// order of the changes: a socket that registers while the user's last one closes cannot see
/// its subscription undone by the late news of that close.
pub type Presence = Box<dyn Fn(UserId, bool) + Send + Sync>;

struct Inner {
    queue: usize,
    per_user: usize,
    next_id: AtomicU64,
    users: Mutex<HashMap<UserId, UserConns>>,
    presence: Option<Presence>,
}

impl Outbound {
    /// Serializes a frame for sending.
    pub fn frame(frame: &ServerFrame) -> Outbound {
        Outbound::Text(serialize(frame))
    }

    /// A frame's text.
    pub fn frame_text(frame: &ServerFrame) -> Utf8Bytes {
        serialize(frame)
    }
}

/// Serializes a frame. Protocol frames contain only strings, numbers and string-keyed objects,
/// which always serialize.
pub(crate) fn serialize(frame: &ServerFrame) -> Utf8Bytes {
    serde_json::to_string(frame)
        .expect("protocol frames always serialize")
        .into()
}

/// What pushing a message to a user's sockets found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Offered {
    /// Some socket is further behind than the message before this one (or has not been told
    /// about the conversation): the gap must be filled from the database.
    pub gap: bool,
    /// It was pushed to at least one socket.
    pub pushed: bool,
}

impl Registry {
    /// A registry whose sockets queue at most `queue` frames each, and whose users hold at
    /// most `per_user` sockets each.
    pub fn new(queue: usize, per_user: usize) -> Self {
        Self::build(queue, per_user, None)
    }

    /// [`Registry::new`], telling `presence` when a user comes to this instance and leaves it.
    pub fn with_presence(queue: usize, per_user: usize, presence: Presence) -> Self {
        Self::build(queue, per_user, Some(presence))
    }

    fn build(queue: usize, per_user: usize, presence: Option<Presence>) -> Self {
        Registry {
            inner: Arc::new(Inner {
                queue: queue.max(1),
                per_user: per_user.max(1),
                next_id: AtomicU64::new(0),
                users: Mutex::new(HashMap::new()),
                presence,
            }),
        }
    }

    /// Forgets `user` if they have no socket left here (call with the lock held).
    fn forget_if_gone(&self, users: &mut HashMap<UserId, UserConns>, user: UserId) -> bool {
        if !users.get(&user).is_some_and(|entry| entry.conns.is_empty()) {
            return false;
        }
        users.remove(&user);
        if let Some(presence) = &self.inner.presence {
            presence(user, false);
        }
        true
    }

    fn users(&self) -> MutexGuard<'_, HashMap<UserId, UserConns>> {
        // Every update is complete under the lock, so a poisoned lock is safe to keep using.
        self.inner
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a new socket of `user`, authenticated for `session` at `generation`, which
    /// stands at `heads` (its conversations' heads, read just before). Returns its handles (the
    /// registry's presence hook hears of the user's first socket here). Past the user's cap, their oldest socket
    /// here is closed ([`KICK_TOO_MANY_SOCKETS`]): the newest is the one the person is using.
    pub fn register(
        &self,
        user: UserId,
        role: Role,
        session: SessionId,
        generation: i64,
        heads: Vec<(ConversationId, Seq)>,
    ) -> Registration {
        let id = ConnId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::channel(self.inner.queue);
        let (kick, kicked) = oneshot::channel();
        let conn = Conn {
            session,
            generation,
            tx: tx.clone(),
            kick,
            pushed: heads.into_iter().collect(),
            acked_ahead: Vec::new(),
            sending: Vec::new(),
        };
        let mut users = self.users();
        let entry = users.entry(user).or_insert_with(|| UserConns {
            role,
            conns: HashMap::new(),
        });
        let first = entry.conns.is_empty();
        if first && let Some(presence) = &self.inner.presence {
            presence(user, true);
        }
        entry.conns.insert(id, conn);
        while entry.conns.len() > self.inner.per_user {
            // Ids grow with every registration: the smallest is the oldest.
            let Some(oldest) = entry.conns.keys().min().copied() else {
                break;
            };
            if let Some(conn) = entry.conns.remove(&oldest) {
                tracing::info!("a user's socket past the cap; closing their oldest");
                let _ = conn.kick.send(KICK_TOO_MANY_SOCKETS);
            }
        }
        Registration { id, tx, rx, kicked }
    }

    /// Forgets a socket (it closed). True when it was the user's last socket here.
    pub fn unregister(&self, user: UserId, id: ConnId) -> bool {
        let mut users = self.users();
        let Some(entry) = users.get_mut(&user) else {
            return false;
        };
        if entry.conns.remove(&id).is_none() {
            return false;
        }
        self.forget_if_gone(&mut users, user)
    }

    /// Pushes a just-committed message to `user`'s sockets that stand right before it. The
    /// `origin` socket (the one that sent it, which gets an `ack` instead) only moves its
    /// position. Sockets already past it are left alone.
    pub fn offer(
        &self,
        user: UserId,
        message: &Message,
        text: &Utf8Bytes,
        origin: Option<ConnId>,
    ) -> Offered {
        let mut users = self.users();
        let Some(entry) = users.get_mut(&user) else {
            return Offered::default();
        };
        let mut offered = Offered::default();
        let mut dropped = Vec::new();
        for (id, conn) in entry.conns.iter_mut() {
            let Some(at) = conn.pushed.get_mut(&message.conversation_id) else {
                offered.gap = true;
                continue;
            };
            if message.seq <= *at {
                continue;
            }
            if message.seq.0 != at.0 + 1 {
                offered.gap = true;
                if Some(*id) == origin {
                    if conn.acked_ahead.len() == ACKED_AHEAD {
                        conn.acked_ahead.remove(0);
                    }
                    conn.acked_ahead
                        .push((message.conversation_id, message.seq));
                }
                continue;
            }
            *at = message.seq;
            if Some(*id) != origin {
                push_to(*id, &conn.tx, text, &mut dropped);
                offered.pushed = true;
            }
            conn.pass_acked(message.conversation_id);
        }
        drop_conns(entry, dropped);
        self.forget_if_gone(&mut users, user);
        offered
    }

    /// Where `user`'s sockets stand in `conversation` when one of them is behind `head`: the
    /// lowest position, and whether some socket has not been told about the conversation.
    pub fn behind(
        &self,
        user: UserId,
        conversation: ConversationId,
        head: Seq,
    ) -> Option<(Seq, bool)> {
        let users = self.users();
        let entry = users.get(&user)?;
        let mut lowest: Option<Seq> = None;
        let mut unknown = false;
        for conn in entry.conns.values() {
            let at = match conn.pushed.get(&conversation) {
                Some(at) if *at < head => *at,
                Some(_) => continue,
                None => {
                    unknown = true;
                    Seq(0)
                }
            };
            lowest = Some(lowest.map_or(at, |low| low.min(at)));
        }
        lowest.map(|low| (low, unknown))
    }

    /// Pushes what the database holds after a gap: first the conversation's summary to the
    /// sockets that have not been told about it, then each message to each socket that stands
    /// right before it, in order (passing over the socket's own sends in flight, which their
    /// ack stands for). Returns the seqs pushed to at least one socket.
    pub fn fill(
        &self,
        user: UserId,
        conversation: ConversationId,
        summary: Option<&Utf8Bytes>,
        messages: &[(Seq, ClientMsgId, Utf8Bytes)],
    ) -> Vec<Seq> {
        let mut users = self.users();
        let Some(entry) = users.get_mut(&user) else {
            return Vec::new();
        };
        let mut pushed = Vec::new();
        let mut dropped = Vec::new();
        for (id, conn) in entry.conns.iter_mut() {
            if let Entry::Vacant(vacant) = conn.pushed.entry(conversation) {
                let Some(summary) = summary else { continue };
                push_to(*id, &conn.tx, summary, &mut dropped);
                vacant.insert(Seq(0));
            }
            for (seq, client_id, text) in messages {
                conn.pass_acked(conversation);
                let own = conn.sending.contains(client_id);
                let at = conn.pushed.entry(conversation).or_default();
                if seq.0 == at.0 + 1 {
                    *at = *seq;
                    if own {
                        continue;
                    }
                    push_to(*id, &conn.tx, text, &mut dropped);
                    if !pushed.contains(seq) {
                        pushed.push(*seq);
                    }
                }
            }
            conn.pass_acked(conversation);
        }
        drop_conns(entry, dropped);
        self.forget_if_gone(&mut users, user);
        pushed
    }

    /// Pushes a conversation's summary to `user`'s sockets; a socket that did not know the
    /// conversation now stands at its head.
    pub fn conversation(&self, user: UserId, summary: &ConversationSummary) {
        let text = serialize(&ServerFrame::Conversation {
            conversation: summary.clone(),
        });
        let mut users = self.users();
        let Some(entry) = users.get_mut(&user) else {
            return;
        };
        let mut dropped = Vec::new();
        for (id, conn) in entry.conns.iter_mut() {
            conn.pushed.entry(summary.id).or_insert(summary.last_seq);
            push_to(*id, &conn.tx, &text, &mut dropped);
        }
        drop_conns(entry, dropped);
        self.forget_if_gone(&mut users, user);
    }

    /// Pushes `frame` to every socket of every user in `users`, except `except` (the socket
    /// that caused it, which gets its own answer).
    pub fn send_to_users(&self, users: &[UserId], frame: &ServerFrame, except: Option<ConnId>) {
        let text = serialize(frame);
        let mut map = self.users();
        let mut seen = Vec::with_capacity(users.len());
        for user in users {
            if seen.contains(user) {
                continue;
            }
            seen.push(*user);
            let Some(entry) = map.get_mut(user) else {
                continue;
            };
            let mut dropped = Vec::new();
            for (id, conn) in entry.conns.iter() {
                if Some(*id) != except {
                    push_to(*id, &conn.tx, &text, &mut dropped);
                }
            }
            drop_conns(entry, dropped);
            self.forget_if_gone(&mut map, *user);
        }
    }

    /// Pushes `frame` to every socket of `user`.
    pub fn send_to_user(&self, user: UserId, frame: &ServerFrame) {
        self.send_to_users(&[user], frame, None);
    }

    /// A socket sent a message with this client id and waits for its answer.
    pub fn sending(&self, user: UserId, id: ConnId, client_id: ClientMsgId) {
        if let Some(conn) = self
            .users()
            .get_mut(&user)
            .and_then(|entry| entry.conns.get_mut(&id))
            && !conn.sending.contains(&client_id)
        {
            conn.sending.push(client_id);
        }
    }

    /// The send of this client id was answered (acked or refused).
    pub fn answered(&self, user: UserId, id: ConnId, client_id: ClientMsgId) {
        if let Some(conn) = self
            .users()
            .get_mut(&user)
            .and_then(|entry| entry.conns.get_mut(&id))
        {
            conn.sending.retain(|sent| *sent != client_id);
        }
    }

    /// A socket re-authenticated with a renewed token: it now belongs to `session` at
    /// `generation` (a logout of that session closes it).
    pub fn set_session(&self, user: UserId, id: ConnId, session: SessionId, generation: i64) {
        if let Some(conn) = self
            .users()
            .get_mut(&user)
            .and_then(|entry| entry.conns.get_mut(&id))
        {
            conn.session = session;
            conn.generation = generation;
        }
    }

    /// The distinct sessions of every open socket (of `user` only, if given).
    pub fn sessions(&self, user: Option<UserId>) -> Vec<String> {
        let users = self.users();
        let mut sessions: Vec<String> = users
            .iter()
            .filter(|(id, _)| user.is_none_or(|user| user == **id))
            .flat_map(|(_, entry)| entry.conns.values().map(|conn| conn.session.0.clone()))
            .collect();
        sessions.sort();
        sessions.dedup();
        sessions
    }

    /// The users with at least one socket here, and their roles.
    pub fn users_here(&self) -> Vec<(UserId, Role)> {
        self.users()
            .iter()
            .map(|(user, entry)| (*user, entry.role))
            .collect()
    }

    /// The role of a user with a socket here.
    pub fn role_of(&self, user: UserId) -> Option<Role> {
        self.users().get(&user).map(|entry| entry.role)
    }

    /// Disconnects every socket opened with this session (logout), with an `unauthorized`
    /// error frame then close 1008. Returns the users whose sockets were closed.
    pub fn close_session(&self, session: &SessionId) -> Vec<UserId> {
        self.kick_where(|conn| &conn.session == session, KICK_REVOKED)
    }

    /// Disconnects every socket whose session and token generation `ended` says are over
    /// (revoked elsewhere, disabled account, idle, moved on by a refresh).
    pub fn close_ended(&self, ended: impl Fn(&SessionId, i64) -> bool) -> Vec<UserId> {
        self.kick_where(|conn| ended(&conn.session, conn.generation), KICK_REVOKED)
    }

    /// Disconnects every socket (shutdown).
    pub fn close_all(&self) {
        self.kick_where(|_| true, KICK_SHUTDOWN);
    }

    fn kick_where(&self, matches: impl Fn(&Conn) -> bool, kick: Kick) -> Vec<UserId> {
        let mut map = self.users();
        let mut kicked = Vec::new();
        for (user, entry) in map.iter_mut() {
            let ids: Vec<ConnId> = entry
                .conns
                .iter()
                .filter(|(_, conn)| matches(conn))
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                if let Some(conn) = entry.conns.remove(&id) {
                    let _ = conn.kick.send(kick);
                    kicked.push(*user);
                }
            }
        }
        let mut users: Vec<UserId> = map.keys().copied().collect();
        users.retain(|user| map[user].conns.is_empty());
        for user in users {
            self.forget_if_gone(&mut map, user);
        }
        kicked
    }

    /// How many sockets `user` has open here.
    pub fn connection_count(&self, user: UserId) -> usize {
        self.users().get(&user).map_or(0, |entry| entry.conns.len())
    }

    /// How many sockets are open here.
    pub fn total(&self) -> usize {
        self.users().values().map(|entry| entry.conns.len()).sum()
    }
}

/// Queues `text` for a socket; a full queue drops the socket (too slow), a closed one too.
fn push_to(
    id: ConnId,
    tx: &mpsc::Sender<Outbound>,
    text: &Utf8Bytes,
    dropped: &mut Vec<(ConnId, Option<Kick>)>,
) {
    match tx.try_send(Outbound::Text(text.clone())) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(_)) => {
            tracing::warn!("socket queue full; disconnecting it");
            dropped.push((id, Some(KICK_TOO_SLOW)));
        }
        Err(mpsc::error::TrySendError::Closed(_)) => dropped.push((id, None)),
    }
}

fn drop_conns(entry: &mut UserConns, dropped: Vec<(ConnId, Option<Kick>)>) {
    for (id, kick) in dropped {
        if let (Some(conn), Some(kick)) = (entry.conns.remove(&id), kick) {
            let _ = conn.kick.send(kick);
        }
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
