//! The messaging state and everything that can happen to it: a pure reducer, unit-tested
//! in `tests.rs`.

use super::Thread;
use crate::services::Error;
use crate::services::websocket::ConnectionState;
use crate::vec_map::VecMap;
use colloque_protocol::{
    AttachmentMeta, ClientMsgId, ConversationId, ConversationStatus, ConversationSummary,
    ErrorCode, Message, MessageKind, MessagePage, MessagePreview, ReadCursor, Seq, TemplateId,
    Timestamp, UserId, UserProfile,
};
use std::rc::Rc;
use yew::prelude::*;

/// Length of the inbox preview built locally from an incoming message (the server's is 140).
const PREVIEW_CHARS: usize = 140;

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
    /// (see [`Action::FileSettled`]).
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
    next_order: u64,
}

/// Everything that can happen to [`MessagingState`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Logged out (or switching user): forget everything.
    Reset,
    /// The logged-in user.
    Identify(UserId),
    /// The socket's state changed.
    Connection(ConnectionState),
    /// The server accepted the socket.
    Ready(UserProfile),
    /// The conversation list is being fetched.
    ListLoading,
    /// The conversation list arrived.
    ListLoaded(Vec<ConversationSummary>),
    /// The conversation list could not be fetched.
    ListFailed(Error),
    /// A conversation was created or changed.
    Upsert(Box<ConversationSummary>),
    /// A page of history is being fetched.
    PageLoading(ConversationId, Direction),
    /// A page of history arrived.
    PageLoaded(ConversationId, Direction, MessagePage),
    /// A conversation was reloaded from scratch (its latest page), dropping what was loaded:
    /// the server refused our position in it.
    Reloaded(ConversationId, MessagePage),
    /// A page of history could not be fetched.
    PageFailed(ConversationId, Direction, Error),
    /// A message was stored (pushed by the server, or our REST send's answer).
    Incoming(Message),
    /// A message was written here and is being sent.
    Queued(PendingMessage),
    /// The server stored our message.
    Acked(ClientMsgId, Message),
    /// The server refused our message for good.
    SendFailed(ClientMsgId, ErrorCode),
    /// A failed message is being sent again.
    Retrying(ClientMsgId),
    /// A failed message is thrown away.
    Discard(ClientMsgId),
    /// The user has seen a conversation up to `Seq`.
    ReadLocally(ConversationId, Seq),
    /// A read cursor moved on the server.
    ReadCursor(ReadCursor),
    /// A delivery cursor moved on the server (the same shape, without a time).
    Delivered(ReadCursor),
    /// This many stored messages wait for the outbox key.
    OutboxWaiting(usize),
    /// Unsent messages were dropped from this device: the key could not open them, or they
    /// were more than a day old.
    OutboxDropped {
        /// Could not be opened (another key, changed bytes).
        unreadable: usize,
        /// Written more than a day ago.
        expired: usize,
    },
    /// The user has read the notice of dropped messages.
    DismissOutboxNotice,
    /// This tab's unsent messages are (`true`) or are no longer kept in memory only.
    OutboxUnkept(bool),
    /// See [`MessagingState::outbox_sealing`].
    OutboxSealing(bool),
    /// The other participant writes in a conversation (this showing's mark).
    Writing(ConversationId, UserId, u64),
    /// A showing of "écrit…" is over (unless a later one replaced it).
    WritingOver(ConversationId, u64),
    /// A file a pending message was waiting for is uploaded (`Some`) or will not be (`None`:
    /// failed, or cut off by a reload): the message stops waiting for it.
    FileSettled {
        /// The message.
        client_id: ClientMsgId,
        /// The file's name, as in [`PendingMessage::awaiting`].
        name: String,
        /// The stored file.
        meta: Option<AttachmentMeta>,
    },
    /// Files that must be picked again (see [`MessagingState::lost_files`]).
    FilesLost(ConversationId, Vec<String>),
    /// The user has read the notice of a conversation's lost files.
    DismissLostFiles(ConversationId),
}

impl Reducible for MessagingState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Rc::unwrap_or_clone(self);
        next.apply(action);
        next.revision += 1;
        Rc::new(next)
    }
}

