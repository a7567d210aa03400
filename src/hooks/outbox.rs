//! The persisted outbox: every message written here and not yet acknowledged, in
//! localStorage under `colloque.outbox.<user id>`, so that it survives a reload, a crash or a
//! closed tab and goes out when the app opens again. (Every `colloque.*` key but the language
//! is wiped at logout: see [`crate::session::wipe_browser_storage`].)
//!
//! **Nothing readable is kept.** An entry's conversation and text are sealed with the user's
//! outbox key (AES-256-GCM, [`crate::crypto`]), which the server gives an authenticated session
//! only and the app holds in memory only; what stays in clear is what the lease logic below
//! needs (the message's client id, when it was written, a refusal's error code, the tab and
//! its lease), and the client id, the time and the user are bound to the ciphertext as
//! additional data. A closed tab leaves ciphertext only. An entry older than
//! [`EXPIRES_MS`] (24 h) is dropped unread; one that the key cannot open (rotated, changed) is
//! dropped too; the user is told of both. The login screen drops every expired entry and, once
//! someone has logged in, every other user's outbox. On a shared computer nothing is stored.
//!
//! Several tabs of one user share the key. Each entry belongs to the tab that wrote it (a tab
//! id kept in sessionStorage, so a reloaded tab finds its own entries again), which renews a
//! lease on it every few seconds while it lives and gives it up when the page goes away. A tab
//! adopts entries that are its own or whose lease ran out: the leftovers of a closed tab are
//! sent by whichever tab opens next, while a live tab's messages are not sent twice by its
//! neighbours. If a lease lapses anyway (a sleeping background tab), both tabs send it: the
//! server is idempotent on (sender, client id), so it is stored once and shown once.
//!
//! Each tab writes only its own entries back and keeps the others' as it finds them; a write
//! lost to a race with another tab is repaired at the owner's next lease renewal.

use crate::crypto::{OutboxKey, Sealed};
use crate::services::json;
use colloque_protocol::{
    AttachmentMeta, ClientMsgId, ConversationId, ErrorCode, TemplateId, Timestamp, UserId,
};
use gloo_storage::{LocalStorage, SessionStorage, Storage};
use serde::{Deserialize, Serialize};

/// The lease is renewed this often while the tab lives.
pub const LEASE_RENEW_MS: u32 = 5_000;
/// An entry whose lease is older than this belongs to a tab that is gone.
pub const LEASE_EXPIRES_MS: i64 = 15_000;
/// An entry written longer ago than this is dropped unread: 24 hours.
pub const EXPIRES_MS: i64 = 24 * 60 * 60 * 1000;
const TAB_KEY: &str = "colloque.tab";
const KEY_PREFIX: &str = "colloque.outbox.";

/// One message waiting for the server's acknowledgement, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message's id, chosen before the first attempt and kept across every resend.
    pub client_id: ClientMsgId,
    /// When it was written.
    pub created_at: Timestamp,
    /// Set when the server refused it for good (the user retries or discards it).
    #[serde(default)]
    pub failed: Option<ErrorCode>,
    /// The tab that sends it.
    pub tab: String,
    /// When that tab last said it is alive (0: given up, anyone may adopt it).
    pub lease: i64,
    /// The [`Content`], sealed with the user's outbox key.
    pub sealed: Sealed,
}

/// What an entry seals: where the message goes and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// Where it goes.
    pub conversation_id: ConversationId,
    /// The text.
    pub body: String,
    /// Sent past the red-flag screen: kept across a reload, so the resend still says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// The reply template it came from (a doctor's): kept across a reload, so the resend
    /// still cites it for the audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<TemplateId>,
    /// The uploaded files it carries (sent by id; the rest shows them while pending).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentMeta>,
    /// The names of files that were still uploading: an upload does not survive a reload, so
    /// the tab that adopts the entry sends the text without them and says which to pick again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub awaiting: Vec<String>,
}

