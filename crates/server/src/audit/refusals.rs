//! Refusals are counted, not written one by one.
//!
//! A refusal ([`Action::is_refusal`]: failed and throttled logins, foreign origins, objects and
//! frames refused to a logged-in user) is counted in memory under its key — the minute, the
//! client address (an IPv6 one by its /64), the action and the door (REST or socket), plus the
//! user for a refusal made to a valid session — and each count becomes **one row** with its
//! number of `occurrences` once its minute has closed (the [`super::Auditor`] appends them every
//! second, and all of them at shutdown). Nothing is updated in place, so the trail stays
//! append-only, and a flood costs a map entry per key, not a row per request: whatever an
//! unauthenticated client sends, it writes at most one row per action and minute per address.
//!
//! The other columns of a count's row (the account a failed login named, the conversation, the
//! detail, the user agent) keep the value every counted refusal agreed on, and are empty when
//! they differed: 40 wrong passwords for one account from one address are one row naming that
//! account, a credential-stuffing run over 40 accounts is one row naming none.
//!
//! At most [`MAX_COUNTS`] keys are held; past that (a flood from that many addresses within a
//! minute or two), new keys share one count per (action, door, minute) without an address, so
//! memory stays bounded too.

use super::{Action, Entry, Row, Source, Transport};
use colloque_protocol::Timestamp;
use std::collections::HashMap;

/// A minute, in milliseconds: the span of one count.
pub const MINUTE_MS: i64 = 60_000;

/// The most keys counted at once (every open minute together).
pub const MAX_COUNTS: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    minute: i64,
    address: Option<String>,
    action: Action,
    transport: Transport,
    /// The authenticated user, for refusals made to a valid session.
    session_user: Option<i64>,
}

/// The value every counted refusal agreed on, if they all did.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Agreed<T> {
    One(T),
    Mixed,
}

impl<T: PartialEq> Agreed<Option<T>> {
    fn add(&mut self, value: Option<T>) {
        if matches!(self, Agreed::One(agreed) if *agreed != value) {
            *self = Agreed::Mixed;
        }
    }

