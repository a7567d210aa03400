//! The registry of open, authenticated sockets, per user.
//!
//! Each socket has a bounded queue. Pushing never waits: a socket whose queue is full (a client
//! that stopped reading) is disconnected instead of slowing down everybody else; it reconnects
//! and catches up through `GET /api/conversations/{id}/messages?after=`.

use crate::auth::SessionId;
use axum::extract::ws::Utf8Bytes;
use colloque_protocol::{ErrorCode, ServerFrame, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};

/// How many frames may wait for one socket, by default (`Limits::ws_queue`).
pub const SOCKET_QUEUE: usize = 256;

/// Identifies one socket (a user may have several: tabs, devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Why the hub cut a socket off; its writer sends the error frame (if any) and closes with
/// this code, without waiting for the queue.
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
/// The server is stopping.
pub const KICK_SHUTDOWN: Kick = Kick {
    code: 1001,
    reason: "server shutting down",
    error: None,
};

struct Conn {
    session: SessionId,
    tx: mpsc::Sender<Outbound>,
    kick: oneshot::Sender<Kick>,
}

/// A registered socket's handles.
pub struct Registration {
    /// Its id.
    pub id: ConnId,
    /// Its queue, for frames answering its own requests.
    pub tx: mpsc::Sender<Outbound>,
    /// The writer's end of the queue.
    pub rx: mpsc::Receiver<Outbound>,
    /// Fires when the hub cuts the socket off.
    pub kicked: oneshot::Receiver<Kick>,
}

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(SOCKET_QUEUE)
    }
}

struct Inner {
    queue: usize,
    next_id: AtomicU64,
    users: Mutex<HashMap<UserId, HashMap<ConnId, Conn>>>,
    publish: tokio::sync::Mutex<()>,
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
fn serialize(frame: &ServerFrame) -> Utf8Bytes {
    serde_json::to_string(frame)
        .expect("protocol frames always serialize")
        .into()
}

impl Hub {
    /// A hub whose sockets queue at most `queue` frames each.
    pub fn new(queue: usize) -> Self {
        Hub {
            inner: Arc::new(Inner {
                queue: queue.max(1),
                next_id: AtomicU64::new(0),
                users: Mutex::new(HashMap::new()),
                publish: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn users(&self) -> MutexGuard<'_, HashMap<UserId, HashMap<ConnId, Conn>>> {
        // A panic while holding this lock cannot leave the map half-updated (every update is a
        // single insert or remove), so a poisoned lock is safe to keep using.
        self.inner
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Held from just before a commit until its events are pushed, so that events reach
    /// sockets in commit order (message seq 4 is never pushed after seq 5). Writers are
    /// serialised by SQLite's write lock anyway, so this adds no real contention.
    pub async fn publish_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.publish.lock().await
    }

    /// Registers a new socket of `user`.
    pub fn register(&self, user: UserId, session: SessionId) -> Registration {
        let id = ConnId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::channel(self.inner.queue);
        let (kick, kicked) = oneshot::channel();
        let conn = Conn {
            session,
            tx: tx.clone(),
            kick,
        };
        self.users().entry(user).or_default().insert(id, conn);
        Registration { id, tx, rx, kicked }
    }

    /// Forgets a socket (it closed).
    pub fn unregister(&self, user: UserId, id: ConnId) {
        let mut users = self.users();
        if let Some(conns) = users.get_mut(&user) {
            conns.remove(&id);
            if conns.is_empty() {
                users.remove(&user);
            }
        }
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
            let Some(conns) = map.get_mut(user) else {
                continue;
            };
            let mut dropped = Vec::new();
            for (id, conn) in conns.iter() {
                if Some(*id) == except {
                    continue;
                }
                match conn.tx.try_send(Outbound::Text(text.clone())) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        tracing::warn!(user = %user, "socket queue full; disconnecting it");
                        dropped.push((*id, Some(KICK_TOO_SLOW)));
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => dropped.push((*id, None)),
                }
            }
            for (id, kick) in dropped {
                if let (Some(conn), Some(kick)) = (conns.remove(&id), kick) {
                    let _ = conn.kick.send(kick);
                }
            }
            if conns.is_empty() {
                map.remove(user);
            }
        }
    }

    /// Pushes `frame` to every socket of `user`.
    pub fn send_to_user(&self, user: UserId, frame: &ServerFrame) {
        self.send_to_users(&[user], frame, None);
    }

    /// A socket re-authenticated with a renewed token: it now belongs to `session` (a logout of
    /// that session closes it).
    pub fn set_session(&self, user: UserId, id: ConnId, session: SessionId) {
        if let Some(conn) = self
            .users()
            .get_mut(&user)
            .and_then(|conns| conns.get_mut(&id))
        {
            conn.session = session;
        }
    }

    /// The distinct sessions of every open socket.
    pub fn sessions(&self) -> Vec<String> {
        let mut sessions: Vec<String> = self
            .users()
            .values()
            .flat_map(|conns| conns.values().map(|conn| conn.session.0.clone()))
            .collect();
        sessions.sort();
        sessions.dedup();
        sessions
    }

    /// Disconnects every socket opened with this session (logout), with an `unauthorized`
    /// error frame then close 1008. Returns the users whose sockets were closed.
    pub fn close_session(&self, session: &SessionId) -> Vec<UserId> {
        self.kick_where(|conn| &conn.session == session, KICK_REVOKED)
    }

    /// Disconnects every socket of these sessions (revoked elsewhere: disabled account, idle).
    pub fn close_sessions(&self, sessions: &[String]) -> Vec<UserId> {
        self.kick_where(|conn| sessions.contains(&conn.session.0), KICK_REVOKED)
    }

    /// Disconnects every socket (shutdown).
    pub fn close_all(&self) {
        self.kick_where(|_| true, KICK_SHUTDOWN);
    }

    fn kick_where(&self, matches: impl Fn(&Conn) -> bool, kick: Kick) -> Vec<UserId> {
        let mut map = self.users();
        let mut kicked = Vec::new();
        for (user, conns) in map.iter_mut() {
            let ids: Vec<ConnId> = conns
                .iter()
                .filter(|(_, conn)| matches(conn))
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                if let Some(conn) = conns.remove(&id) {
                    let _ = conn.kick.send(kick);
                    kicked.push(*user);
                }
            }
        }
        map.retain(|_, conns| !conns.is_empty());
        kicked
    }

