//! The provider's half of the encrypted outbox ([`crate::hooks::outbox`]): each pending message
//! is sealed with the user's outbox key once (WebCrypto is asynchronous) and written with its
//! lease; the stored entries are read back with the key — this tab's after a reload, a closed
//! tab's leftovers — and those too old or that the key cannot open are dropped, and the user
//! told. Without the key (a reloaded tab, until its session's first refresh answers) nothing is
//! read or written: new messages live in memory, and what is stored waits, counted. On a shared
//! computer there is no stored outbox at all.

use super::inner::{ACK_TIMEOUT_MS, Inner};
use super::{Action, MessageStatus, PendingMessage};
use crate::crypto::{OutboxKey, Sealed};
use crate::hooks::outbox::{self, Content, OutboxEntry};
use colloque_protocol::{ClientMsgId, Timestamp};
use std::rc::Rc;

/// What this tab holds of its stored outbox's secrets.
#[derive(Default)]
pub(super) struct Vault {
    /// The user's outbox key, once the session has it.
    key: Option<OutboxKey>,
    /// The stored entries have been read with this key: from then on this tab writes its own.
    /// (Before, a write would drop this tab's stored entries that it has not read yet.)
    ready: bool,
    /// Stored entries are being opened.
    adopting: bool,
    /// Each pending message's sealed content, once sealed.
    sealed: Vec<(ClientMsgId, Sealed)>,
    /// Pending messages being sealed.
    sealing: Vec<ClientMsgId>,
}

impl Inner {
    /// The session's outbox key arrived, or changed (rotated): the stored outbox is read with
    /// it, and this tab's messages sealed with it from now on.
    pub(super) fn set_outbox_key(self: &Rc<Self>, key: Option<OutboxKey>) {
        {
            let mut vault = self.vault.borrow_mut();
            if vault.key == key {
                return;
            }
            vault.key = key;
            vault.ready = false;
            vault.sealed.clear();
        }
        self.adopt_outbox();
    }

    /// Writes this tab's pending messages to the outbox (renewing its lease on them), sealed;
    /// those not sealed yet are sealed, then written.
    pub(super) fn save_outbox(&self) {
        let Some(outbox) = self.outbox.borrow().clone() else {
            return;
        };
        let key = {
            let vault = self.vault.borrow();
            vault.key.clone().filter(|_| vault.ready)
        };
        let Some(key) = key else {
            // Nothing can be sealed yet: this tab's messages live in its memory only, and the
            // user is told so while there are any (`outbox_notice`).
            let unkept = self.read(|s| !s.pending.is_empty());
            self.note_unkept(unkept);
            // Nothing is being sealed without a key (what was is dropped with it).
            if self.read(|s| s.outbox_sealing) {
                self.dispatch(Action::OutboxSealing(false));
            }
            return;
        };
        self.note_unkept(false);
        let pending: Vec<PendingMessage> = self.read(|s| {
            // Stored in the order written, so equal timestamps still come back in order.
            let mut pending: Vec<&PendingMessage> = s.pending.values().collect();
            crate::small_sort::sort_by_key(&mut pending, |p| p.order);
            pending.into_iter().cloned().collect()
        });
        let pending_count = pending.len();
        let mut mine = Vec::new();
        let mut to_seal = Vec::new();
        {
            let mut vault = self.vault.borrow_mut();
            vault
                .sealed
                .retain(|(id, _)| pending.iter().any(|p| p.client_id == *id));
            for p in pending {
                let sealed = vault.sealed.iter().find(|(id, _)| *id == p.client_id);
                match sealed {
                    Some((_, sealed)) => mine.push(OutboxEntry {
                        client_id: p.client_id,
                        created_at: p.created_at,
                        failed: match p.status {
                            MessageStatus::Failed(code) => Some(code),
                            _ => None,
                        },
                        tab: String::new(),
                        lease: 0,
                        sealed: sealed.clone(),
                    }),
                    None if !vault.sealing.contains(&p.client_id) => {
                        vault.sealing.push(p.client_id);
                        to_seal.push(p);
                    }
                    None => {}
                }
            }
        }
        outbox.save(&mine, crate::time::now());
        // Kept on the device once every pending message is written sealed; one still being
        // sealed (milliseconds) is in this page only, and a reload now would lose it
        // (src/second_build.rs waits for this).
        let sealing = mine.len() < pending_count;
        if self.read(|s| s.outbox_sealing) != sealing {
            self.dispatch(Action::OutboxSealing(sealing));
        }
        let Some(inner) = self.me.borrow().upgrade() else {
            return;
        };
        for p in to_seal {
            inner.seal(key.clone(), p);
        }
    }

    fn note_unkept(&self, unkept: bool) {
        if self.read(|s| s.outbox_unkept) != unkept {
            self.dispatch(Action::OutboxUnkept(unkept));
        }
    }

    /// Drops a pending message's sealed content: it changed, and is sealed again at the next
    /// write.
    pub(super) fn forget_sealed(&self, client_id: ClientMsgId) {
        self.vault
            .borrow_mut()
            .sealed
            .retain(|(id, _)| *id != client_id);
    }

