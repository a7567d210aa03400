//! The hash chain of the audit trail.
//!
//! Each row of `audit_log` carries `prev_hash`, the hash of the row before it (in id order),
//! and `hash`, the SHA-256 of a canonical encoding of its own fields and of `prev_hash`
//! ([`Row::hash`]). Changing, removing or inserting a row therefore breaks a link that
//! [`Walk`] finds, unless every later hash is recomputed too — which the head kept in
//! `audit_chain` (and the head hash `audit-verify` prints, worth keeping off-host) reveals.
//!
//! `audit_chain` is one row: the head (the last row's id and hash, moved by every append in
//! the append's transaction) and the anchor (the hash the first remaining row links to:
//! [`GENESIS`], or the hash of the last row the retention purge deleted). Rows at or below the
//! anchor's id were written before the chain began (migration `0006`/`0005`), and are counted
//! apart.
//!
//! The hash covers neither the row's id (assigned by the database; the chain is the order of
//! ids) nor anything secret: it detects changes, it does not authenticate their author.

use super::{Entry, Source};
use colloque_protocol::Timestamp;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first row of a chain that never lost a row: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Separates this encoding from any other SHA-256 input, and names its version.
const DOMAIN: &[u8] = b"colloque-audit-v1\0";

/// One row of `audit_log` as its hash covers it: every column but its id, its link and its
/// own hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Row {
    /// Milliseconds since the epoch, UTC: the event's time (a count's first refusal).
    pub at: i64,
    /// The user, when known.
    pub user_id: Option<i64>,
    /// Pseudonymised email, for failed logins of unknown accounts.
    pub email_hash: Option<String>,
    /// What.
    pub action: String,
    /// Which conversation.
    pub conversation_id: Option<i64>,
    /// A short machine-written detail.
    pub detail: Option<String>,
    /// Client address (an IPv6 one by its /64 in a count of refusals).
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
    /// rest, ws, cli or system.
    pub transport: String,
    /// How many times it happened (refusals are counted per minute).
    pub occurrences: i64,
}

impl Row {
    /// The row of one event from `source`, at `at`.
    pub fn new(source: &Source, entry: &Entry, at: Timestamp) -> Self {
        Self {
            at: at.0,
            user_id: entry.user_id.map(|id| id.0),
            email_hash: entry.email_hash.clone(),
            action: entry.action.as_str().to_owned(),
            conversation_id: entry.conversation_id.map(|id| id.0),
            detail: entry.detail.clone(),
            ip: source.ip.clone(),
            user_agent: source.user_agent.clone(),
            transport: source.transport.as_str().to_owned(),
            occurrences: 1,
        }
    }

    /// SHA-256 (lowercase hex) of this row following `prev_hash`. The encoding is canonical:
    /// a domain tag, then each field in a fixed order, integers as 8 big-endian bytes, text as
    /// its 4-byte big-endian length and its UTF-8 bytes, an absent value as one 0 byte and a
    /// present optional one after a 1 byte — no two different rows encode alike.
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN);
        text(&mut hasher, prev_hash);
        hasher.update(self.at.to_be_bytes());
        optional(&mut hasher, self.user_id, |h, id| {
            h.update(id.to_be_bytes())
        });
        optional(&mut hasher, self.email_hash.as_deref(), text);
        text(&mut hasher, &self.action);
        optional(&mut hasher, self.conversation_id, |h, id| {
            h.update(id.to_be_bytes())
        });
        optional(&mut hasher, self.detail.as_deref(), text);
        optional(&mut hasher, self.ip.as_deref(), text);
        optional(&mut hasher, self.user_agent.as_deref(), text);
        text(&mut hasher, &self.transport);
        hasher.update(self.occurrences.to_be_bytes());
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

fn text(hasher: &mut Sha256, value: &str) {
    let length = u32::try_from(value.len()).unwrap_or(u32::MAX);
    hasher.update(length.to_be_bytes());
    hasher.update(value.as_bytes());
}

fn optional<T>(hasher: &mut Sha256, value: Option<T>, write: impl FnOnce(&mut Sha256, T)) {
    match value {
        None => hasher.update([0]),
        Some(value) => {
            hasher.update([1]);
            write(hasher, value);
        }
    }
}

