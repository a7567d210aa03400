//! The wake-up bus between server instances.
//!
//! The database is the truth; the bus is only a hint that tells an instance to go and look.
//! After a commit, the instance that wrote tells the others, on one subject per user
//! (`colloque.user.<id>`), *that* something changed and *where*: a conversation id, a position
//! and a kind. Never a message body, a name or a subject line: nothing medical travels on the
//! bus. Each instance subscribes to the subject of a user while it holds at least one of that
//! user's sockets, so NATS routes a wake-up only where it is needed.
//!
//! A bus may drop, repeat or reorder: delivery never depends on it (see [`crate::delivery`],
//! which keeps what each socket was pushed and fills gaps from the database, and sweeps).
//!
//! Two implementations:
//! - [`Bus::Local`], for one instance: there is nobody to tell, because the instance that
//!   commits delivers to its own sockets directly;
//! - [`Bus::Nats`], for several: core NATS (not JetStream), through the official client.

mod nats;

pub use nats::NatsBus;

use anyhow::Context;
use colloque_protocol::{ConversationId, Seq, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// What changed, for one user. Ids and positions only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Event {
    /// The conversation's head reached `seq` (new messages up to it are committed).
    Message {
        /// The conversation.
        #[serde(rename = "c")]
        conversation: ConversationId,
        /// Its head.
        #[serde(rename = "s")]
        seq: Seq,
    },
    /// `reader`'s read cursor in the conversation reached `seq`.
    Read {
        /// The conversation.
        #[serde(rename = "c")]
        conversation: ConversationId,
        /// Whose cursor.
        #[serde(rename = "u")]
        reader: UserId,
        /// Where it is.
        #[serde(rename = "s")]
        seq: Seq,
        /// When it moved there (absent from an older instance, or when unknown).
        #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
        at: Option<Timestamp>,
        /// Where it was before (absent from an older instance).
        #[serde(rename = "f", default)]
        from: Seq,
    },
    /// `reader`'s devices received the conversation up to `seq` (their delivery cursor).
    Delivered {
        /// The conversation.
        #[serde(rename = "c")]
        conversation: ConversationId,
        /// Whose cursor.
        #[serde(rename = "u")]
        reader: UserId,
        /// Where it is.
        #[serde(rename = "s")]
        seq: Seq,
    },
    /// The conversation was created or changed (closed): read its summary again.
    Conversation {
        /// The conversation.
        #[serde(rename = "c")]
        conversation: ConversationId,
    },
    /// Some of the user's sessions ended (logout, revocation, disabled account): check the
    /// sessions of their sockets again.
    Sessions,
    /// `writer` is writing in the conversation: tell the user's sockets (ephemeral, nothing
    /// to read from the database; a lost one is a missed "écrit…", never a missed message).
    Typing {
        /// The conversation.
        #[serde(rename = "c")]
        conversation: ConversationId,
        /// Who writes.
        #[serde(rename = "u")]
        writer: UserId,
    },
}

/// What the bus hands to this instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// A wake-up for a user whose sockets this instance holds.
    Event(UserId, Event),
    /// Wake-ups may have been lost (the connection to the bus came back, or this instance
    /// could not keep up): compare every socket with the database.
    Resync,
}

/// Whether wake-ups reach the other instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusState {
    /// One instance: there is no other instance to reach.
    Local,
    /// Connected to NATS.
    Up,
    /// NATS is unreachable: deliveries to other instances wait for the sweep.
    Down,
}

/// The bus. Cheap to clone.
#[derive(Clone)]
pub enum Bus {
    /// One instance.
    Local,
    /// Several instances, over NATS.
    Nats(NatsBus),
}

impl Bus {
    /// The subject of a user's wake-ups.
    pub fn subject(user: UserId) -> String {
        format!("colloque.user.{}", user.0)
    }

    /// Tells the other instances. Never waits and never fails: a wake-up that cannot be
    /// published now is dropped (and counted), and the sweep delivers what it announced.
    pub fn publish(&self, user: UserId, event: Event) {
        if let Bus::Nats(bus) = self {
            bus.publish(user, event);
        }
    }

    /// Fault injection (cluster tests): from now on every publish is dropped, as if each
    /// wake-up were lost right after its commit.
    pub fn drop_every_publish(&self) {
        if let Bus::Nats(bus) = self {
            bus.drop_every_publish();
        }
    }

    /// This instance now holds a socket of `user` (called for the first one).
    pub fn watch(&self, user: UserId) {
        if let Bus::Nats(bus) = self {
            bus.watch(user);
        }
    }

    /// This instance no longer holds any socket of `user`.
    pub fn unwatch(&self, user: UserId) {
        if let Bus::Nats(bus) = self {
            bus.unwatch(user);
        }
    }

