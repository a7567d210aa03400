//! App-wide messaging: one reducer-backed state, one WebSocket per tab, shared by every
//! component through [`MessagingProvider`] and [`use_messaging`]. Doctors and patients use the
//! very same code: the server's answers are role-aware.
//!
//! State changes only through [`Action`]s ([`MessagingState::reduce`] is pure and unit-tested);
//! network work lives in the provider's effects and in [`MessagingHandle`]'s intent methods.

use crate::config::use_config;
use crate::services::messaging_api as rest;
use crate::services::websocket::{
    Connection, ConnectionState, ConnectorRef, SocketEvent, WsConnector,
};
use crate::services::{Api, Error};
use crate::session::{SessionHandle, use_session};
use colloque_protocol::{
    ClientFrame, ClientMsgId, ConversationId, ConversationStatus, ConversationSummary, ErrorCode,
    Message, MessagePage, MessagePreview, ReadCursor, Seq, ServerFrame, Timestamp, UserId,
    UserProfile,
};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::rc::Rc;
use yew::prelude::*;

/// How long to wait before resending after a transient refusal (rate limit, server hiccup).
const TRANSIENT_RETRY_MS: u32 = 2_000;
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

/// The loaded part of one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Thread {
    /// Confirmed messages by sequence number: ordered, and a message can be there only once.
    pub messages: BTreeMap<Seq, Message>,
    /// The latest page.
    pub latest: LoadState,
    /// Older history exists before the first loaded message.
    pub has_more: bool,
    /// Older history is on its way (or failed).
    pub older: LoadState,
}

impl Thread {
    /// The highest loaded sequence number.
    pub fn last_seq(&self) -> Option<Seq> {
        self.messages.keys().next_back().copied()
    }

