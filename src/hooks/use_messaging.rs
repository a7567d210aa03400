//! App-wide messaging: one reducer-backed state, one WebSocket per tab, shared by every
//! component through [`MessagingProvider`] and [`use_messaging`]. Doctors and patients use the
//! very same code: the server's answers are role-aware.
//!
//! State changes only through [`Action`]s ([`MessagingState::reduce`] is pure and unit-tested);
//! network work lives in the provider's effects and in [`MessagingHandle`]'s intent methods.
//!
//! Never lose, never duplicate:
//! - every message gets its client id before anything is sent and goes into the persisted
//!   [`outbox`](super::outbox) until the server acknowledges it; each message has its own resend
//!   timer (exponential backoff, full jitter), so one stuck message holds up no other;
//! - a conversation's messages are kept by sequence number and shown only up to the first gap
//!   ([`Thread::last_seq`]); a gap, a reconnection (`Ready`), the browser's `online` event and
//!   the tab becoming visible again all fetch what is missing with `after=<last seq>`;
//! - a message is recognised by its sequence number and, while pending, its client id, so a
//!   replayed ack, a second tab's push or a catch-up page never shows it twice.

mod thread;

pub use thread::{Messages, Thread};

use super::outbox::{self, Outbox, OutboxEntry};
use crate::config::use_config;
use crate::services::messaging_api as rest;
use crate::services::websocket::{
    Connection, ConnectionState, ConnectorRef, SocketEvent, WsConnector, backoff_delay_ms,
};
use crate::services::{Api, Error};
use crate::session::use_session;
use crate::vec_map::VecMap;
use colloque_protocol::{
    ClientFrame, ClientMsgId, ConversationId, ConversationStatus, ConversationSummary, ErrorCode,
    Message, MessagePage, MessagePreview, ReadCursor, Seq, ServerFrame, Timestamp, UserId,
    UserProfile,
};
use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::rc::Rc;
use yew::prelude::*;

/// A message sent over a live socket is normally acknowledged within milliseconds; with no
/// answer after this (plus its backoff) it is sent again. A dead socket is usually noticed
/// sooner, by the heartbeat, and everything pending is resent on the next `Ready`.
const ACK_TIMEOUT_MS: u32 = 10_000;
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
    /// When it was written, for display.
    pub created_at: Timestamp,
    /// Sending or failed.
    pub status: MessageStatus,
    order: u64,
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
    Upsert(ConversationSummary),
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
                self.conversations.insert(summary.id, summary);
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
            Action::Incoming(message) => self.absorb_message(message, true),
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
            Action::ReadCursor(cursor) => {
                if Some(cursor.user_id) == self.me {
                    self.move_my_cursor(cursor.conversation_id, cursor.seq);
                } else if let Some(c) = self.conversations.get_mut(&cursor.conversation_id) {
                    c.other_read_seq = c.other_read_seq.max(cursor.seq);
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
        });
        if count_unread && message.seq > c.my_read_seq {
            c.unread_count += 1;
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
        }));
        items
    }
}

/// A pending message's resend schedule.
struct Resend {
    /// Failed attempts so far: the backoff's exponent.
    attempt: u32,
    /// Dropping it cancels the resend.
    _timer: Timeout,
}

/// The provider's side-effecting half, shared (behind an `Rc`) by the handle and the effects.
struct Inner {
    state: RefCell<Option<UseReducerHandle<MessagingState>>>,
    api: RefCell<Api>,
    connector: RefCell<Option<ConnectorRef>>,
    connection: RefCell<Option<Box<dyn Connection>>>,
    /// The token the socket last authenticated with.
    token: RefCell<Option<String>>,
    /// Bumped at each login/logout so that late answers for a previous session are dropped.
    epoch: Cell<u64>,
    /// The logged-in user's outbox; `None` while logged out (nothing is written then).
    outbox: RefCell<Option<Outbox>>,
    /// The `pending_rev` last written to the outbox.
    saved_rev: Cell<u64>,
    /// One resend timer per pending message.
    /// (A few entries at most: plain vectors cost less wasm than more hash map types.)
    resends: RefCell<Vec<(ClientMsgId, Resend)>>,
    /// Conversations with a catch-up request in flight (`true`: asked again meanwhile).
    catching_up: RefCell<Vec<(ConversationId, bool)>>,
    /// The outbox lease timer and the browser listeners, for the logged-in session.
    session_tasks: RefCell<Option<(Interval, Vec<EventListener>)>>,
}