    /// Whether wake-ups reach the other instances now.
    pub fn state(&self) -> BusState {
        match self {
            Bus::Local => BusState::Local,
            Bus::Nats(bus) if bus.is_connected() => BusState::Up,
            Bus::Nats(_) => BusState::Down,
        }
    }

    /// Wake-ups published and dropped (the bus was down or could not keep up) since start.
    pub fn dropped(&self) -> u64 {
        match self {
            Bus::Local => 0,
            Bus::Nats(bus) => bus.dropped(),
        }
    }
}

/// Connects to NATS at `url` (or returns the local bus without one). Incoming wake-ups and
/// resync requests are sent to `incoming`.
pub async fn connect(url: Option<&str>, incoming: mpsc::Sender<Incoming>) -> anyhow::Result<Bus> {
    match url {
        None => Ok(Bus::Local),
        Some(url) => Ok(Bus::Nats(NatsBus::connect(url, incoming).await?)),
    }
}

/// Publishes events and waits until NATS has them: for the admin commands, which run once and
/// exit (a revoked account's sockets close on every instance at once; an ended care
/// relationship's closed conversation reaches both users' sockets).
pub async fn announce(url: &str, events: &[(UserId, Event)]) -> anyhow::Result<()> {
    let client = async_nats::ConnectOptions::new()
        .name("colloque-admin")
        .connection_timeout(std::time::Duration::from_secs(5))
        .connect(url)
        .await
        .context("failed to connect to NATS")?;
    for (user, event) in events {
        client
            .publish(Bus::subject(*user), encode(event).into())
            .await
            .context("failed to publish to NATS")?;
    }
    client.flush().await.context("failed to flush to NATS")?;
    Ok(())
}

/// Encodes an event for the wire.
pub(crate) fn encode(event: &Event) -> Vec<u8> {
    serde_json::to_vec(event).expect("bus events always serialize")
}

/// Decodes an event, or `None` for anything else (an instance of a newer version, junk).
pub(crate) fn decode(subject: &str, payload: &[u8]) -> Option<(UserId, Event)> {
    let user = subject.strip_prefix("colloque.user.")?.parse().ok()?;
    let event = serde_json::from_slice(payload).ok()?;
    Some((UserId(user), event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_on_the_wire_holds_ids_and_positions_only() {
        let event = Event::Message {
            conversation: ConversationId(12),
            seq: Seq(34),
        };
        let wire = encode(&event);
        assert_eq!(
            std::str::from_utf8(&wire).unwrap(),
            r#"{"k":"message","c":12,"s":34}"#
        );
        assert_eq!(decode("colloque.user.7", &wire), Some((UserId(7), event)));
    }

    #[test]
    fn a_cursor_on_the_wire_holds_ids_positions_and_a_time_and_an_older_one_still_reads() {
        let read = Event::Read {
            conversation: ConversationId(12),
            reader: UserId(3),
            seq: Seq(34),
            at: Some(Timestamp(1_700_000_000_000)),
            from: Seq(30),
        };
        let wire = encode(&read);
        assert_eq!(
            std::str::from_utf8(&wire).unwrap(),
            r#"{"k":"read","c":12,"u":3,"s":34,"a":1700000000000,"f":30}"#
        );
        assert_eq!(decode("colloque.user.7", &wire), Some((UserId(7), read)));
        // From an instance that does not know the time yet.
        assert_eq!(
            decode("colloque.user.7", br#"{"k":"read","c":12,"u":3,"s":34}"#),
            Some((
                UserId(7),
                Event::Read {
                    conversation: ConversationId(12),
                    reader: UserId(3),
                    seq: Seq(34),
                    at: None,
                    from: Seq(0),
                }
            ))
        );
        let delivered = Event::Delivered {
            conversation: ConversationId(12),
            reader: UserId(3),
            seq: Seq(34),
        };
        let wire = encode(&delivered);
        assert_eq!(
            std::str::from_utf8(&wire).unwrap(),
            r#"{"k":"delivered","c":12,"u":3,"s":34}"#
        );
        assert_eq!(
            decode("colloque.user.7", &wire),
            Some((UserId(7), delivered))
        );
    }

    #[test]
    fn junk_and_foreign_subjects_are_ignored() {
        assert_eq!(decode("colloque.user.7", b"{\"k\":\"launch\"}"), None);
        assert_eq!(decode("other.7", br#"{"k":"sessions"}"#), None);
        assert_eq!(
            decode("colloque.user.7", br#"{"k":"sessions"}"#),
            Some((UserId(7), Event::Sessions))
        );
    }
}