/// A row as stored: with its id, its link and its hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredRow {
    /// Its place in the chain.
    pub id: i64,
    /// What its hash covers.
    #[sqlx(flatten)]
    pub row: Row,
    /// The previous row's hash (`NULL`: written outside the chain).
    pub prev_hash: Option<String>,
    /// Its own hash.
    pub hash: Option<String>,
}

/// The first broken link of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The row where the chain breaks (the head's id when the newest rows are missing).
    pub id: i64,
    /// What is wrong there.
    pub reason: &'static str,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}", self.id, self.reason)
    }
}

/// What a walk of the whole chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every link holds, from the anchor to the head.
    Intact {
        /// Chained rows walked.
        rows: u64,
        /// Rows written before the chain began (at or below the anchor), not verifiable.
        unchained: u64,
        /// The last row's id.
        head_id: i64,
        /// The last row's hash: kept off-host, it shows later that nothing before it changed.
        head_hash: String,
    },
    /// The first broken link.
    Broken(Broken),
}

/// Walks a chain row by row, in id order, from its anchor.
#[derive(Debug, Clone)]
pub struct Walk {
    expected: String,
    last_id: i64,
    rows: u64,
}

impl Walk {
    /// A walk that starts after the row `anchor_id`, whose hash was `anchor_hash`.
    pub fn from_anchor(anchor_id: i64, anchor_hash: &str) -> Self {
        Self {
            expected: anchor_hash.to_owned(),
            last_id: anchor_id,
            rows: 0,
        }
    }

    /// Checks the next row: its link, then its content.
    pub fn step(&mut self, stored: &StoredRow) -> Result<(), Broken> {
        let broken = |reason| Broken {
            id: stored.id,
            reason,
        };
        let (Some(prev_hash), Some(hash)) = (&stored.prev_hash, &stored.hash) else {
            return Err(broken("it has no hash: it was written outside the chain"));
        };
        if *prev_hash != self.expected {
            return Err(broken(
                "its link does not match the previous row's hash: a row before it was removed \
                 or added, or the previous row was changed",
            ));
        }
        if stored.row.hash(prev_hash) != *hash {
            return Err(broken(
                "its content does not match its hash: the row was changed",
            ));
        }
        self.expected.clone_from(hash);
        self.last_id = stored.id;
        self.rows += 1;
        Ok(())
    }

    /// The last row walked (or the anchor): its id and hash.
    pub fn last(&self) -> (i64, &str) {
        (self.last_id, &self.expected)
    }