/// What binds a sealed content to its entry and its user: moved to another entry, another
/// time or another user's outbox, it no longer opens.
fn additional_data(user: UserId, client_id: ClientMsgId, created_at: Timestamp) -> Vec<u8> {
    format!("colloque.outbox.v1 {user} {client_id} {}", created_at.0).into_bytes()
}

/// Seals a message's content for `user`'s outbox.
pub async fn seal(
    key: &OutboxKey,
    user: UserId,
    client_id: ClientMsgId,
    created_at: Timestamp,
    content: &Content,
) -> Option<Sealed> {
    let text = serde_json::to_string(content).ok()?;
    key.seal(
        text.as_bytes(),
        &additional_data(user, client_id, created_at),
    )
    .await
}

/// Opens an entry of `user`'s outbox; `None` when the key cannot (another key, changed bytes).
pub async fn open(key: &OutboxKey, user: UserId, entry: &OutboxEntry) -> Option<Content> {
    let aad = additional_data(user, entry.client_id, entry.created_at);
    let text = key.open(&entry.sealed, &aad).await?;
    json::from_str(std::str::from_utf8(&text).ok()?).ok()
}

/// Whether an entry is too old to send: written more than [`EXPIRES_MS`] ago.
pub fn is_expired(created_at: Timestamp, now: Timestamp) -> bool {
    now.0 - created_at.0 > EXPIRES_MS
}

/// The storage key of a user's outbox.
pub fn storage_key(user: UserId) -> String {
    format!("{KEY_PREFIX}{user}")
}

/// What to write back: the other tabs' entries as found (minus any this tab now holds), then
/// this tab's own, with a fresh lease.
pub fn merge_for_save(
    stored: Vec<OutboxEntry>,
    mine: &[OutboxEntry],
    tab: &str,
    now: Timestamp,
) -> Vec<OutboxEntry> {
    let mut merged: Vec<OutboxEntry> = stored
        .into_iter()
        .filter(|e| e.tab != tab && !mine.iter().any(|m| m.client_id == e.client_id))
        .collect();
    merged.extend(mine.iter().map(|e| OutboxEntry {
        tab: tab.to_owned(),
        lease: now.0,
        ..e.clone()
    }));
    merged
}

/// The stored entries this tab should send: its own (a reload), and those whose owner is gone
/// (a closed tab: lease expired or given up). Oldest first.
pub fn adoptable(stored: &[OutboxEntry], tab: &str, now: Timestamp) -> Vec<OutboxEntry> {
    let mut found: Vec<OutboxEntry> = stored
        .iter()
        .filter(|e| e.tab == tab || now.0 - e.lease > LEASE_EXPIRES_MS)
        .cloned()
        .collect();
    crate::small_sort::sort_by_key(&mut found, |e| e.created_at);
    found
}

/// Gives this tab's entries up at once (the page is going away): the next tab to open sends
/// them without waiting for the lease to run out. A reload finds them again by its tab id.
pub fn release(stored: Vec<OutboxEntry>, tab: &str) -> Vec<OutboxEntry> {
    stored
        .into_iter()
        .map(|e| {
            if e.tab == tab {
                OutboxEntry { lease: 0, ..e }
            } else {
                e
            }
        })
        .collect()
}

/// One user's outbox in this tab's localStorage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbox {
    user: UserId,
    key: String,
    tab: String,
}

impl Outbox {
    /// The outbox of `user`, as seen by tab `tab` (see [`tab_id`]).
    pub fn new(user: UserId, tab: String) -> Self {
        Self {
            user,
            key: storage_key(user),
            tab,
        }
    }

    /// Whose outbox it is.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// This tab's id.
    pub fn tab(&self) -> &str {
        &self.tab
    }

    /// Everything stored (any tab). Unreadable storage reads as empty.
    pub fn load(&self) -> Vec<OutboxEntry> {
        LocalStorage::raw()
            .get_item(&self.key)
            .ok()
            .flatten()
            .and_then(|text| json::from_str(&text).ok())
            .unwrap_or_default()
    }

    /// Writes this tab's entries (`mine`), keeping the other tabs'. Storage may be full or
    /// disabled: the messages then live in memory only, and are still sent.
    pub fn save(&self, mine: &[OutboxEntry], now: Timestamp) {
        let merged = merge_for_save(self.load(), mine, &self.tab, now);
        write(&self.key, &merged);
    }