    fn value(self) -> Option<T> {
        match self {
            Agreed::One(value) => value,
            Agreed::Mixed => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Count {
    first_at: i64,
    occurrences: i64,
    user_id: Agreed<Option<i64>>,
    email_hash: Agreed<Option<String>>,
    conversation_id: Agreed<Option<i64>>,
    detail: Agreed<Option<String>>,
    user_agent: Agreed<Option<String>>,
}

/// The counts of refusals whose rows are not written yet.
#[derive(Debug, Default)]
pub struct Refusals {
    counts: HashMap<Key, Count>,
}

impl Refusals {
    /// Counts one refusal from `source` at `at`.
    pub fn count(&mut self, source: &Source, entry: &Entry, at: Timestamp) {
        let address = source
            .ip
            .as_deref()
            .and_then(|ip| ip.parse().ok())
            .map(|ip| crate::auth::address_key(Some(ip)));
        let mut key = Key {
            minute: at.0.div_euclid(MINUTE_MS),
            address,
            action: entry.action,
            transport: source.transport,
            session_user: entry
                .user_id
                .filter(|_| entry.action.is_refusal_of_a_session())
                .map(|id| id.0),
        };
        if self.counts.len() >= MAX_COUNTS && !self.counts.contains_key(&key) {
            key.address = None;
            key.session_user = None;
        }
        let user_id = entry.user_id.map(|id| id.0);
        let conversation_id = entry.conversation_id.map(|id| id.0);
        match self.counts.get_mut(&key) {
            Some(count) => {
                count.occurrences += 1;
                count.user_id.add(user_id);
                count.email_hash.add(entry.email_hash.clone());
                count.conversation_id.add(conversation_id);
                count.detail.add(entry.detail.clone());
                count.user_agent.add(source.user_agent.clone());
            }
            None => {
                let count = Count {
                    first_at: at.0,
                    occurrences: 1,
                    user_id: Agreed::One(user_id),
                    email_hash: Agreed::One(entry.email_hash.clone()),
                    conversation_id: Agreed::One(conversation_id),
                    detail: Agreed::One(entry.detail.clone()),
                    user_agent: Agreed::One(source.user_agent.clone()),
                };
                self.counts.insert(key, count);
            }
        }
    }

    /// The rows of the counts whose minute ended before `now`'s, oldest first; they are
    /// forgotten here.
    pub fn take_closed(&mut self, now: Timestamp) -> Vec<Row> {
        let current = now.0.div_euclid(MINUTE_MS);
        let closed: Vec<Key> = self
            .counts
            .keys()
            .filter(|key| key.minute < current)
            .cloned()
            .collect();
        let taken = closed
            .into_iter()
            .filter_map(|key| self.counts.remove_entry(&key))
            .collect();
        rows(taken)
    }

    /// The rows of every count, closed or not (shutdown), oldest first.
    pub fn take_all(&mut self) -> Vec<Row> {
        rows(self.counts.drain().collect())
    }

    /// How many counts are held.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether no refusal waits to be written.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

fn rows(counts: Vec<(Key, Count)>) -> Vec<Row> {
    let mut rows: Vec<Row> = counts
        .into_iter()
        .map(|(key, count)| Row {
            at: count.first_at,
            user_id: count.user_id.value(),
            email_hash: count.email_hash.value(),
            action: key.action.as_str().to_owned(),
            conversation_id: count.conversation_id.value(),
            detail: count.detail.value(),
            ip: key.address,
            user_agent: count.user_agent.value(),
            transport: key.transport.as_str().to_owned(),
            occurrences: count.occurrences,
        })
        .collect();
    rows.sort_by(|a, b| (a.at, &a.action).cmp(&(b.at, &b.action)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use colloque_protocol::{ConversationId, UserId};

    fn from(ip: &str) -> Source {
        Source {
            ip: Some(ip.to_owned()),
            user_agent: Some("curl/8".into()),
            transport: Transport::Rest,
        }
    }

    const T0: i64 = 1_796_117_400_000; // a minute's start

    #[test]
    fn a_flood_from_one_address_is_one_row_per_action_and_minute_with_its_count() {
        let mut refusals = Refusals::default();
        for n in 0..1_000 {
            let entry = Entry::new(Action::LoginFailed, None)
                .email_hash(format!("{n:064}"))
                .detail("unknown_account");
            refusals.count(&from("203.0.113.9"), &entry, Timestamp(T0 + n));
        }
        for n in 0..10 {
            let entry = Entry::new(Action::LoginThrottled, None);
            refusals.count(&from("203.0.113.9"), &entry, Timestamp(T0 + n));
        }

        assert!(
            refusals.take_closed(Timestamp(T0 + 59_999)).is_empty(),
            "still open"
        );
        let rows = refusals.take_closed(Timestamp(T0 + MINUTE_MS));
        assert_eq!(rows.len(), 2);
        let failed = rows.iter().find(|r| r.action == "login_failed").unwrap();
        assert_eq!(failed.occurrences, 1_000);
        assert_eq!(failed.at, T0, "the first refusal's time");
        assert_eq!(failed.email_hash, None, "1,000 different emails: none kept");
        assert_eq!(
            failed.detail.as_deref(),
            Some("unknown_account"),
            "all agreed"
        );
        assert_eq!(failed.ip.as_deref(), Some("203.0.113.9"));
        assert!(refusals.is_empty());
    }

    #[test]
    fn addresses_minutes_and_session_users_make_separate_counts() {
        let mut refusals = Refusals::default();
        let denied = |user: i64| {
            Entry::new(Action::AccessDenied, Some(UserId(user)))
                .conversation(ConversationId(3))
                .detail("NotFound")
        };
        let failed = |user: i64| Entry::new(Action::LoginFailed, Some(UserId(user)));
        let at = Timestamp(T0);
        refusals.count(&from("203.0.113.9"), &denied(1), at);
        refusals.count(&from("203.0.113.9"), &denied(1), at);
        refusals.count(&from("203.0.113.9"), &denied(2), at);
        refusals.count(&from("203.0.113.10"), &denied(1), at);
        refusals.count(&from("203.0.113.9"), &denied(1), Timestamp(T0 + MINUTE_MS));
        // The account a failed login names is not a key: a client chooses it.
        refusals.count(&from("203.0.113.9"), &failed(1), at);
        refusals.count(&from("203.0.113.9"), &failed(2), at);
        // One IPv6 subscriber's /64 is one address.
        refusals.count(&from("2001:db8:1:2::1"), &failed(1), at);
        refusals.count(&from("2001:db8:1:2::99"), &failed(1), at);

        let rows = refusals.take_all();
        let count = |action: &str, ip: &str, user: Option<i64>| {
            rows.iter()
                .filter(|r| r.action == action && r.ip.as_deref() == Some(ip) && r.user_id == user)
                .map(|r| r.occurrences)
                .collect::<Vec<_>>()
        };
        assert_eq!(count("access_denied", "203.0.113.9", Some(1)), [2, 1]);
        assert_eq!(count("access_denied", "203.0.113.9", Some(2)), [1]);
        assert_eq!(count("access_denied", "203.0.113.10", Some(1)), [1]);
        assert_eq!(
            count("login_failed", "203.0.113.9", None),
            [2],
            "two accounts: none kept"
        );
        assert_eq!(count("login_failed", "2001:db8:1:2::/64", Some(1)), [2]);
        assert_eq!(rows.len(), 6);
        assert!(rows.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
    }

    #[test]
    fn past_the_cap_new_keys_share_one_count_without_an_address() {
        let mut refusals = Refusals::default();
        let entry = Entry::new(Action::OriginRefused, None);
        let total = MAX_COUNTS + 5_000;
        for n in 0..total {
            let ip = format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255);
            refusals.count(&from(&ip), &entry, Timestamp(T0));
        }

        assert_eq!(refusals.len(), MAX_COUNTS + 1);
        let rows = refusals.take_all();
        let overflow = rows.iter().find(|r| r.ip.is_none()).unwrap();
        assert_eq!(overflow.occurrences, 5_000);
        assert_eq!(
            rows.iter().map(|r| r.occurrences).sum::<i64>(),
            total as i64
        );
    }
}
