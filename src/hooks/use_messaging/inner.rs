//! The provider's side-effecting half: the socket, the REST calls, the resend timers and the
//! outbox, shared (behind an `Rc`) by the handle and the provider's effects. Its methods are
//! spread by job: here the socket and the sending of messages; the list and the history in
//! `history`, the outbox in `outbox_sync`, the typing indicator in `typing`.

use super::outbox_sync::Vault;
use super::{Action, MessageStatus, MessagingState, PendingMessage};
use crate::hooks::outbox::{self, Outbox};
use crate::services::Api;
use crate::services::attachments::Canceller;
use crate::services::messaging_api as rest;
use crate::services::websocket::{
    Connection, ConnectionState, ConnectorRef, SocketEvent, backoff_delay_ms,
};
use colloque_protocol::{
    ClientFrame, ClientMsgId, ConversationId, ErrorCode, ServerFrame, TemplateId,
};
use gloo_events::EventListener;
use gloo_timers::callback::{Interval, Timeout};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use yew::prelude::*;

/// A message sent over a live socket is normally acknowledged within milliseconds; with no
/// answer after this (plus its backoff) it is sent again. A dead socket is usually noticed
/// sooner, by the heartbeat, and everything pending is resent on the next `Ready`.
pub(super) const ACK_TIMEOUT_MS: u32 = 10_000;

/// A pending message's resend schedule.
pub(super) struct Resend {
    /// Failed attempts so far: the backoff's exponent.
    attempt: u32,
    /// Dropping it cancels the resend.
    _timer: Timeout,
}

/// The provider's side-effecting half, shared (behind an `Rc`) by the handle and the effects.
pub(super) struct Inner {
    pub(super) state: RefCell<Option<UseReducerHandle<MessagingState>>>,
    pub(super) api: RefCell<Api>,
    pub(super) connector: RefCell<Option<ConnectorRef>>,
    pub(super) connection: RefCell<Option<Box<dyn Connection>>>,
    /// The token the socket last authenticated with.
    pub(super) token: RefCell<Option<String>>,
    /// Bumped at each login/logout so that late answers for a previous session are dropped.
    pub(super) epoch: Cell<u64>,
    /// The logged-in user's outbox; `None` while logged out (nothing is written then).
    pub(super) outbox: RefCell<Option<Outbox>>,
    /// The `pending_rev` last written to the outbox.
    pub(super) saved_rev: Cell<u64>,
    /// One resend timer per pending message.
    /// (A few entries at most: plain vectors cost less wasm than more hash map types.)
    pub(super) resends: RefCell<Vec<(ClientMsgId, Resend)>>,
    /// Conversations with a catch-up request in flight (`true`: asked again meanwhile).
    pub(super) catching_up: RefCell<Vec<(ConversationId, bool)>>,
    /// Catch-ups that failed for a passing reason (a proxy that lost an instance, a server
    /// restarting) and are tried again while the socket is up: per conversation, the failed
    /// attempts so far (the backoff's exponent) and the timer. Without it, a push that the
    /// server counted as delivered (the socket stood past it) but whose catch-up failed would
    /// stay missing until the next reconnection.
    pub(super) catch_up_retries: RefCell<Vec<(ConversationId, u32, Timeout)>>,
    /// The same for the conversation list (its unread counts and last messages).
    pub(super) list_retry: RefCell<Option<(u32, Timeout)>>,
    /// The outbox lease timer and the browser listeners, for the logged-in session.
    pub(super) session_tasks: RefCell<Option<(Interval, Vec<EventListener>)>>,
    /// The outbox's key and sealed contents (see `outbox_sync`).
    pub(super) vault: RefCell<Vault>,
    /// Itself, for the work that outlives a call (sealing a message).
    pub(super) me: RefCell<Weak<Inner>>,
    /// The typing indicator's timers and throttle.
    pub(super) typing: super::typing::TypingGlue,
    /// The uploads that sent messages still wait for (message, file name, its cancel): a
    /// message cancelled while it waits stops them.
    pub(super) uploads: RefCell<Vec<(ClientMsgId, String, Canceller)>>,
    /// The text being written in each conversation whose composer went away unsent (another
    /// conversation opened, another page): it is there again when the composer comes back.
    /// This tab's memory only: the provider, and with it this, lives as long as one login.
    /// With the reply template the text came from.
    pub(super) drafts: RefCell<Vec<(ConversationId, String, Option<TemplateId>)>>,
}

impl Inner {
    /// Nothing yet: the provider sets the state and the API at each render, and a login
    /// starts the rest.
    pub(super) fn new() -> Self {
        Inner {
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
            catch_up_retries: RefCell::new(Vec::new()),
            list_retry: RefCell::new(None),
            session_tasks: RefCell::new(None),
            vault: RefCell::new(Vault::default()),
            me: RefCell::new(Weak::new()),
            typing: Default::default(),
            uploads: RefCell::new(Vec::new()),
            drafts: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn dispatch(&self, action: Action) {
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

    pub(super) fn read<R>(&self, f: impl FnOnce(&MessagingState) -> R) -> R {
        let state = self.state.borrow();
        let state = state.as_ref().expect("set on the provider's first render");
        f(state)
    }

    pub(super) fn online(&self) -> bool {
        self.connection.borrow().is_some() && self.read(|s| s.connection) == ConnectionState::Online
    }

    pub(super) fn send_frame(&self, frame: ClientFrame) {
        if let Some(connection) = self.connection.borrow().as_ref() {
            connection.send(frame);
        }
    }

    /// Runs a request for the current session and hands its answer to `done`, unless the user
    /// logged out in between.
    pub(super) fn spawn<T: 'static>(
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

    pub(super) fn on_event(self: &Rc<Self>, event: SocketEvent) {
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
                ServerFrame::Delivered { cursor } => self.dispatch(Action::Delivered(cursor)),
                ServerFrame::Conversation { conversation } => {
                    self.dispatch(Action::Upsert(Box::new(conversation)))
                }
                ServerFrame::Typing {
                    conversation_id,
                    user_id,
                } => self.on_typing(conversation_id, user_id),
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
                    // Too many tabs hold a socket: this one was the oldest. It pauses until the
                    // person resumes it here (reconnecting by itself would close another tab's
                    // socket, which would do the same, for ever).
                    ErrorCode::TooManySockets => {
                        self.connection.borrow_mut().take();
                        self.dispatch(Action::Connection(ConnectionState::Paused));
                    }
                    _ => {}
                },
            },
        }
    }