impl Inner {
    fn dispatch(&self, action: Action) {
        let Some(state) = self.state.borrow().clone() else {
            return;
        };
        state.dispatch(action);
        if state.pending_rev != self.saved_rev.get() {
            self.saved_rev.set(state.pending_rev);
            self.save_outbox();
            // Acked, discarded or failed: no more resends.
            self.resends.borrow_mut().retain(|(id, _)| {
                state
                    .pending
                    .get(id)
                    .is_some_and(|p| p.status == MessageStatus::Sending)
            });
        }
    }

    fn read<R>(&self, f: impl FnOnce(&MessagingState) -> R) -> R {
        let state = self.state.borrow();
        let state = state.as_ref().expect("set on the provider's first render");
        f(state)
    }

    fn online(&self) -> bool {
        self.connection.borrow().is_some() && self.read(|s| s.connection) == ConnectionState::Online
    }

    fn send_frame(&self, frame: ClientFrame) {
        if let Some(connection) = self.connection.borrow().as_ref() {
            connection.send(frame);
        }
    }

    /// Writes this tab's pending messages to the outbox (renewing its lease on them).
    fn save_outbox(&self) {
        let Some(outbox) = self.outbox.borrow().clone() else {
            return;
        };
        let mine: Vec<OutboxEntry> = self.read(|s| {
            // Stored in the order written, so equal timestamps still come back in order.
            let mut pending: Vec<&PendingMessage> = s.pending.values().collect();
            crate::small_sort::sort_by_key(&mut pending, |p| p.order);
            pending
                .into_iter()
                .map(|p| OutboxEntry {
                    client_id: p.client_id,
                    conversation_id: p.conversation_id,
                    body: p.body.clone(),
                    created_at: p.created_at,
                    failed: match p.status {
                        MessageStatus::Failed(code) => Some(code),
                        _ => None,
                    },
                    tab: String::new(),
                    lease: 0,
                })
                .collect()
        });
        outbox.save(&mine, crate::time::now());
    }

    /// Takes over the outbox entries that are this tab's (a reload) or nobody's any more (a
    /// closed tab), shows them and sends them.
    fn adopt_outbox(self: &Rc<Self>) {
        let Some(outbox) = self.outbox.borrow().clone() else {
            return;
        };
        let found = outbox::adoptable(&outbox.load(), outbox.tab(), crate::time::now());
        let adopted: Vec<OutboxEntry> = found
            .into_iter()
            .filter(|e| !self.read(|s| s.pending.contains_key(&e.client_id)))
            .collect();
        for entry in &adopted {
            self.dispatch(Action::Queued(PendingMessage {
                client_id: entry.client_id,
                conversation_id: entry.conversation_id,
                body: entry.body.clone(),
                created_at: entry.created_at,
                status: entry
                    .failed
                    .map_or(MessageStatus::Sending, MessageStatus::Failed),
                order: 0,
            }));
        }
        // Write them back as ours (the lease), whether or not anything changed above.
        self.save_outbox();
        for entry in adopted {
            if entry.failed.is_none() {
                if self.online() {
                    self.transmit(entry.client_id);
                } else {
                    // The socket's `Ready` (usually within a second) sends it; if the socket
                    // cannot connect at all, this timer sends it over REST.
                    self.resend_later(entry.client_id, ACK_TIMEOUT_MS, false);
                }
            }
        }
    }