    /// Removes these entries, whichever tab holds them (expired, or unreadable).
    pub fn remove(&self, ids: &[ClientMsgId]) {
        let mut stored = self.load();
        let before = stored.len();
        stored.retain(|e| !ids.contains(&e.client_id));
        if stored.len() != before {
            write(&self.key, &stored);
        }
    }

    /// Gives up this tab's leases (see [`release`]).
    pub fn release(&self) {
        let stored = self.load();
        if stored.iter().any(|e| e.tab == self.tab) {
            let _ = LocalStorage::set(&self.key, release(stored, &self.tab));
        }
    }
}

/// Writes an outbox, or removes its key when it is empty.
fn write(key: &str, entries: &[OutboxEntry]) {
    if entries.is_empty() {
        LocalStorage::delete(key);
    } else {
        let _ = LocalStorage::set(key, entries);
    }
}

/// Every outbox key of this browser's localStorage, with its user.
fn stored_outboxes() -> Vec<(String, Option<UserId>)> {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return Vec::new();
    };
    (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter_map(|key| {
            let user = outbox_user(&key)?;
            Some((key, user))
        })
        .collect()
}

/// The user of an outbox key: `Some(None)` for an outbox key that names no user (kept by
/// nothing: purged as someone else's), `None` for a key that is not an outbox.
pub fn outbox_user(key: &str) -> Option<Option<UserId>> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    Some(rest.parse().ok().map(UserId))
}

/// The login screen's purge: drops every expired entry of every user's outbox, unread (their
/// owners are not here to be told; whoever logs in next is told of their own when the app
/// next reads them, see [`crate::hooks::use_messaging`]).
pub fn purge_expired(now: Timestamp) {
    for (key, _) in stored_outboxes() {
        let stored: Vec<OutboxEntry> = LocalStorage::raw()
            .get_item(&key)
            .ok()
            .flatten()
            .and_then(|text| json::from_str(&text).ok())
            .unwrap_or_default();
        let kept: Vec<OutboxEntry> = stored
            .iter()
            .filter(|e| !is_expired(e.created_at, now))
            .cloned()
            .collect();
        if kept.len() != stored.len() || stored.is_empty() {
            write(&key, &kept);
        }
    }
}

/// Someone has logged in: every other user's outbox goes (leftovers of earlier users of this
/// computer). Another tab where someone else is logged in writes its own back at its next
/// lease renewal, within seconds: only what nobody holds is lost.
pub fn purge_others(me: UserId) {
    for (key, user) in stored_outboxes() {
        if user != Some(me) {
            LocalStorage::delete(&key);
        }
    }
}

/// How many messages a logout would wipe: everything stored for the user, by any tab (a
/// closed tab's messages wait there until another tab adopts them), plus any of this tab's
/// that storage could not hold.
pub fn unsent_count<'a>(
    stored: &[OutboxEntry],
    in_memory: impl Iterator<Item = &'a ClientMsgId>,
) -> usize {
    let only_in_memory = in_memory
        .filter(|id| !stored.iter().any(|e| e.client_id == **id))
        .count();
    stored.len() + only_in_memory
}

/// The user's stored outbox, every tab's entries.
pub fn stored(user: UserId) -> Vec<OutboxEntry> {
    Outbox::new(user, String::new()).load()
}