    /// How many sockets `user` has open.
    pub fn connection_count(&self, user: UserId) -> usize {
        self.users().get(&user).map_or(0, HashMap::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pong(nonce: u64) -> ServerFrame {
        ServerFrame::Pong { nonce }
    }

    #[test]
    fn a_frame_reaches_every_socket_of_the_users_but_the_excluded_one() {
        let hub = Hub::default();
        let mut a1 = hub.register(UserId(1), SessionId("s1".into()));
        let mut a2 = hub.register(UserId(1), SessionId("s2".into()));
        let mut b = hub.register(UserId(2), SessionId("s3".into()));
        let mut other = hub.register(UserId(3), SessionId("s4".into()));

        hub.send_to_users(&[UserId(1), UserId(2)], &pong(1), Some(a1.id));

        assert!(a1.rx.try_recv().is_err());
        assert!(matches!(a2.rx.try_recv(), Ok(Outbound::Text(_))));
        assert!(matches!(b.rx.try_recv(), Ok(Outbound::Text(_))));
        assert!(other.rx.try_recv().is_err());
    }

    #[test]
    fn a_socket_that_does_not_keep_up_is_kicked_and_others_are_not_blocked() {
        let hub = Hub::default();
        let mut slow = hub.register(UserId(1), SessionId("s1".into()));
        let mut fast = hub.register(UserId(1), SessionId("s2".into()));
        for nonce in 0..=SOCKET_QUEUE as u64 {
            hub.send_to_user(UserId(1), &pong(nonce));
            while fast.rx.try_recv().is_ok() {}
        }
        let kick = slow.kicked.try_recv().unwrap();
        assert_eq!(kick.code, 1013);
        assert_eq!(kick.error.unwrap().0, ErrorCode::ResyncRequired);
        assert_eq!(hub.connection_count(UserId(1)), 1);
    }

    #[test]
    fn closing_a_session_kicks_only_its_sockets() {
        let hub = Hub::default();
        let mut revoked = hub.register(UserId(1), SessionId("s1".into()));
        let mut kept = hub.register(UserId(1), SessionId("s2".into()));
        hub.close_session(&SessionId("s1".into()));
        let kick = revoked.kicked.try_recv().unwrap();
        assert_eq!(kick.code, 1008);
        assert_eq!(kick.error.unwrap().0, ErrorCode::Unauthorized);
        assert!(kept.kicked.try_recv().is_err());
        assert_eq!(hub.connection_count(UserId(1)), 1);
    }
}