    /// Runs a request for the current session and hands its answer to `done`, unless the user
    /// logged out in between.
    fn spawn<T: 'static>(
        self: &Rc<Self>,
        work: impl AsyncFnOnce(Api) -> T + 'static,
        done: impl FnOnce(&Rc<Inner>, T) + 'static,
    ) {
        let inner = Rc::clone(self);
        let epoch = self.epoch.get();
        let api = self.api.borrow().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = work(api).await;
            if inner.epoch.get() == epoch {
                done(&inner, result);
            }
        });
    }

    fn on_event(self: &Rc<Self>, event: SocketEvent) {
        match event {
            SocketEvent::State(state) => self.dispatch(Action::Connection(state)),
            SocketEvent::Frame(frame) => match *frame {
                ServerFrame::Ready { user } => self.dispatch(Action::Ready(user)),
                ServerFrame::Ack { client_id, message } => {
                    self.dispatch(Action::Acked(client_id, message))
                }
                ServerFrame::Message { message } => {
                    let id = message.conversation_id;
                    self.dispatch(Action::Incoming(message));
                    self.fill_gap(id);
                }
                ServerFrame::Read { cursor } => self.dispatch(Action::ReadCursor(cursor)),
                ServerFrame::Conversation { conversation } => {
                    self.dispatch(Action::Upsert(conversation))
                }
                ServerFrame::Pong { .. } => {}
                ServerFrame::Error {
                    error,
                    client_id: Some(client_id),
                } => {
                    if error.code.is_permanent() {
                        self.dispatch(Action::SendFailed(client_id, error.code));
                    } else {
                        self.resend_later(client_id, 0, true);
                    }
                }
                ServerFrame::Error {
                    error,
                    client_id: None,
                } => match error.code {
                    // The token ran out. The socket waits for a renewed one; any REST call
                    // refused with 401 renews it (or ends the session if it cannot be).
                    ErrorCode::Unauthorized => self.refresh(),
                    // This socket fell behind: start afresh and fetch what was missed.
                    ErrorCode::ResyncRequired => self.reconnect(),
                    _ => {}
                },
            },
        }
    }

    /// Drops the socket and opens another; its `Ready` resends and catches up.
    fn reconnect(self: &Rc<Self>) {
        let connector = self.connector.borrow().clone();
        let token = self.token.borrow().clone();
        let (Some(connector), Some(token)) = (connector, token) else {
            return;
        };
        self.connection.borrow_mut().take();
        self.dispatch(Action::Connection(ConnectionState::Connecting));
        let events = {
            let inner = Rc::downgrade(self);
            let epoch = self.epoch.get();
            Callback::from(move |event| {
                if let Some(inner) = inner.upgrade().filter(|i| i.epoch.get() == epoch) {
                    inner.on_event(event);
                }
            })
        };
        let connection = connector.0.connect(token, events);
        *self.connection.borrow_mut() = Some(connection);
    }

    /// Sends a pending message again after its backoff (plus `wait_ms`), unless it has been
    /// acknowledged or refused by then. `failed`: an attempt failed, so the next waits longer.
    fn resend_later(self: &Rc<Self>, client_id: ClientMsgId, wait_ms: u32, failed: bool) {
        let sending = self.read(|s| {
            s.pending
                .get(&client_id)
                .is_some_and(|p| p.status == MessageStatus::Sending)
        });
        if !sending {
            return;
        }
        let mut resends = self.resends.borrow_mut();
        let attempt = resends
            .iter()
            .find(|(id, _)| *id == client_id)
            .map_or(0, |(_, r)| r.attempt);
        resends.retain(|(id, _)| *id != client_id);
        let delay = wait_ms.saturating_add(backoff_delay_ms(attempt, js_sys::Math::random()));
        let inner = Rc::downgrade(self);
        let epoch = self.epoch.get();
        let timer = Timeout::new(delay, move || {
            if let Some(inner) = inner.upgrade().filter(|i| i.epoch.get() == epoch) {
                inner.transmit(client_id);
            }
        });
        resends.push((
            client_id,
            Resend {
                attempt: attempt.saturating_add(u32::from(failed)),
                _timer: timer,
            },
        ));
    }

    /// Sends a pending message: over the socket when online, else over REST. Both are
    /// idempotent on the client id, so a resend after a lost ack stores it once. Each call
    /// arms the message's own resend timer.
    fn transmit(self: &Rc<Self>, client_id: ClientMsgId) {
        let Some(p) = self.read(|s| s.pending.get(&client_id).cloned()) else {
            return;
        };
        if p.status != MessageStatus::Sending {
            return;
        }
        if self.online() {
            self.send_frame(ClientFrame::Send {
                conversation_id: p.conversation_id,
                client_id,
                body: p.body,
            });
            self.resend_later(client_id, ACK_TIMEOUT_MS, false);
            return;
        }
        // REST requests race each other, so without the socket a conversation's messages go
        // one at a time, oldest first: this one waits for the earlier one to be stored (or to
        // fail for good), which then sends it at once.
        let conversation_id = p.conversation_id;
        let earlier_waiting = self.read(|s| {
            s.pending.values().any(|q| {
                q.conversation_id == conversation_id
                    && q.order < p.order
                    && q.status == MessageStatus::Sending
            })
        });
        if earlier_waiting {
            self.resend_later(client_id, ACK_TIMEOUT_MS, false);
            return;
        }
        self.spawn(
            async move |api| {
                rest::send_message_to_conversation(&api, p.conversation_id, client_id, &p.body)
                    .await
            },
            move |inner, result| match result {
                Ok(message) => {
                    inner.dispatch(Action::Acked(client_id, message));
                    inner.transmit_next(conversation_id);
                }
                Err(e) => match e.code().filter(|c| c.is_permanent()) {
                    Some(code) => {
                        inner.dispatch(Action::SendFailed(client_id, code));
                        inner.transmit_next(conversation_id);
                    }
                    None => inner.resend_later(client_id, 0, true),
                },
            },
        );
    }

    /// Sends the oldest message of a conversation still waiting, if any.
    fn transmit_next(self: &Rc<Self>, conversation_id: ConversationId) {
        let next = self.read(|s| {
            s.pending
                .values()
                .filter(|p| p.conversation_id == conversation_id)
                .filter(|p| p.status == MessageStatus::Sending)
                .min_by_key(|p| p.order)
                .map(|p| p.client_id)
        });
        if let Some(client_id) = next {
            self.transmit(client_id);
        }
    }

    fn refresh(self: &Rc<Self>) {
        self.dispatch(Action::ListLoading);
        self.spawn(
            async |api| rest::get_medecin_conversations(&api).await,
            |inner, result| match result {
                Ok(list) => inner.dispatch(Action::ListLoaded(list)),
                Err(e) => inner.dispatch(Action::ListFailed(e)),
            },
        );
    }

    fn load_page(self: &Rc<Self>, id: ConversationId, direction: Direction, from: Seq) {
        self.dispatch(Action::PageLoading(id, direction));
        self.spawn(
            async move |api| match direction {
                Direction::Latest => rest::get_conversation_messages(&api, id).await,
                Direction::Older => rest::get_message_history(&api, id, from).await,
                Direction::Newer => rest::get_messages_after(&api, id, from).await,
            },
            move |inner, result| match result {
                Ok(page) => {
                    inner.dispatch(Action::PageLoaded(id, direction, page));
                    inner.fill_gap(id);
                }
                Err(e) => inner.dispatch(Action::PageFailed(id, direction, e)),
            },
        );
    }

    /// Catches up when a shown conversation has a hole (a push arrived before those it
    /// follows).
    fn fill_gap(self: &Rc<Self>, id: ConversationId) {
        let gap = self.read(|s| {
            s.threads
                .get(&id)
                .is_some_and(|t| t.latest == LoadState::Loaded && t.has_gap())
        });
        if gap {
            self.catch_up(id);
        }
    }

    /// Fetches everything after the conversation's last shown message, a page at a time. One
    /// request at a time per conversation; asking during one runs another after it.
    fn catch_up(self: &Rc<Self>, id: ConversationId) {
        if let Some((_, again)) = self
            .catching_up
            .borrow_mut()
            .iter_mut()
            .find(|(c, _)| *c == id)
        {
            *again = true;
            return;
        }
        let Some(from) = self.read(|s| {
            s.threads
                .get(&id)
                .filter(|t| t.latest == LoadState::Loaded)
                .map(|t| t.last_seq().unwrap_or_default())
        }) else {
            return;
        };
        self.catching_up.borrow_mut().push((id, false));
        self.spawn(
            async move |api| rest::get_messages_after(&api, id, from).await,
            move |inner, result| {
                let again = {
                    let mut catching_up = inner.catching_up.borrow_mut();
                    let at = catching_up.iter().position(|(c, _)| *c == id);
                    at.is_some_and(|at| catching_up.swap_remove(at).1)
                };
                match result {
                    Ok(page) => {
                        let progress = !page.messages.is_empty();
                        let more = page.has_more;
                        inner.dispatch(Action::PageLoaded(id, Direction::Newer, page));
                        let gap = inner.read(|s| s.threads.get(&id).is_some_and(|t| t.has_gap()));
                        if again || (progress && (more || gap)) {
                            inner.catch_up(id);
                        }
                    }
                    // Our position is not one the server knows (history rewritten, a
                    // restored backup): reload this conversation, and only this one.
                    Err(e) if e.code() == Some(ErrorCode::InvalidCursor) => inner.reload(id),
                    // Offline or refused: the next reconnection, `online` or visibility
                    // change asks again.
                    Err(_) => {}
                }
            },
        );
    }

    /// Replaces a conversation's messages by its latest page.
    fn reload(self: &Rc<Self>, id: ConversationId) {
        self.spawn(
            async move |api| rest::get_conversation_messages(&api, id).await,
            move |inner, result| match result {
                Ok(page) => {
                    inner.dispatch(Action::Reloaded(id, page));
                    inner.fill_gap(id);
                }
                Err(e) => inner.dispatch(Action::PageFailed(id, Direction::Latest, e)),
            },
        );
    }

    /// Fetches what was missed in every shown conversation, and the list (unread counts may
    /// have moved while we were away).
    fn catch_up_all(self: &Rc<Self>) {
        let shown: Vec<ConversationId> = self.read(|s| {
            s.threads
                .iter()
                .filter(|(_, t)| t.latest == LoadState::Loaded)
                .map(|(id, _)| *id)
                .collect()
        });
        for id in shown {
            self.catch_up(id);
        }
        self.refresh();
    }

    /// After (re)connecting: resend what is still pending, then catch up.
    fn resync(self: &Rc<Self>) {
        // In the order they were written: the server stores a socket's sends in the order it
        // reads them, so this order becomes the conversation's order.
        let pending: Vec<ClientMsgId> = self.read(|s| {
            let mut sending: Vec<&PendingMessage> = s
                .pending
                .values()
                .filter(|p| p.status == MessageStatus::Sending)
                .collect();
            crate::small_sort::sort_by_key(&mut sending, |p| p.order);
            sending.into_iter().map(|p| p.client_id).collect()
        });
        // A new connection: the backoff starts over.
        self.resends.borrow_mut().clear();
        for client_id in pending {
            self.transmit(client_id);
        }
        self.catch_up_all();
    }

    /// Logged in: the outbox lease and the browser events that call for a catch-up.
    fn start_session_tasks(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let lease = Interval::new(outbox::LEASE_RENEW_MS, {
            let weak = weak.clone();
            move || {
                if let Some(inner) = weak.upgrade() {
                    // Renews this tab's lease and picks up a closed tab's leftovers.
                    inner.adopt_outbox();
                }
            }
        });
        let mut listeners = Vec::new();
        if let Some(window) = web_sys::window() {
            let on_online = {
                let weak = weak.clone();
                EventListener::new(&window, "online", move |_| {
                    if let Some(inner) = weak.upgrade() {
                        if let Some(connection) = inner.connection.borrow().as_ref() {
                            connection.wake();
                        }
                        inner.resync();
                    }
                })
            };
            let on_pagehide = {
                let weak = weak.clone();
                EventListener::new(&window, "pagehide", move |_| {
                    if let Some(outbox) = weak.upgrade().and_then(|i| i.outbox.borrow().clone()) {
                        outbox.release();
                    }
                })
            };
            listeners.push(on_online);
            listeners.push(on_pagehide);
            if let Some(document) = window.document() {
                let on_visible = EventListener::new(&document, "visibilitychange", move |_| {
                    let visible = web_sys::window()
                        .and_then(|w| w.document())
                        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
                    if let Some(inner) = weak.upgrade().filter(|_| visible) {
                        inner.catch_up_all();
                    }
                });
                listeners.push(on_visible);
            }
        }
        *self.session_tasks.borrow_mut() = Some((lease, listeners));
    }

    /// Logged out (or switching user): stops everything and forgets the state, without
    /// touching the stored outbox.
    fn stop(&self) {
        self.epoch.set(self.epoch.get() + 1);
        // First, so that clearing the state below does not empty the stored outbox.
        self.outbox.borrow_mut().take();
        self.session_tasks.borrow_mut().take();
        self.resends.borrow_mut().clear();
        self.catching_up.borrow_mut().clear();
        // Dropping the connection closes the socket; the callback it held goes too.
        self.connection.borrow_mut().take();
        self.token.borrow_mut().take();
        self.dispatch(Action::Reset);
    }
}