    /// Drops the socket and opens another; its `Ready` resends and catches up.
    pub(super) fn reconnect(self: &Rc<Self>) {
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
    pub(super) fn resend_later(
        self: &Rc<Self>,
        client_id: ClientMsgId,
        wait_ms: u32,
        failed: bool,
    ) {
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
    pub(super) fn transmit(self: &Rc<Self>, client_id: ClientMsgId) {
        let Some(p) = self.read(|s| s.pending.get(&client_id).cloned()) else {
            return;
        };
        // Still waiting for a file: sent once its upload ends (`FileSettled`).
        if p.status != MessageStatus::Sending || !p.awaiting.is_empty() {
            return;
        }
        // A conversation's messages are stored in the order written: one written after a
        // message still waiting for its file waits too, and goes right after it
        // ([`Self::release_behind`]); the timer is a fallback.
        let behind_a_file = self.read(|s| {
            s.sending_in(p.conversation_id)
                .any(|q| q.order < p.order && !q.awaiting.is_empty())
        });
        if behind_a_file {
            self.resend_later(client_id, ACK_TIMEOUT_MS, false);
            return;
        }
        let attachment_ids: Vec<_> = p.attachments.iter().map(|a| a.id).collect();
        if self.online() {
            self.send_frame(ClientFrame::Send {
                conversation_id: p.conversation_id,
                client_id,
                body: p.body,
                urgent: p.urgent,
                attachment_ids,
                template_id: p.template_id,
            });
            self.resend_later(client_id, ACK_TIMEOUT_MS, false);
            return;
        }
        // REST requests race each other, so without the socket a conversation's messages go
        // one at a time, oldest first: this one waits for the earlier one to be stored (or to
        // fail for good), which then sends it at once.
        let conversation_id = p.conversation_id;
        let earlier_waiting =
            self.read(|s| s.sending_in(conversation_id).any(|q| q.order < p.order));
        if earlier_waiting {
            self.resend_later(client_id, ACK_TIMEOUT_MS, false);
            return;
        }
        self.spawn(
            async move |api| {
                rest::send_message_to_conversation(
                    &api,
                    p.conversation_id,
                    client_id,
                    &p.body,
                    p.urgent,
                    attachment_ids,
                    p.template_id,
                )
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

    /// A message's last file has settled and it has gone: the messages written after it in its
    /// conversation, which waited behind it, go now, in order (each checks again whether it
    /// must still wait, behind another file).
    pub(super) fn release_behind(self: &Rc<Self>, client_id: ClientMsgId) {
        let settled = self.read(|s| {
            s.pending
                .get(&client_id)
                .filter(|p| p.awaiting.is_empty())
                .map(|p| (p.conversation_id, p.order))
        });
        if let Some((conversation_id, order)) = settled {
            self.release_after(conversation_id, order);
        }
    }

    /// Sends, in order, the messages of a conversation written after `order` that wait for
    /// no file of their own (each checks again whether it must still wait).
    pub(super) fn release_after(self: &Rc<Self>, conversation_id: ConversationId, order: u64) {
        let behind = self.read(|s| {
            let mut behind: Vec<&PendingMessage> = s
                .sending_in(conversation_id)
                .filter(|q| q.order > order && q.awaiting.is_empty())
                .collect();
            crate::small_sort::sort_by_key(&mut behind, |q| q.order);
            behind.into_iter().map(|q| q.client_id).collect::<Vec<_>>()
        });
        for later in behind {
            self.transmit(later);
        }
    }

    /// Sends the oldest message of a conversation still waiting, if any.
    pub(super) fn transmit_next(self: &Rc<Self>, conversation_id: ConversationId) {
        let next = self.read(|s| {
            s.sending_in(conversation_id)
                .min_by_key(|p| p.order)
                .map(|p| p.client_id)
        });
        if let Some(client_id) = next {
            self.transmit(client_id);
        }
    }

    /// After (re)connecting: resend what is still pending, then catch up.
    pub(super) fn resync(self: &Rc<Self>) {
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
    pub(super) fn start_session_tasks(self: &Rc<Self>) {
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
    pub(super) fn stop(&self) {
        self.epoch.set(self.epoch.get() + 1);
        // First, so that clearing the state below does not empty the stored outbox.
        self.outbox.borrow_mut().take();
        self.session_tasks.borrow_mut().take();
        self.resends.borrow_mut().clear();
        self.catching_up.borrow_mut().clear();
        self.catch_up_retries.borrow_mut().clear();
        self.list_retry.borrow_mut().take();
        self.uploads.borrow_mut().clear();
        self.drafts.borrow_mut().clear();
        self.forget_typing();
        // Dropping the connection closes the socket; the callback it held goes too.
        self.connection.borrow_mut().take();
        self.token.borrow_mut().take();
        *self.vault.borrow_mut() = Vault::default();
        self.dispatch(Action::Reset);
    }
}