    /// Rows walked so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Ends the walk at the chain's recorded head.
    pub fn finish(self, head_id: i64, head_hash: &str) -> Result<u64, Broken> {
        if self.last_id < head_id {
            return Err(Broken {
                id: head_id,
                reason: "the chain's head is missing: the newest rows were removed",
            });
        }
        if self.last_id != head_id || self.expected != head_hash {
            return Err(Broken {
                id: head_id,
                reason: "the chain's head does not match its last row",
            });
        }
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(action: &str) -> Row {
        Row {
            at: 1_796_117_400_000,
            user_id: Some(7),
            email_hash: None,
            action: action.to_owned(),
            conversation_id: Some(12),
            detail: None,
            ip: Some("203.0.113.9".into()),
            user_agent: Some("Mozilla/5.0".into()),
            transport: "rest".into(),
            occurrences: 1,
        }
    }

    /// A chain of `actions`, as the store would write it from the genesis.
    fn chain(actions: &[&str]) -> Vec<StoredRow> {
        let mut prev = GENESIS.to_owned();
        let mut rows = Vec::new();
        for (i, action) in actions.iter().enumerate() {
            let row = row(action);
            let hash = row.hash(&prev);
            rows.push(StoredRow {
                id: i as i64 + 1,
                row,
                prev_hash: Some(prev),
                hash: Some(hash.clone()),
            });
            prev = hash;
        }
        rows
    }

    fn walk(rows: &[StoredRow]) -> Result<u64, Broken> {
        let mut walk = Walk::from_anchor(0, GENESIS);
        for row in rows {
            walk.step(row)?;
        }
        let head = rows.last().expect("rows");
        walk.finish(head.id, head.hash.as_deref().unwrap())
    }

    #[test]
    fn the_encoding_is_pinned() {
        // Changing the encoding breaks every stored chain: this vector must not move. (Computed
        // independently, from the encoding described on `Row::hash`, with Python's hashlib.)
        assert_eq!(
            row("history_read").hash(GENESIS),
            "49c7a00dffdd2cac2faa9fe5e9574dfc96b0a2606bb274a161f5158cc6a3cf7b"
        );
    }

    #[test]
    fn every_field_and_the_link_change_the_hash() {
        let base = row("history_read");
        let hash = base.hash(GENESIS);
        let variants = [
            Row {
                at: base.at + 1,
                ..base.clone()
            },
            Row {
                user_id: None,
                ..base.clone()
            },
            Row {
                user_id: Some(8),
                ..base.clone()
            },
            Row {
                email_hash: Some(String::new()),
                ..base.clone()
            },
            Row {
                action: "history_reaD".into(),
                ..base.clone()
            },
            Row {
                conversation_id: None,
                ..base.clone()
            },
            Row {
                detail: Some(String::new()),
                ..base.clone()
            },
            Row {
                ip: Some("203.0.113.90".into()),
                ..base.clone()
            },
            Row {
                user_agent: None,
                ..base.clone()
            },
            Row {
                transport: "ws".into(),
                ..base.clone()
            },
            Row {
                occurrences: 2,
                ..base.clone()
            },
        ];
        for variant in variants {
            assert_ne!(variant.hash(GENESIS), hash, "{variant:?}");
        }
        assert_ne!(base.hash(&"1".repeat(64)), hash);
        // Moving bytes from one text field to the next is not the same row.
        let a = Row {
            ip: Some("ab".into()),
            user_agent: Some("c".into()),
            ..base.clone()
        };
        let b = Row {
            ip: Some("a".into()),
            user_agent: Some("bc".into()),
            ..base
        };
        assert_ne!(a.hash(GENESIS), b.hash(GENESIS));
    }

    #[test]
    fn an_intact_chain_walks_to_its_head() {
        let rows = chain(&["login", "history_read", "logout"]);
        assert_eq!(walk(&rows), Ok(3));
    }

    #[test]
    fn a_changed_row_is_the_first_broken_link() {
        let mut rows = chain(&["login", "history_read", "logout"]);
        rows[1].row.detail = Some("nothing to see".into());
        assert_eq!(walk(&rows).unwrap_err().id, 2);
    }

    #[test]
    fn a_changed_row_with_a_recomputed_hash_breaks_the_next_link() {
        let mut rows = chain(&["login", "history_read", "logout"]);
        rows[1].row.action = "login".into();
        rows[1].hash = Some(rows[1].row.hash(rows[1].prev_hash.as_deref().unwrap()));
        assert_eq!(walk(&rows).unwrap_err().id, 3);
    }

    #[test]
    fn a_removed_row_breaks_the_link_after_it() {
        let mut rows = chain(&["login", "history_read", "logout"]);
        rows.remove(1);
        assert_eq!(walk(&rows).unwrap_err().id, 3);
    }

    #[test]
    fn a_row_without_a_hash_or_missing_newest_rows_are_reported() {
        let mut rows = chain(&["login", "history_read", "logout"]);
        rows[2].hash = None;
        assert_eq!(walk(&rows).unwrap_err().id, 3);

        let rows = chain(&["login", "history_read", "logout"]);
        let mut walk = Walk::from_anchor(0, GENESIS);
        walk.step(&rows[0]).unwrap();
        walk.step(&rows[1]).unwrap();
        let head = rows[2].hash.as_deref().unwrap();
        assert_eq!(
            walk.finish(3, head).unwrap_err().id,
            3,
            "the head is missing"
        );
    }

    #[test]
    fn a_walk_from_a_purge_anchor_checks_the_first_kept_link() {
        let rows = chain(&["login", "history_read", "logout"]);
        let anchor = rows[0].hash.as_deref().unwrap();
        let mut walk = Walk::from_anchor(1, anchor);
        walk.step(&rows[1]).unwrap();
        walk.step(&rows[2]).unwrap();
        assert_eq!(walk.finish(3, rows[2].hash.as_deref().unwrap()), Ok(2));

        let mut wrong_anchor = Walk::from_anchor(1, GENESIS);
        assert_eq!(wrong_anchor.step(&rows[1]).unwrap_err().id, 2);
    }
}
