//! App-wide messaging: one reducer-backed state, one WebSocket per tab, shared by every
//! component through [`MessagingProvider`] and [`use_messaging`]. Doctors and patients use the
//! very same code: the server's answers are role-aware.
//!
//! State changes only through [`Action`]s ([`MessagingState::reduce`] is pure and unit-tested);
//! network work lives in the provider's effects and in [`MessagingHandle`]'s intent methods.
//!
//! Never lose, never duplicate:
//! - every message gets its client id before anything is sent and goes into the persisted,
//!   sealed [`outbox`](super::outbox) until the server acknowledges it; each message has its own resend
//!   timer (exponential backoff, full jitter), so one stuck message holds up no other;
//! - a conversation's messages are kept by sequence number and shown only up to the first gap
//!   ([`Thread::last_seq`]); a gap, a reconnection (`Ready`), the browser's `online` event and
//!   the tab becoming visible again all fetch what is missing with `after=<last seq>`;
//! - a message is recognised by its sequence number and, while pending, its client id, so a
//!   replayed ack, a second tab's push or a catch-up page never shows it twice.

mod history;
mod inner;
mod outbox_sync;
mod receipts;
mod reducer;
mod state;
mod thread;
mod typing;

pub use receipts::{Step, step};
pub use reducer::Action;
pub use state::{
    Direction, LoadState, MessageStatus, MessagingState, PendingMessage, TimelineItem,
};
pub use thread::{Messages, Thread};