    /// The lowest loaded sequence number.
    pub fn first_seq(&self) -> Option<Seq> {
        self.messages.keys().next().copied()
    }
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
    pub conversations: HashMap<ConversationId, ConversationSummary>,
    /// The conversation list's loading state.
    pub list: LoadState,
    /// Loaded messages per conversation.
    pub threads: HashMap<ConversationId, Rc<Thread>>,
    /// Messages written here and not yet stored, by client id.
    pub pending: BTreeMap<ClientMsgId, PendingMessage>,
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
                pending.order = self.next_order;
                self.next_order += 1;
                self.pending.insert(pending.client_id, pending);
            }
            Action::Acked(client_id, message) => {
                self.pending.remove(&client_id);
                self.absorb_message(message, false);
            }
            Action::SendFailed(client_id, code) => {
                if let Some(p) = self.pending.get_mut(&client_id) {
                    p.status = MessageStatus::Failed(code);
                }
            }
            Action::Retrying(client_id) => {
                if let Some(p) = self.pending.get_mut(&client_id) {
                    p.status = MessageStatus::Sending;
                }
            }
            Action::Discard(client_id) => {
                self.pending.remove(&client_id);
            }
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
        Rc::make_mut(self.threads.entry(id).or_default())
    }

    fn absorb_page(&mut self, id: ConversationId, direction: Direction, page: MessagePage) {
        for message in &page.messages {
            // A message we were still waiting an ack for is now confirmed.
            self.pending.remove(&message.client_id);
        }
        let thread = self.thread_mut(id);
        let was_loaded = thread.latest == LoadState::Loaded;
        for message in page.messages {
            thread.messages.insert(message.seq, message);
        }
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
        self.pending.remove(&message.client_id);
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
        thread.messages.insert(message.seq, message);
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
                    .range(Seq(seq.0 + 1)..)
                    .filter(|(_, m)| Some(m.sender_id) != self.me)
                    .count() as u32
            })
        });
        c.unread_count = exact.unwrap_or(c.unread_count).min(remaining);
    }

    /// Conversations, most recent activity first.
    pub fn sorted_conversations(&self) -> Vec<&ConversationSummary> {
        let mut list: Vec<_> = self.conversations.values().collect();
        list.sort_by(|a, b| {
            b.last_activity_at
                .cmp(&a.last_activity_at)
                .then(b.id.cmp(&a.id))
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
                t.messages
                    .values()
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
        pending.sort_by_key(|p| p.order);
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

/// The provider's side-effecting half, shared (behind an `Rc`) by the handle and the effects.
struct Inner {
    state: RefCell<Option<UseReducerHandle<MessagingState>>>,
    api: RefCell<Api>,
    session: RefCell<Option<SessionHandle>>,
    connection: RefCell<Option<Box<dyn Connection>>>,
    /// Bumped at each login/logout so that late answers for a previous session are dropped.
    epoch: Cell<u64>,
}

impl Inner {
    fn dispatch(&self, action: Action) {
        if let Some(state) = self.state.borrow().as_ref() {
            state.dispatch(action);
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
                ServerFrame::Message { message } => self.dispatch(Action::Incoming(message)),
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
                        self.retry_later(client_id);
                    }
                }
                ServerFrame::Error {
                    error,
                    client_id: None,
                } => {
                    if error.code == ErrorCode::Unauthorized {
                        let session = self.session.borrow().clone();
                        if let Some(session) = session {
                            session.expire();
                        }
                    }
                }
            },
        }
    }

    fn retry_later(self: &Rc<Self>, client_id: ClientMsgId) {
        let inner = Rc::clone(self);
        let epoch = self.epoch.get();
        wasm_bindgen_futures::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(TRANSIENT_RETRY_MS).await;
            if inner.epoch.get() == epoch {
                inner.transmit(client_id);
            }
        });
    }

    /// Sends a pending message: over the socket when online, else over REST. Both are
    /// idempotent on the client id, so a resend after a lost ack stores it once.
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
            return;
        }
        self.spawn(
            async move |api| {
                rest::send_message_to_conversation(&api, p.conversation_id, client_id, &p.body)
                    .await
            },
            move |inner, result| match result {
                Ok(message) => inner.dispatch(Action::Acked(client_id, message)),
                Err(e) => {
                    if let Some(code) = e.code().filter(|c| c.is_permanent()) {
                        inner.dispatch(Action::SendFailed(client_id, code));
                    }
                    // Otherwise it stays "sending" and goes again when the socket is back.
                }
            },
        );
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
                    let more_newer = direction == Direction::Newer && page.has_more;
                    let last = page.messages.last().map(|m| m.seq);
                    inner.dispatch(Action::PageLoaded(id, direction, page));
                    if let (true, Some(last)) = (more_newer, last) {
                        inner.load_page(id, Direction::Newer, last);
                    }
                }
                Err(e) => inner.dispatch(Action::PageFailed(id, direction, e)),
            },
        );
    }

    /// After (re)connecting: resend what is still pending, catch up on loaded threads, and
    /// reload the list (unread counts may have moved while we were away).
    fn resync(self: &Rc<Self>) {
        let (pending, threads) = self.read(|s| {
            let pending: Vec<ClientMsgId> = s
                .pending
                .values()
                .filter(|p| p.status == MessageStatus::Sending)
                .map(|p| p.client_id)
                .collect();
            let threads: Vec<(ConversationId, Seq)> = s
                .threads
                .iter()
                .filter(|(_, t)| t.latest == LoadState::Loaded)
                .filter_map(|(id, t)| t.last_seq().map(|seq| (*id, seq)))
                .collect();
            (pending, threads)
        });
        for client_id in pending {
            self.transmit(client_id);
        }
        for (id, seq) in threads {
            self.load_page(id, Direction::Newer, seq);
        }
        self.refresh();
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
    /// Sends `body` to a conversation. It shows as "sending" at once. Returns its client id,
    /// or `None` for a blank body.
    pub fn send(&self, conversation_id: ConversationId, body: &str) -> Option<ClientMsgId> {
        let body = body.trim();
        if body.is_empty() {
            return None;
        }
        let client_id = ClientMsgId(uuid::Uuid::new_v4());
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
    /// The app.
    #[prop_or_default]
    pub children: Html,
}

/// Owns the messaging state and the socket: connects once someone is logged in, disconnects
/// at logout. Needs the config and session contexts.
#[component]
pub fn MessagingProvider(props: &MessagingProviderProps) -> Html {
    let config = use_config();
    let session = use_session();
    let state = use_reducer(MessagingState::default);
    let inner = use_memo((), |_| Inner {
        state: RefCell::new(None),
        api: RefCell::new(Api::default()),
        session: RefCell::new(None),
        connection: RefCell::new(None),
        epoch: Cell::new(0),
    });
    // Fresh handles each render: a long-lived one would keep every past state alive.
    *inner.state.borrow_mut() = Some(state.clone());
    *inner.api.borrow_mut() = session.api();
    *inner.session.borrow_mut() = Some(session.clone());

    let connector = {
        let injected = props.connector.clone();
        use_memo((injected, config.ws_url.clone()), |(injected, url)| {
            injected
                .clone()
                .unwrap_or_else(|| ConnectorRef(Rc::new(WsConnector::new(url.clone()))))
        })
    };
    let login = session.session().map(|s| (s.token.clone(), s.user.id));
    {
        let inner = Rc::clone(&inner);
        use_effect_with((login, (*connector).clone()), move |(login, connector)| {
            inner.epoch.set(inner.epoch.get() + 1);
            inner.dispatch(Action::Reset);
            if let Some((token, me)) = login.clone() {
                inner.dispatch(Action::Identify(me));
                let events = {
                    let inner = Rc::clone(&inner);
                    Callback::from(move |event| inner.on_event(event))
                };
                let connection = connector.0.connect(token, events);
                *inner.connection.borrow_mut() = Some(connection);
                inner.refresh();
            }
            move || {
                // Dropping the connection closes the socket; the callback it held goes too.
                inner.connection.borrow_mut().take();
                inner.epoch.set(inner.epoch.get() + 1);
                inner.dispatch(Action::Reset);
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