/// This tab's id: kept in sessionStorage, which a reload keeps and a new tab does not have.
pub fn tab_id() -> String {
    let stored = SessionStorage::raw().get_item(TAB_KEY).ok().flatten();
    if let Some(id) = stored.and_then(|text| json::from_str::<String>(&text).ok()) {
        return id;
    }
    let id = uuid::Uuid::new_v4().to_string();
    let _ = SessionStorage::set(TAB_KEY, &id);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128, tab: &str, lease: i64) -> OutboxEntry {
        OutboxEntry {
            client_id: ClientMsgId(uuid::Uuid::from_u128(n)),
            created_at: Timestamp(n as i64),
            failed: None,
            tab: tab.into(),
            lease,
            sealed: Sealed {
                iv: "aXY".into(),
                data: format!("c{n}"),
            },
        }
    }

    fn ids(entries: &[OutboxEntry]) -> Vec<u128> {
        entries.iter().map(|e| e.client_id.0.as_u128()).collect()
    }

    #[test]
    fn saving_replaces_only_this_tabs_entries() {
        let stored = vec![entry(1, "a", 10), entry(2, "b", 10), entry(3, "a", 10)];
        let mine = vec![entry(3, "a", 10), entry(4, "a", 10)];
        let saved = merge_for_save(stored, &mine, "a", Timestamp(99));
        assert_eq!(ids(&saved), [2, 3, 4], "1 was acked: gone; b's 2 kept");
        assert!(saved.iter().filter(|e| e.tab == "a").all(|e| e.lease == 99));
        assert_eq!(saved[0].lease, 10, "another tab's lease is left alone");
    }

    #[test]
    fn an_adopted_entry_changes_hands_instead_of_being_copied() {
        let stored = vec![entry(1, "gone", 0)];
        let mine = vec![entry(1, "a", 0)];
        let saved = merge_for_save(stored, &mine, "a", Timestamp(5));
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0].tab, "a");
    }

    #[test]
    fn a_tab_adopts_its_own_and_the_abandoned_entries_only() {
        let now = Timestamp(100_000);
        let stored = vec![
            entry(5, "me", now.0),
            entry(2, "alive", now.0 - 1_000),
            entry(3, "closed", now.0 - LEASE_EXPIRES_MS - 1),
            entry(1, "released", 0),
        ];
        assert_eq!(ids(&adoptable(&stored, "me", now)), [1, 3, 5]);
    }

    #[test]
    fn releasing_gives_up_only_this_tabs_leases() {
        let released = release(vec![entry(1, "a", 50), entry(2, "b", 50)], "a");
        assert_eq!((released[0].lease, released[1].lease), (0, 50));
    }

    #[test]
    fn the_key_is_per_user_under_the_wiped_prefix() {
        let key = storage_key(UserId(7));
        assert_eq!(key, "colloque.outbox.7");
        assert!(crate::session::is_health_key(&key));
        assert_eq!(outbox_user(&key), Some(Some(UserId(7))));
        assert_eq!(outbox_user("colloque.outbox.x"), Some(None));
        assert_eq!(outbox_user("colloque.lang"), None);
    }

    #[test]
    fn an_entry_expires_a_day_after_it_was_written() {
        let written = Timestamp(1_000);
        assert!(!is_expired(written, Timestamp(1_000 + EXPIRES_MS)));
        assert!(is_expired(written, Timestamp(1_000 + EXPIRES_MS + 1)));
    }

    #[test]
    fn the_additional_data_names_the_user_the_message_and_its_time() {
        let id = ClientMsgId(uuid::Uuid::from_u128(1));
        let one = additional_data(UserId(4), id, Timestamp(9));
        assert_ne!(one, additional_data(UserId(5), id, Timestamp(9)));
        assert_ne!(one, additional_data(UserId(4), id, Timestamp(10)));
        let other = ClientMsgId(uuid::Uuid::from_u128(2));
        assert_ne!(one, additional_data(UserId(4), other, Timestamp(9)));
    }

    #[test]
    fn a_logout_would_wipe_every_tabs_stored_messages_and_this_tabs_unstored_ones() {
        let stored = vec![entry(1, "this", 10), entry(2, "closed-tab", 10)];
        let in_memory = [ClientMsgId(uuid::Uuid::from_u128(1))];
        assert_eq!(unsent_count(&stored, in_memory.iter()), 2);
        let full_storage = [
            ClientMsgId(uuid::Uuid::from_u128(1)),
            ClientMsgId(uuid::Uuid::from_u128(3)),
        ];
        assert_eq!(unsent_count(&stored, full_storage.iter()), 3);
        assert_eq!(unsent_count(&[], std::iter::empty()), 0);
    }
}
