//! The registry's socket bookkeeping: registering and forgetting sockets, the state of each
//! socket's own sends and session, who is here, and cutting sockets off (logout, ended
//! sessions, shutdown).

use super::{
    Conn, ConnId, KICK_REVOKED, KICK_SHUTDOWN, KICK_TOO_MANY_SOCKETS, Kick, Registration, Registry,
    UserConns,
};
use crate::domain::SessionId;
use colloque_protocol::{ClientMsgId, ConversationId, Role, Seq, UserId};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

impl Registry {
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