    /// Seals a pending message's content, then writes the outbox again with it. A message
    /// acknowledged meanwhile is not written (the write keeps pending messages only).
    fn seal(self: &Rc<Self>, key: OutboxKey, p: PendingMessage) {
        let Some(user) = self.outbox.borrow().as_ref().map(|o| o.user()) else {
            return;
        };
        let inner = Rc::clone(self);
        let epoch = self.epoch.get();
        wasm_bindgen_futures::spawn_local(async move {
            let content = Content {
                conversation_id: p.conversation_id,
                body: p.body,
                urgent: p.urgent,
                template_id: p.template_id,
                attachments: p.attachments.clone(),
                awaiting: p.awaiting.clone(),
            };
            let sealed = outbox::seal(&key, user, p.client_id, p.created_at, &content).await;
            {
                let mut vault = inner.vault.borrow_mut();
                vault.sealing.retain(|id| *id != p.client_id);
                // Its files changed while it was sealed (an upload ended): sealed again below.
                let same = inner.read(|s| {
                    s.pending.get(&p.client_id).is_none_or(|q| {
                        q.attachments == content.attachments && q.awaiting == content.awaiting
                    })
                });
                let current = inner.epoch.get() == epoch && vault.key.as_ref() == Some(&key);
                match sealed {
                    Some(_) if current && !same => {}
                    Some(sealed) if current => vault.sealed.push((p.client_id, sealed)),
                    // WebCrypto refused (it should not): the message stays in memory.
                    _ => return,
                }
            }
            inner.save_outbox();
        });
    }

    /// Takes over the outbox entries that are this tab's (a reload) or nobody's any more (a
    /// closed tab): opens them with the key, shows them and sends them. Those older than a day
    /// are dropped unread, those the key cannot open are dropped, and the user is told. Runs at
    /// login, when the key arrives, and at every lease renewal.
    pub(super) fn adopt_outbox(self: &Rc<Self>) {
        let now = crate::time::now();
        self.expire_pending(now);
        let Some(outbox) = self.outbox.borrow().clone() else {
            return;
        };
        let key = {
            let vault = self.vault.borrow();
            if vault.adopting {
                return;
            }
            vault.key.clone()
        };
        let found = outbox::adoptable(&outbox.load(), outbox.tab(), now);
        let Some(key) = key else {
            // Nothing can be read yet: say how many wait.
            self.set_waiting(found.len());
            return;
        };
        let (expired, found): (Vec<OutboxEntry>, Vec<OutboxEntry>) = found
            .into_iter()
            .filter(|e| !self.read(|s| s.pending.contains_key(&e.client_id)))
            .partition(|e| outbox::is_expired(e.created_at, now));
        if !expired.is_empty() {
            let ids: Vec<ClientMsgId> = expired.iter().map(|e| e.client_id).collect();
            outbox.remove(&ids);
            self.dispatch(Action::OutboxDropped {
                unreadable: 0,
                expired: ids.len(),
            });
        }
        self.vault.borrow_mut().adopting = true;
        let inner = Rc::clone(self);
        let epoch = self.epoch.get();
        wasm_bindgen_futures::spawn_local(async move {
            let mut opened = Vec::new();
            let mut unreadable = Vec::new();
            for entry in found {
                match outbox::open(&key, outbox.user(), &entry).await {
                    Some(content) => opened.push((entry, content)),
                    None => unreadable.push(entry.client_id),
                }
            }
            if inner.epoch.get() != epoch {
                return;
            }
            {
                let mut vault = inner.vault.borrow_mut();
                vault.adopting = false;
                if vault.key.as_ref() != Some(&key) {
                    return;
                }
                // Not written while they are queued one by one (each would write the outbox
                // without the ones after it): once, below.
                vault.ready = false;
                for (entry, _) in &opened {
                    vault.sealed.push((entry.client_id, entry.sealed.clone()));
                }
            }
            if !unreadable.is_empty() {
                outbox.remove(&unreadable);
                inner.dispatch(Action::OutboxDropped {
                    unreadable: unreadable.len(),
                    expired: 0,
                });
            }
            inner.set_waiting(0);
            for (entry, content) in &opened {
                // Its uploads died with the page that ran them: the text goes without them,
                // and the user is told which files to pick again.
                if !content.awaiting.is_empty() {
                    inner.forget_sealed(entry.client_id);
                    inner.dispatch(Action::FilesLost(
                        content.conversation_id,
                        content.awaiting.clone(),
                    ));
                }
                inner.dispatch(Action::Queued(PendingMessage {
                    client_id: entry.client_id,
                    conversation_id: content.conversation_id,
                    body: content.body.clone(),
                    urgent: content.urgent,
                    template_id: content.template_id,
                    attachments: content.attachments.clone(),
                    awaiting: Vec::new(),
                    created_at: entry.created_at,
                    status: entry
                        .failed
                        .map_or(MessageStatus::Sending, MessageStatus::Failed),
                    order: 0,
                }));
            }
            inner.vault.borrow_mut().ready = true;
            // Written back as ours (the lease), whether or not anything was adopted.
            inner.save_outbox();
            for (entry, _) in opened {
                if entry.failed.is_none() {
                    if inner.online() {
                        inner.transmit(entry.client_id);
                    } else {
                        // The socket's `Ready` (usually within a second) sends it; if the
                        // socket cannot connect at all, this timer sends it over REST.
                        inner.resend_later(entry.client_id, ACK_TIMEOUT_MS, false);
                    }
                }
            }
        });
    }

    /// How many stored messages wait for the key (a change only: this runs every few seconds).
    fn set_waiting(&self, count: usize) {
        if self.read(|s| s.outbox_waiting) != count {
            self.dispatch(Action::OutboxWaiting(count));
        }
    }

    /// A message still unsent a day after it was written is dropped, and the user told: what
    /// it said may no longer hold, and the outbox keeps nothing longer than that.
    fn expire_pending(&self, now: Timestamp) {
        let expired: Vec<ClientMsgId> = self.read(|s| {
            s.pending
                .values()
                .filter(|p| outbox::is_expired(p.created_at, now))
                .map(|p| p.client_id)
                .collect()
        });
        if expired.is_empty() {
            return;
        }
        for id in &expired {
            self.dispatch(Action::Discard(*id));
        }
        self.dispatch(Action::OutboxDropped {
            unreadable: 0,
            expired: expired.len(),
        });
    }
}