/// The messaging context: the state (through `Deref`) and the intents.
#[derive(Clone)]
pub struct MessagingHandle {
    state: UseReducerHandle<MessagingState>,
    revision: u64,
    inner: Rc<Inner>,
}

impl PartialEq for MessagingHandle {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision && Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Deref for MessagingHandle {
    type Target = MessagingState;

    fn deref(&self) -> &MessagingState {
        &self.state
    }
}

impl MessagingHandle {
    /// Sends `body` to a conversation. It is stored in the outbox and shows as "sending" at
    /// once, then goes out. Returns its client id, or `None` for a blank body.
    pub fn send(&self, conversation_id: ConversationId, body: &str) -> Option<ClientMsgId> {
        let body = body.trim();
        if body.is_empty() {
            return None;
        }
        let client_id = ClientMsgId(uuid::Uuid::new_v4());
        // The dispatch writes the outbox before anything leaves.
        self.inner.dispatch(Action::Queued(PendingMessage {
            client_id,
            conversation_id,
            body: body.to_owned(),
            created_at: crate::time::now(),
            status: MessageStatus::Sending,
            order: 0,
        }));
        self.inner.transmit(client_id);
        Some(client_id)
    }

    /// Sends a failed message again, with the same client id.
    pub fn retry(&self, client_id: ClientMsgId) {
        self.inner
            .resends
            .borrow_mut()
            .retain(|(id, _)| *id != client_id);
        self.inner.dispatch(Action::Retrying(client_id));
        self.inner.transmit(client_id);
    }