impl MessagingState {
    fn apply(&mut self, action: Action) {
        match action {
            Action::Reset => {
                *self = MessagingState {
                    revision: self.revision,
                    ..MessagingState::default()
                }
            }
            Action::Identify(me) => self.me = Some(me),
            Action::Connection(state) => self.connection = state,
            Action::Ready(user) => {
                self.me = Some(user.id);
                self.connection = ConnectionState::Online;
                self.ready_count += 1;
            }
            Action::ListLoading => {
                if !matches!(self.list, LoadState::Loaded) {
                    self.list = LoadState::Loading;
                }
            }
            Action::ListLoaded(list) => {
                self.conversations = list.into_iter().map(|c| (c.id, c)).collect();
                self.list = LoadState::Loaded;
            }
            Action::ListFailed(error) => self.list = LoadState::Failed(error),
            Action::Upsert(summary) => {
                self.conversations.insert(summary.id, *summary);
            }
            Action::PageLoading(id, direction) => {
                let thread = self.thread_mut(id);
                match direction {
                    Direction::Latest => thread.latest = LoadState::Loading,
                    Direction::Older => thread.older = LoadState::Loading,
                    Direction::Newer => {}
                }
            }
            Action::PageLoaded(id, direction, page) => self.absorb_page(id, direction, page),
            Action::Reloaded(id, page) => {
                self.threads.insert(id, Rc::default());
                self.absorb_page(id, Direction::Latest, page);
            }
            Action::PageFailed(id, direction, error) => {
                let thread = self.thread_mut(id);
                match direction {
                    Direction::Latest => thread.latest = LoadState::Failed(error),
                    Direction::Older => thread.older = LoadState::Failed(error),
                    Direction::Newer => {}
                }
            }
            Action::Incoming(message) => {
                self.wrote(message.conversation_id, message.sender_id);
                self.absorb_message(message, true);
            }
            Action::Writing(id, user, mark) => self.start_writing(id, user, mark),
            Action::WritingOver(id, mark) => self.stop_writing(id, mark),
            Action::Queued(mut pending) => {
                let delivered = self.threads.get(&pending.conversation_id).is_some_and(|t| {
                    t.messages
                        .values()
                        .any(|m| m.client_id == pending.client_id)
                });
                if !delivered && !self.pending.contains_key(&pending.client_id) {
                    pending.order = self.next_order;
                    self.next_order += 1;
                    self.pending.insert(pending.client_id, pending);
                    self.pending_rev += 1;
                }
            }
            Action::Acked(client_id, message) => {
                self.forget_pending(&client_id);
                self.absorb_message(message, false);
            }
            Action::SendFailed(client_id, code) => {
                if let Some(p) = self.pending.get_mut(&client_id) {
                    p.status = MessageStatus::Failed(code);
                    self.pending_rev += 1;
                }
            }
            Action::Retrying(client_id) => {
                if let Some(p) = self.pending.get_mut(&client_id) {
                    p.status = MessageStatus::Sending;
                    self.pending_rev += 1;
                }
            }
            Action::Discard(client_id) => self.forget_pending(&client_id),
            Action::ReadLocally(id, seq) => self.move_my_cursor(id, seq),
            Action::OutboxWaiting(count) => self.outbox_waiting = count,
            Action::OutboxDropped {
                unreadable,
                expired,
            } => {
                self.outbox_dropped.0 += unreadable;
                self.outbox_dropped.1 += expired;
            }
            Action::DismissOutboxNotice => self.outbox_dropped = (0, 0),
            Action::OutboxUnkept(unkept) => self.outbox_unkept = unkept,
            Action::OutboxSealing(sealing) => self.outbox_sealing = sealing,
            Action::FileSettled {
                client_id,
                name,
                meta,
            } => {
                if let Some(p) = self.pending.get_mut(&client_id)
                    && let Some(at) = p.awaiting.iter().position(|n| *n == name)
                {
                    p.awaiting.remove(at);
                    let conversation = p.conversation_id;
                    match meta {
                        Some(meta) => p.attachments.push(meta),
                        None => self.lost_files.push((conversation, name)),
                    }
                    self.pending_rev += 1;
                }
            }
            Action::FilesLost(id, names) => {
                self.lost_files.extend(names.into_iter().map(|n| (id, n)));
            }
            Action::DismissLostFiles(id) => self.lost_files.retain(|(c, _)| *c != id),
            Action::ReadCursor(cursor) => {
                if Some(cursor.user_id) == self.me {
                    self.move_my_cursor(cursor.conversation_id, cursor.seq);
                } else if let Some(c) = self.conversations.get_mut(&cursor.conversation_id)
                    && cursor.seq > c.other_read_seq
                {
                    c.other_read_seq = cursor.seq;
                    c.other_read_at = cursor.at;
                    c.other_read_from = cursor.from;
                }
            }
            Action::Delivered(cursor) => {
                if Some(cursor.user_id) != self.me
                    && let Some(c) = self.conversations.get_mut(&cursor.conversation_id)
                {
                    c.other_delivered_seq = c.other_delivered_seq.max(cursor.seq);
                }
            }
        }
    }

