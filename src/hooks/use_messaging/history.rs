//! The conversation list and the conversations' history, fetched over REST: pages, the gaps
//! a push can leave, the catch-ups after a reconnection or a return to the tab, and the retries
//! of those that failed (after a backoff, if the socket is up by then).

use super::inner::Inner;
use super::{Action, Direction, LoadState};
use crate::services::messaging_api as rest;
use crate::services::websocket::backoff_delay_ms;
use colloque_protocol::{ConversationId, ErrorCode, Seq};
use gloo_timers::callback::Timeout;
use std::rc::Rc;

impl Inner {
    /// Loads the conversation list; a failure that may pass is tried again after a backoff.
    pub(super) fn refresh(self: &Rc<Self>) {
        self.dispatch(Action::ListLoading);
        self.spawn(
            async |api| rest::get_medecin_conversations(&api).await,
            |inner, result| match result {
                Ok(list) => {
                    inner.list_retry.borrow_mut().take();
                    inner.dispatch(Action::ListLoaded(list));
                }
                Err(e) => {
                    if !e.is_permanent() {
                        inner.refresh_later();
                    }
                    inner.dispatch(Action::ListFailed(e));
                }
            },
        );
    }

    pub(super) fn load_page(self: &Rc<Self>, id: ConversationId, direction: Direction, from: Seq) {
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
    pub(super) fn fill_gap(self: &Rc<Self>, id: ConversationId) {
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
    pub(super) fn catch_up(self: &Rc<Self>, id: ConversationId) {
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
                        inner
                            .catch_up_retries
                            .borrow_mut()
                            .retain(|(c, ..)| *c != id);
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
                    // Refused for good (the conversation is not ours any more): nothing to
                    // retry. Offline: the next reconnection asks again.
                    Err(e) if e.is_permanent() => {}
                    Err(_) => inner.catch_up_later(id),
                }
            },
        );
    }

    /// Loads the list again after its backoff, if the socket is up by then.
    fn refresh_later(self: &Rc<Self>) {
        let attempt = self.list_retry.borrow().as_ref().map_or(0, |(a, _)| *a);
        let timer = self.online_after_backoff(attempt, |inner| inner.refresh());
        *self.list_retry.borrow_mut() = Some((attempt.saturating_add(1), timer));
    }

    /// Tries a failed catch-up again after its backoff, if the socket is up by then (else the
    /// next `Ready` catches up anyway).
    fn catch_up_later(self: &Rc<Self>, id: ConversationId) {
        let mut retries = self.catch_up_retries.borrow_mut();
        let attempt = retries
            .iter()
            .find(|(c, ..)| *c == id)
            .map_or(0, |(_, attempt, _)| *attempt);
        retries.retain(|(c, ..)| *c != id);
        let timer = self.online_after_backoff(attempt, move |inner| inner.catch_up(id));
        retries.push((id, attempt.saturating_add(1), timer));
    }

    /// A timer that runs `retry` after the backoff of failed attempt `attempt`, if the same
    /// session is still on and the socket is up by then (dropping it cancels the retry).
    fn online_after_backoff(
        self: &Rc<Self>,
        attempt: u32,
        retry: impl FnOnce(&Rc<Inner>) + 'static,
    ) -> Timeout {
        let delay = backoff_delay_ms(attempt, js_sys::Math::random());
        let inner = Rc::downgrade(self);
        let epoch = self.epoch.get();
        Timeout::new(delay, move || {
            if let Some(inner) = inner.upgrade().filter(|i| i.epoch.get() == epoch)
                && inner.online()
            {
                retry(&inner);
            }
        })
    }

    /// Replaces a conversation's messages by its latest page.
    pub(super) fn reload(self: &Rc<Self>, id: ConversationId) {
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
    pub(super) fn catch_up_all(self: &Rc<Self>) {
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
}