    /// Throws a failed message away.
    pub fn discard(&self, client_id: ClientMsgId) {
        self.inner.dispatch(Action::Discard(client_id));
    }

    /// Records that the user has seen a conversation up to `seq` (no-op if already).
    pub fn mark_read(&self, conversation_id: ConversationId, seq: Seq) {
        let already = self.inner.read(|s| {
            s.conversations
                .get(&conversation_id)
                .is_none_or(|c| c.my_read_seq >= seq)
        });
        if already {
            return;
        }
        self.inner
            .dispatch(Action::ReadLocally(conversation_id, seq));
        if self.inner.online() {
            self.inner.send_frame(ClientFrame::MarkRead {
                conversation_id,
                seq,
            });
        } else {
            self.inner.spawn(
                async move |api| rest::mark_read(&api, conversation_id, seq).await,
                |_, _| {},
            );
        }
    }

    /// Loads the latest page of a conversation unless it is loaded or loading.
    pub fn load_latest(&self, conversation_id: ConversationId) {
        let state = self.inner.read(|s| {
            s.threads
                .get(&conversation_id)
                .map(|t| t.latest.clone())
                .unwrap_or_default()
        });
        if matches!(state, LoadState::Idle | LoadState::Failed(_)) {
            self.inner
                .load_page(conversation_id, Direction::Latest, Seq(0));
        }
    }

