//! The messaging state: where each piece of remote data stands, the pending messages, and the
//! views the components read (the sorted inbox, a conversation's timeline). What can happen to
//! it, and how it changes, is the reducer's (`reducer`).

use super::Thread;
use crate::services::Error;
use crate::services::websocket::ConnectionState;
use crate::vec_map::VecMap;
use colloque_protocol::{
    AttachmentMeta, ClientMsgId, ConversationId, ConversationStatus, ConversationSummary,
    ErrorCode, Message, MessageKind, Seq, TemplateId, Timestamp, UserId, UserProfile,
};
use std::rc::Rc;

/// Where a piece of remote data stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LoadState {
    /// Never asked for.
    #[default]
    Idle,
    /// On its way.
    Loading,
    /// Here.
    Loaded,
    /// The last attempt failed.
    Failed(Error),
}

/// The delivery status of one message as the sender sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    /// Shown at once, not yet acknowledged.
    Sending,
    /// Stored by the server.
    Sent,
    /// Refused for good, with the reason; can be retried or discarded.
    Failed(ErrorCode),
}

impl MessageStatus {
    /// The value of the message's `data-status` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed(_) => "failed",
        }
    }
}

/// A message written here and not yet acknowledged (or refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMessage {
    /// Its id, kept across retries (the server deduplicates on it).
    pub client_id: ClientMsgId,
    /// Where it goes.
    pub conversation_id: ConversationId,
    /// The text.
    pub body: String,
    /// Sent past the red-flag screen (docs/care.md, "Red flags").
    pub urgent: bool,
    /// The reply template it came from (a doctor's), cited by every resend.
    pub template_id: Option<TemplateId>,
    /// When it was written, for display.
    pub created_at: Timestamp,
    /// Sending or failed.
    pub status: MessageStatus,
    /// The files it carries, uploaded (sent by id).
    pub attachments: Vec<AttachmentMeta>,
    /// The names of files still uploading when Send was pressed: the message waits for them
    /// (see [`Action::FileSettled`](super::Action::FileSettled)).
    pub awaiting: Vec<String>,
    pub(crate) order: u64,
}

/// One line of a conversation as displayed: confirmed messages, then pending ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineItem {
    /// The server id, or the client id while pending (`data-message-id`).
    pub dom_id: String,
    /// The client id.
    pub client_id: ClientMsgId,
    /// The sequence number once stored.
    pub seq: Option<Seq>,
    /// Who wrote it.
    pub sender_id: UserId,
    /// The text (plain text: rendered as text, never as HTML).
    pub body: String,
    /// When it was stored (or written, while pending).
    pub sent_at: Timestamp,
    /// Delivery status.
    pub status: MessageStatus,
    /// Text, or a line the server wrote (closing, reopening).
    pub kind: MessageKind,
    /// Its files.
    pub attachments: Vec<AttachmentMeta>,
    /// Files it still waits for (pending only): their names.
    pub awaiting: Vec<String>,
}

/// Which page of history arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The latest messages.
    Latest,
    /// Messages before the first loaded one.
    Older,
    /// Messages after the last loaded one (catching up).
    Newer,
}

/// Everything the app knows about the user's conversations.
#[derive(Debug, Clone, Default)]
pub struct MessagingState {
    /// Bumped by every action: a cheap "did anything change" for the context.
    pub revision: u64,
    /// The logged-in user.
    pub me: Option<UserId>,
    /// The WebSocket's state.
    pub connection: ConnectionState,
    /// Conversations by id.
    pub conversations: VecMap<ConversationId, ConversationSummary>,
    /// The conversation list's loading state.
    pub list: LoadState,
    /// Loaded messages per conversation.
    pub threads: VecMap<ConversationId, Rc<Thread>>,
    /// Messages written here and not yet stored, by client id.
    pub pending: VecMap<ClientMsgId, PendingMessage>,
    /// Bumped whenever `pending` changes: the outbox is written then.
    pub pending_rev: u64,
    /// Bumped on every `Ready`: pending messages are resent and loaded threads caught up.
    pub ready_count: u64,
    /// Bumped when the list is stale (a message for a conversation we do not know).
    pub refresh_requests: u64,
    /// The latest message from someone else, for the screen-reader announcement.
    pub last_incoming: Option<Message>,
    /// Stored messages that wait for the outbox key to be read (a reloaded tab, until its
    /// session's first refresh answers).
    pub outbox_waiting: usize,
    /// Unsent messages dropped from this device since the user was last told: (unreadable,
    /// expired).
    pub outbox_dropped: (usize, usize),
    /// This tab's unsent messages live in its memory only: the outbox key has not come (a tab
    /// loaded without the server, until its session's first refresh answers), so they cannot be
    /// sealed into the stored outbox, and closing or reloading the tab would lose them.
    pub outbox_unkept: bool,
    /// Some of this tab's unsent messages are being sealed (milliseconds), not yet written to
    /// the stored outbox: a reload now would lose them.
    pub outbox_sealing: bool,
    /// Who is writing, per conversation (the typing indicator; see `typing`).
    pub(super) writing: VecMap<ConversationId, super::typing::Writing>,
    /// Files that did not make it into their message (their upload failed after Send, or a
    /// reload cut it off): the user must pick them again. Per conversation, by name.
    pub lost_files: Vec<(ConversationId, String)>,
    /// The texts of messages whose sending the user cancelled while they waited for a file:
    /// each goes back to its conversation's composer, once.
    pub returned: Vec<(ConversationId, String)>,
    pub(super) next_order: u64,
}

