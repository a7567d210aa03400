//! Everything that can happen to the messaging state ([`Action`]) and how it changes: a pure
//! reducer, unit-tested in `tests.rs`.

use super::{Direction, LoadState, MessageStatus, MessagingState, PendingMessage, Thread};
use crate::services::Error;
use crate::services::websocket::ConnectionState;
use colloque_protocol::{
    AttachmentMeta, ClientMsgId, ConversationId, ConversationSummary, ErrorCode, Message,
    MessageKind, MessagePage, MessagePreview, ReadCursor, Seq, UserId, UserProfile,
};
use std::rc::Rc;
use yew::prelude::*;

/// Length of the inbox preview built locally from an incoming message (the server's is 140).
const PREVIEW_CHARS: usize = 140;

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
    /// The user cancels a message that still waits for a file: it is dropped, never sent,
    /// and its text goes back to the composer ([`MessagingState::returned`]). A message that
    /// waits for nothing is on its way and stays.
    CancelWaiting(ClientMsgId),
    /// The composer took back the text of its conversation's (first) cancelled message; the
    /// next one, if two were cancelled at once, comes back after it.
    ReturnedTaken(ConversationId),
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
            Action::CancelWaiting(client_id) => {
                let waiting = self
                    .pending
                    .get(&client_id)
                    .filter(|p| p.status == MessageStatus::Sending && !p.awaiting.is_empty());
                if let Some(p) = waiting {
                    self.returned.push((p.conversation_id, p.body.clone()));
                    self.forget_pending(&client_id);
                }
            }
            Action::ReturnedTaken(id) => {
                if let Some(at) = self.returned.iter().position(|(c, _)| *c == id) {
                    self.returned.remove(at);
                }
            }
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
}
