//! One conversation, on top of [`use_messaging`]: its messages (confirmed and pending,
//! merged), sending, older history, and marking as read what the user actually sees.

use super::use_messaging::{
    Files, LoadState, MessagingHandle, Thread, TimelineItem, use_messaging,
};
use colloque_protocol::{
    ClientMsgId, ConversationId, ConversationSummary, Seq, TemplateId, UserId,
};
use std::rc::Rc;
use yew::prelude::*;

/// The view of one conversation, with its intents.
#[derive(Clone, PartialEq)]
pub struct SecureMessagingHandle {
    /// The conversation's id.
    pub id: ConversationId,
    /// Its summary, once the list is known.
    pub conversation: Option<ConversationSummary>,
    /// Its messages as displayed: built again only when the thread or the pending messages
    /// change, and compared by pointer (a long conversation holds thousands).
    pub items: Rc<Vec<TimelineItem>>,
    /// The latest page's state.
    pub latest: LoadState,
    /// The conversation list's state (needed to tell "unknown" from "not loaded yet").
    pub list: LoadState,
    /// Older history is available.
    pub has_more: bool,
    /// Older history's state.
    pub older: LoadState,
    /// The viewer.
    pub me: Option<UserId>,
    /// The other participant is writing (the typing indicator).
    pub writing: bool,
    messaging: MessagingHandle,
}

impl SecureMessagingHandle {
    /// Sends a message (`urgent`: past the red-flag screen; `template_id`: the reply template
    /// a doctor's text came from); false when the body is blank.
    pub fn send(&self, body: &str, urgent: bool, template_id: Option<TemplateId>) -> bool {
        self.messaging
            .send(self.id, body, urgent, template_id)
            .is_some()
    }

    /// The user is writing: the other participant sees it (throttled; see `use_messaging`).
    pub fn typing(&self) {
        self.messaging.typing(self.id);
    }

    /// Sends a message with files (see [`MessagingHandle::send_with_files`]); its client id,
    /// or `None` when the body is blank.
    pub fn send_with_files(
        &self,
        body: &str,
        urgent: bool,
        template_id: Option<TemplateId>,
        files: Files,
    ) -> Option<ClientMsgId> {
        self.messaging
            .send_with_files(self.id, body, urgent, template_id, files)
    }

    /// The app-wide messaging handle (an upload ending after Send reports to it).
    pub fn messaging(&self) -> &MessagingHandle {
        &self.messaging
    }

    /// Files of this conversation that must be picked again.
    pub fn lost_files(&self) -> Vec<String> {
        self.messaging
            .lost_files
            .iter()
            .filter(|(c, _)| *c == self.id)
            .map(|(_, n)| n.clone())
            .collect()
    }

    /// Loads the previous page of history.
    pub fn load_older(&self) {
        self.messaging.load_older(self.id);
    }

    /// Loads the latest page again (after an error).
    pub fn reload(&self) {
        self.messaging.load_latest(self.id);
        if matches!(self.list, LoadState::Failed(_)) {
            self.messaging.refresh();
        }
    }

    /// Sends a failed message again.
    pub fn retry(&self, client_id: ClientMsgId) {
        self.messaging.retry(client_id);
    }

    /// Throws a failed message away.
    pub fn discard(&self, client_id: ClientMsgId) {
        self.messaging.discard(client_id);
    }

    /// Cancels a message still waiting for its file (see [`MessagingHandle::cancel_waiting`]).
    pub fn cancel_waiting(&self, client_id: ClientMsgId) -> bool {
        self.messaging.cancel_waiting(client_id)
    }

    /// The text of this conversation's cancelled message, for the composer to take back.
    pub fn returned(&self) -> Option<String> {
        self.messaging
            .returned
            .iter()
            .find(|(c, _)| *c == self.id)
            .map(|(_, text)| text.clone())
    }

    /// The text left unsent in this conversation's composer when it last went away, and the
    /// reply template it came from.
    pub fn draft(&self) -> (String, Option<TemplateId>) {
        self.messaging.draft(self.id)
    }

    /// Keeps the composer's unsent text (and its template) for when it comes back.
    pub fn keep_draft(&self, text: &str, template: Option<TemplateId>) {
        self.messaging.keep_draft(self.id, text, template);
    }

    /// The composer took the returned text back.
    pub fn take_returned(&self) {
        self.messaging.take_returned(self.id);
    }

    /// The highest stored sequence number displayed.
    pub fn last_seq(&self) -> Option<Seq> {
        self.items.iter().filter_map(|i| i.seq).max()
    }

    /// Marks the conversation read up to the last displayed message, if the user can see it
    /// (the tab is visible).
    pub fn mark_seen(&self) {
        if let Some(seq) = self.last_seq()
            && page_is_seen()
        {
            self.messaging.mark_read(self.id, seq);
        }
    }
}

/// A thread compared by identity: a changed thread is a new `Rc` (the reducer copies on write).
struct SameThread(Rc<Thread>);

impl PartialEq for SameThread {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

fn page_is_seen() -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    // Visibility, not focus: a patient reading in a visible window without focus (a second
    // screen, a headless browser) has still seen the message.
    document.visibility_state() == web_sys::VisibilityState::Visible
}

/// One conversation: loads its latest page and marks it read when seen.
#[hook]
pub fn use_secure_messaging(id: ConversationId) -> SecureMessagingHandle {
    let messaging = use_messaging();
    let thread = messaging.threads.get(&id).cloned().unwrap_or_default();
    let items = {
        let messaging = messaging.clone();
        let key = (
            id,
            SameThread(Rc::clone(&thread)),
            messaging.pending_rev,
            messaging.me,
        );
        use_memo(key, move |_| messaging.timeline(id))
    };
    let handle = SecureMessagingHandle {
        id,
        conversation: messaging.conversations.get(&id).cloned(),
        items: Rc::clone(&items),
        latest: thread.latest.clone(),
        list: messaging.list.clone(),
        has_more: thread.has_more,
        older: thread.older.clone(),
        me: messaging.me,
        writing: messaging.writing_in(id).is_some(),
        messaging: messaging.clone(),
    };
    {
        let messaging = messaging.clone();
        use_effect_with((id, messaging.me), move |(id, me)| {
            if me.is_some() {
                messaging.load_latest(*id);
            }
        });
    }
    {
        // Back online (every `Ready`): what failed to load while offline is loaded again,
        // without the user having to press "retry".
        let handle = handle.clone();
        use_effect_with((id, messaging.ready_count), move |_| {
            if matches!(handle.latest, LoadState::Failed(_))
                || matches!(handle.list, LoadState::Failed(_))
            {
                handle.reload();
            }
        });
    }
    {
        let handle = handle.clone();
        use_effect_with((id, handle.last_seq()), move |_| handle.mark_seen());
    }
    {
        // Coming back to the tab counts as seeing what arrived meanwhile.
        let handle = handle.clone();
        use_effect_with((id, handle.last_seq()), move |_| {
            let window = web_sys::window();
            let listeners = window.map(|window| {
                let on_focus = {
                    let handle = handle.clone();
                    gloo_events::EventListener::new(&window, "focus", move |_| handle.mark_seen())
                };
                let on_visible = window.document().map(|document| {
                    gloo_events::EventListener::new(&document, "visibilitychange", move |_| {
                        handle.mark_seen()
                    })
                });
                (on_focus, on_visible)
            });
            move || drop(listeners)
        });
    }
    handle
}