impl MessagingState {
    /// The messages of `conversation` still being sent (neither stored nor failed), in no
    /// particular order: what the send order of a conversation is decided among.
    pub(super) fn sending_in(
        &self,
        conversation: ConversationId,
    ) -> impl Iterator<Item = &PendingMessage> {
        self.pending.values().filter(move |p| {
            p.conversation_id == conversation && p.status == MessageStatus::Sending
        })
    }

    /// Per loaded conversation, the end of what this device holds without a gap since what
    /// the user has read (read messages were received before): the `received` receipt to
    /// send. A thread that starts after an unread message it never loaded tells nothing.
    pub fn held_through(&self) -> Vec<(ConversationId, Seq)> {
        self.threads
            .iter()
            .filter_map(|(id, t)| {
                let c = self.conversations.get(id)?;
                let (first, last) = (t.first_seq()?, t.last_seq()?);
                (first.0 <= c.my_read_seq.0 + 1).then_some((*id, last))
            })
            .collect()
    }

    /// Conversations, most recent activity first.
    pub fn sorted_conversations(&self) -> Vec<&ConversationSummary> {
        let mut list: Vec<_> = self.conversations.values().collect();
        // Newest first; the key is unique (ids are), so stability does not matter here.
        crate::small_sort::sort_by_key(&mut list, |c| {
            (
                std::cmp::Reverse(c.last_activity_at),
                std::cmp::Reverse(c.id),
            )
        });
        list
    }

    /// Unread messages across all conversations.
    pub fn total_unread(&self) -> u32 {
        self.conversations.values().map(|c| c.unread_count).sum()
    }

    /// The conversation with `user`: the open one if any, else the most recent.
    pub fn conversation_with(&self, user: UserId) -> Option<&ConversationSummary> {
        self.conversations
            .values()
            .filter(|c| c.patient.id == user || c.doctor.id == user)
            .max_by_key(|c| {
                (
                    c.status == ConversationStatus::Open,
                    c.last_activity_at,
                    c.id,
                )
            })
    }

    /// The other participant of a conversation, from the viewer's side.
    pub fn other_party<'a>(&self, c: &'a ConversationSummary) -> &'a UserProfile {
        if Some(c.doctor.id) == self.me {
            &c.patient
        } else if Some(c.patient.id) == self.me {
            &c.doctor
        } else {
            // Not identified yet: a patient is the common case.
            &c.doctor
        }
    }

    /// A conversation's messages as displayed: confirmed ones by sequence number, then the
    /// pending ones in the order they were written.
    pub fn timeline(&self, id: ConversationId) -> Vec<TimelineItem> {
        let me = self.me.unwrap_or(UserId(0));
        let mut items: Vec<TimelineItem> = self
            .threads
            .get(&id)
            .map(|t| {
                t.shown()
                    .map(|m| TimelineItem {
                        dom_id: m.id.to_string(),
                        client_id: m.client_id,
                        seq: Some(m.seq),
                        sender_id: m.sender_id,
                        body: m.body.clone(),
                        sent_at: m.sent_at,
                        status: MessageStatus::Sent,
                        kind: m.kind,
                        attachments: m.attachments.clone(),
                        awaiting: Vec::new(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut pending: Vec<&PendingMessage> = self
            .pending
            .values()
            .filter(|p| p.conversation_id == id)
            .collect();
        crate::small_sort::sort_by_key(&mut pending, |p| p.order);
        items.extend(pending.into_iter().map(|p| TimelineItem {
            dom_id: p.client_id.to_string(),
            client_id: p.client_id,
            seq: None,
            sender_id: me,
            body: p.body.clone(),
            sent_at: p.created_at,
            status: p.status,
            kind: MessageKind::Text,
            attachments: p.attachments.clone(),
            awaiting: p.awaiting.clone(),
        }));
        items
    }
}
