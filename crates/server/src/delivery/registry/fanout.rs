//! The registry's fan-out: pushing messages, summaries and frames to a user's sockets, each
//! message once and in order, finding the sockets behind a gap and filling it.

use super::{
    ACKED_AHEAD, ConnId, KICK_TOO_SLOW, Kick, Offered, Outbound, Registry, UserConns, serialize,
};
use axum::extract::ws::Utf8Bytes;
use colloque_protocol::{
    ClientMsgId, ConversationId, ConversationSummary, Message, Seq, ServerFrame, UserId,
};
use std::collections::hash_map::Entry;
use tokio::sync::mpsc;

impl Registry {
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