    fn thread_mut(&mut self, id: ConversationId) -> &mut Thread {
        Rc::make_mut(self.threads.get_or_default(id))
    }

    fn forget_pending(&mut self, client_id: &ClientMsgId) {
        if self.pending.remove(client_id).is_some() {
            self.pending_rev += 1;
        }
    }

    fn absorb_page(&mut self, id: ConversationId, direction: Direction, page: MessagePage) {
        for message in &page.messages {
            // A message we were still waiting an ack for is now confirmed.
            self.forget_pending(&message.client_id);
        }
        let thread = self.thread_mut(id);
        let was_loaded = thread.latest == LoadState::Loaded;
        thread.messages.merge(page.messages);
        match direction {
            Direction::Latest => {
                thread.latest = LoadState::Loaded;
                if !was_loaded {
                    thread.has_more = page.has_more;
                }
            }
            Direction::Older => {
                thread.older = LoadState::Loaded;
                thread.has_more = page.has_more;
            }
            Direction::Newer => {}
        }
        // Sequence numbers start at 1 without gaps: nothing can precede seq 1.
        if thread.first_seq().is_none_or(|s| s <= Seq(1)) {
            thread.has_more = false;
        }
        let last = thread.messages.values().next_back().cloned();
        if let Some(last) = last {
            self.bump_summary(&last, false);
        }
    }

    fn absorb_message(&mut self, message: Message, announce: bool) {
        self.forget_pending(&message.client_id);
        let is_new = !self
            .threads
            .get(&message.conversation_id)
            .is_some_and(|t| t.messages.contains_key(&message.seq));
        if !self.conversations.contains_key(&message.conversation_id) {
            self.refresh_requests += 1;
        }
        let from_other = Some(message.sender_id) != self.me;
        if is_new {
            self.bump_summary(&message, from_other);
            if from_other {
                self.other_wrote(&message);
            }
        }
        if announce && is_new && from_other {
            self.last_incoming = Some(message.clone());
        }
        let thread = self.thread_mut(message.conversation_id);
        thread.messages.insert_if_absent(message);
    }

    /// Moves a conversation's "latest message" forward; counts it as unread when it is new and
    /// from the other participant.
    fn bump_summary(&mut self, message: &Message, count_unread: bool) {
        let Some(c) = self.conversations.get_mut(&message.conversation_id) else {
            return;
        };
        if message.seq <= c.last_seq {
            return;
        }
        c.last_seq = message.seq;
        c.last_activity_at = c.last_activity_at.max(message.sent_at);
        c.last_message = Some(MessagePreview {
            sender_id: message.sender_id,
            excerpt: message.body.chars().take(PREVIEW_CHARS).collect(),
            sent_at: message.sent_at,
            seq: message.seq,
            kind: message.kind,
        });
        if count_unread && message.seq > c.my_read_seq {
            c.unread_count += 1;
        }
        crate::care::follow_message(c, message);
    }

    /// The server moves a writer's read cursor to their message, at its time (an automatic
    /// reply excepted: nobody read anything); a tab follows it as it does for a `read` frame.
    fn other_wrote(&mut self, message: &Message) {
        if let Some(c) = self.conversations.get_mut(&message.conversation_id)
            && message.kind != MessageKind::AutoReply
            && message.seq > c.other_read_seq
        {
            c.other_read_from = c.other_read_seq;
            c.other_read_seq = message.seq;
            c.other_read_at = Some(message.sent_at);
        }
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

    fn move_my_cursor(&mut self, id: ConversationId, seq: Seq) {
        let Some(c) = self.conversations.get_mut(&id) else {
            return;
        };
        if seq <= c.my_read_seq {
            return;
        }
        c.my_read_seq = seq;
        // Only the other participant's messages count; when the loaded thread covers the
        // unread range we can count exactly, otherwise the remaining range bounds it.
        let remaining = u32::try_from((c.last_seq.0 - seq.0).max(0)).unwrap_or(u32::MAX);
        let exact = self.threads.get(&id).and_then(|t| {
            let covers = t.last_seq() >= Some(c.last_seq);
            covers.then(|| {
                t.messages
                    .after(seq)
                    .iter()
                    .filter(|m| Some(m.sender_id) != self.me)
                    .count() as u32
            })
        });
        c.unread_count = exact.unwrap_or(c.unread_count).min(remaining);
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