use super::outbox::{self, Outbox};
use crate::config::use_config;
use crate::services::Error;
use crate::services::attachments::Canceller;
use crate::services::messaging_api as rest;
use crate::services::websocket::{ConnectorRef, WsConnector};
use crate::session::use_session;
use colloque_protocol::{
    AttachmentMeta, ClientFrame, ClientMsgId, ConversationId, ConversationStatus,
    ConversationSummary, Seq, TemplateId, Topic, UserId,
};
use inner::Inner;
use std::ops::Deref;
use std::rc::Rc;
use yew::prelude::*;

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
    /// Sends `body` to a conversation. It shows as "sending" at once and goes out; it is kept
    /// in the outbox, sealed, until the server has it. Returns its client id, or `None` for a blank body.
    pub fn send(
        &self,
        conversation_id: ConversationId,
        body: &str,
        urgent: bool,
        template_id: Option<TemplateId>,
    ) -> Option<ClientMsgId> {
        self.send_with_files(conversation_id, body, urgent, template_id, Files::default())
    }

    /// [`Self::send`] with files: those uploaded go with it by id; those still uploading
    /// (`files.awaiting`, by name) hold it back until each is settled ([`Self::settle_file`]).
    /// The text is in the outbox at once either way.
    pub fn send_with_files(
        &self,
        conversation_id: ConversationId,
        body: &str,
        urgent: bool,
        template_id: Option<TemplateId>,
        files: Files,
    ) -> Option<ClientMsgId> {
        let body = body.trim();
        if body.is_empty() {
            return None;
        }
        let client_id = ClientMsgId(uuid::Uuid::new_v4());
        // The dispatch starts sealing it into the outbox (WebCrypto answers within
        // milliseconds; the send does not wait for it).
        self.inner.dispatch(Action::Queued(PendingMessage {
            client_id,
            conversation_id,
            body: body.to_owned(),
            urgent,
            template_id,
            created_at: crate::time::now(),
            status: MessageStatus::Sending,
            attachments: files.uploaded,
            awaiting: files.awaiting,
            order: 0,
        }));
        self.inner.transmit(client_id);
        Some(client_id)
    }

    /// A file that a pending message waits for is uploaded (`Some`) or never will be (`None`:
    /// the user is told to pick it again). The message goes once it waits for nothing.
    pub fn settle_file(&self, client_id: ClientMsgId, name: String, meta: Option<AttachmentMeta>) {
        {
            let mut uploads = self.inner.uploads.borrow_mut();
            if let Some(at) = uploads
                .iter()
                .position(|(id, n, _)| *id == client_id && *n == name)
            {
                uploads.remove(at);
            }
        }
        self.inner.forget_sealed(client_id);
        self.inner.dispatch(Action::FileSettled {
            client_id,
            name,
            meta,
        });
        self.inner.transmit(client_id);
        self.inner.release_behind(client_id);
    }

    /// Keeps the cancel of an upload that the sent message `client_id` waits for, so that
    /// cancelling the message ([`Self::cancel_waiting`]) stops it.
    pub fn hold_upload(&self, client_id: ClientMsgId, name: String, cancel: Canceller) {
        self.inner
            .uploads
            .borrow_mut()
            .push((client_id, name, cancel));
    }

    /// Cancels a message that still waits for a file (the wrong photo, say): its uploads
    /// stop, it leaves the outbox and is never sent, its text goes back to the composer, and
    /// the messages written after it, which waited behind it, go. Once it waits for nothing
    /// it is on its way and cannot be called back: `false` then.
    pub fn cancel_waiting(&self, client_id: ClientMsgId) -> bool {
        let waiting = self.inner.read(|s| {
            s.pending
                .get(&client_id)
                .filter(|p| p.status == MessageStatus::Sending && !p.awaiting.is_empty())
                .map(|p| (p.conversation_id, p.order))
        });
        let Some((conversation_id, order)) = waiting else {
            return false;
        };
        let mut cancels = Vec::new();
        self.inner.uploads.borrow_mut().retain(|(id, _, cancel)| {
            let theirs = *id == client_id;
            if theirs {
                cancels.push(cancel.clone());
            }
            !theirs
        });
        self.inner.forget_sealed(client_id);
        self.inner.dispatch(Action::CancelWaiting(client_id));
        // After the message is gone: an upload that ends now settles nothing.
        for cancel in cancels {
            cancel.cancel();
        }
        self.inner.release_after(conversation_id, order);
        true
    }

    /// The text left unsent in `conversation_id`'s composer when it went away, and the reply
    /// template it came from (empty and `None` if nothing was left).
    pub fn draft(&self, conversation_id: ConversationId) -> (String, Option<TemplateId>) {
        self.inner
            .drafts
            .borrow()
            .iter()
            .find(|(c, _, _)| *c == conversation_id)
            .map(|(_, text, template)| (text.clone(), *template))
            .unwrap_or_default()
    }

    /// Keeps the text of `conversation_id`'s composer, as it changes, for when the composer
    /// comes back (blank: nothing kept). Kept in this provider, which lives exactly as long as
    /// one login (`SessionScope`).
    pub fn keep_draft(
        &self,
        conversation_id: ConversationId,
        text: &str,
        template: Option<TemplateId>,
    ) {
        let mut drafts = self.inner.drafts.borrow_mut();
        drafts.retain(|(c, _, _)| *c != conversation_id);
        if !text.trim().is_empty() {
            drafts.push((conversation_id, text.to_owned(), template));
        }
    }

    /// The composer of `conversation_id` took back its cancelled message's text.
    pub fn take_returned(&self, conversation_id: ConversationId) {
        self.inner.dispatch(Action::ReturnedTaken(conversation_id));
    }

    /// The user has read which files of a conversation must be picked again.
    pub fn dismiss_lost_files(&self, conversation_id: ConversationId) {
        self.inner
            .dispatch(Action::DismissLostFiles(conversation_id));
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

    /// The user is writing in a conversation's composer: the other participant sees
    /// "… écrit" (at most one frame per interval; nothing while offline).
    pub fn typing(&self, conversation_id: ConversationId) {
        self.inner.typing(conversation_id);
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
    pub async fn open_with(&self, user: UserId, topic: Topic) -> Result<ConversationId, Error> {
        let existing = self.inner.read(|s| {
            s.conversation_with(user)
                .filter(|c| c.status == ConversationStatus::Open)
                .map(|c| c.id)
        });
        if let Some(id) = existing {
            return Ok(id);
        }
        let api = self.inner.api.borrow().clone();
        let summary = rest::start_conversation(&api, user, topic).await?;
        let id = summary.id;
        self.inner.dispatch(Action::Upsert(Box::new(summary)));
        Ok(id)
    }

    /// Takes a conversation as the server answered it (a triage change, a closing).
    pub fn upsert(&self, summary: ConversationSummary) {
        self.inner.dispatch(Action::Upsert(Box::new(summary)));
    }

    /// Reloads the conversation list.
    pub fn refresh(&self) {
        self.inner.refresh();
    }

    /// The user has read the notice of unsent messages dropped from this device.
    pub fn dismiss_outbox_notice(&self) {
        self.inner.dispatch(Action::DismissOutboxNotice);
    }

    /// Connects this tab again after it was paused (too many tabs): the server then closes
    /// the oldest socket of the account, in another tab, which pauses in turn.
    pub fn resume(&self) {
        self.inner.reconnect();
    }
}

/// The files of a message being sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    /// Uploaded: sent by id.
    pub uploaded: Vec<AttachmentMeta>,
    /// Still uploading, by name: the message waits for them.
    pub awaiting: Vec<String>,
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
    let inner = use_memo((), |_| Inner::new());
    *inner.me.borrow_mut() = Rc::downgrade(&inner);
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
    // One login, whatever its token renewals: those re-authenticate the same socket. A session
    // restricted to MFA enrolment opens none (the server would refuse it) until it has enrolled.
    let login = session
        .login_id()
        .zip(session.user().map(|u| u.id))
        .filter(|_| !session.enrolment_required());
    let token = session.token().map(str::to_owned);
    // On a shared computer nothing is stored: the outbox lives in this tab's memory only.
    let shared = session.session().is_some_and(|s| s.shared);
    let key = session.session().and_then(|s| s.outbox_key.clone());
    {
        let inner = Rc::clone(&inner);
        let token = token.clone();
        let tab = props.tab_id.clone();
        use_effect_with((login, (*connector).clone()), move |(login, connector)| {
            inner.stop();
            if let (Some((_, me)), Some(token)) = (*login, token) {
                inner.dispatch(Action::Identify(me));
                if !shared {
                    let tab = tab.map_or_else(outbox::tab_id, |t| t.to_string());
                    *inner.outbox.borrow_mut() = Some(Outbox::new(me, tab));
                }
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
            // Kept even without a socket (a paused tab), so that a resumption uses it.
            if changed {
                *inner.token.borrow_mut() = token.clone();
                if let (true, Some(token)) = (inner.connection.borrow().is_some(), token.clone()) {
                    inner.send_frame(ClientFrame::Auth { token });
                }
            }
        });
    }
    {
        // After the login's effect (which forgets the previous key): the key, when the session
        // has it, opens the stored outbox.
        let inner = Rc::clone(&inner);
        use_effect_with((login, key.clone()), move |(_, key)| {
            inner.set_outbox_key(key.clone());
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
        // Receipts: how far this device holds each loaded conversation, told over the socket
        // once per position and per socket (a new socket tells again; the server ignores a
        // cursor that does not move).
        let inner = Rc::clone(&inner);
        let told = use_mut_ref(|| (0, Vec::new()));
        use_effect_with(
            (state.held_through(), state.ready_count),
            move |(held, ready)| {
                let mut told = told.borrow_mut();
                if told.0 != *ready {
                    *told = (*ready, Vec::new());
                }
                if !inner.online() {
                    return;
                }
                for &(conversation_id, seq) in held {
                    match told.1.iter_mut().find(|(id, _)| *id == conversation_id) {
                        Some((_, at)) if *at >= seq => continue,
                        Some((_, at)) => *at = seq,
                        None => told.1.push((conversation_id, seq)),
                    }
                    inner.send_frame(ClientFrame::Received {
                        conversation_id,
                        seq,
                    });
                }
            },
        );
    }
    {
        // A reloaded tab has no key: it comes with the session's refresh, asked when there is
        // something to read or to keep (not at every page load: a refresh renews the token,
        // which reloads the page's data) and the server answers (a `Ready`).
        let session = session.clone();
        let needed = state.outbox_waiting > 0 || !state.pending.is_empty();
        let wanted = login.is_some() && key.is_none() && !shared && needed;
        use_effect_with((state.ready_count, wanted), move |(count, wanted)| {
            if *count > 0 && *wanted {
                session.fetch_outbox_key();
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