    /// Loads the page before the first loaded message, if there is one and it is not already
    /// on its way.
    pub fn load_older(&self, conversation_id: ConversationId) {
        let first = self.inner.read(|s| {
            s.threads.get(&conversation_id).and_then(|t| {
                (t.has_more && t.older != LoadState::Loading)
                    .then(|| t.first_seq())
                    .flatten()
            })
        });
        if let Some(first) = first {
            self.inner
                .load_page(conversation_id, Direction::Older, first);
        }
    }

    /// The open conversation with `user`, started if there is none.
    pub async fn open_with(&self, user: UserId) -> Result<ConversationId, Error> {
        let existing = self.inner.read(|s| {
            s.conversation_with(user)
                .filter(|c| c.status == ConversationStatus::Open)
                .map(|c| c.id)
        });
        if let Some(id) = existing {
            return Ok(id);
        }
        let api = self.inner.api.borrow().clone();
        let summary = rest::start_conversation(&api, user).await?;
        let id = summary.id;
        self.inner.dispatch(Action::Upsert(summary));
        Ok(id)
    }

    /// Reloads the conversation list.
    pub fn refresh(&self) {
        self.inner.refresh();
    }
}

/// Props of [`MessagingProvider`].
#[derive(Properties, PartialEq)]
pub struct MessagingProviderProps {
    /// The transport; the browser WebSocket to the configured URL when absent. Tests pass an
    /// in-memory one to feed server frames and observe client frames.
    #[prop_or_default]
    pub connector: Option<ConnectorRef>,
    /// This tab's id for the outbox; by default kept in sessionStorage (see
    /// [`outbox::tab_id`]). Tests give two providers in one page different ids: two tabs.
    #[prop_or_default]
    pub tab_id: Option<AttrValue>,
    /// The app.
    #[prop_or_default]
    pub children: Html,
}

/// Owns the messaging state and the socket: connects once someone is logged in, disconnects
/// at logout, re-authenticates the socket when the session renews its token. Needs the
/// config and session contexts.
#[component]
pub fn MessagingProvider(props: &MessagingProviderProps) -> Html {
    let config = use_config();
    let session = use_session();
    let state = use_reducer(MessagingState::default);
    let inner = use_memo((), |_| Inner {
        state: RefCell::new(None),
        api: RefCell::new(Api::default()),
        connector: RefCell::new(None),
        connection: RefCell::new(None),
        token: RefCell::new(None),
        epoch: Cell::new(0),
        outbox: RefCell::new(None),
        saved_rev: Cell::new(0),
        resends: RefCell::new(Vec::new()),
        catching_up: RefCell::new(Vec::new()),
        session_tasks: RefCell::new(None),
    });
    // Fresh handles each render: a long-lived one would keep every past state alive.
    *inner.state.borrow_mut() = Some(state.clone());
    *inner.api.borrow_mut() = session.api();

    let connector = {
        let injected = props.connector.clone();
        use_memo((injected, config.ws_url.clone()), |(injected, url)| {
            injected
                .clone()
                .unwrap_or_else(|| ConnectorRef(Rc::new(WsConnector::new(url.clone()))))
        })
    };
    // One login, whatever its token renewals: those re-authenticate the same socket.
    let login = session.login_id().zip(session.user().map(|u| u.id));
    let token = session.token().map(str::to_owned);
    {
        let inner = Rc::clone(&inner);
        let token = token.clone();
        let tab = props.tab_id.clone();
        use_effect_with((login, (*connector).clone()), move |(login, connector)| {
            inner.stop();
            if let (Some((_, me)), Some(token)) = (*login, token) {
                inner.dispatch(Action::Identify(me));
                let tab = tab.map_or_else(outbox::tab_id, |t| t.to_string());
                *inner.outbox.borrow_mut() = Some(Outbox::new(me, tab));
                *inner.connector.borrow_mut() = Some(connector.clone());
                *inner.token.borrow_mut() = Some(token);
                inner.start_session_tasks();
                inner.reconnect();
                inner.adopt_outbox();
                inner.refresh();
            }
            move || inner.stop()
        });
    }
    {
        let inner = Rc::clone(&inner);
        use_effect_with(token, move |token| {
            let changed = token.is_some() && *inner.token.borrow() != *token;
            if changed && inner.connection.borrow().is_some() {
                *inner.token.borrow_mut() = token.clone();
                if let Some(token) = token.clone() {
                    inner.send_frame(ClientFrame::Auth { token });
                }
            }
        });
    }
    {
        let inner = Rc::clone(&inner);
        use_effect_with(state.ready_count, move |count| {
            if *count > 0 {
                inner.resync();
            }
        });
    }
    {
        let inner = Rc::clone(&inner);
        use_effect_with(state.refresh_requests, move |count| {
            if *count > 0 {
                inner.refresh();
            }
        });
    }

    let context = MessagingHandle {
        revision: state.revision,
        state,
        inner: Rc::clone(&inner),
    };
    html! {
        <ContextProvider<MessagingHandle> {context}>{ props.children.clone() }</ContextProvider<MessagingHandle>>
    }
}

/// The app-wide messaging handle.
#[hook]
pub fn use_messaging() -> MessagingHandle {
    use_context::<MessagingHandle>().expect("MessagingProvider is above every messaging component")
}

#[cfg(test)]
mod tests;
