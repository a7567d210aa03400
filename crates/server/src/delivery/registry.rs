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
//!
//! Here the registry's types and its lock; the socket bookkeeping (registering, sessions,
//! cutting off) is in `sockets`, pushing to the sockets (messages, gaps, frames) in `fanout`.

mod fanout;
mod sockets;

use crate::domain::SessionId;
use axum::extract::ws::Utf8Bytes;
use colloque_protocol::{ClientMsgId, ConversationId, ErrorCode, Role, Seq, ServerFrame, UserId};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
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
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
