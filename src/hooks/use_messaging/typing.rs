//! The typing indicator (docs/protocol.md, "typing"): who is writing where, shown for
//! [`TYPING_SHOWN_MS`] after their latest `typing` frame or until their next message; and
//! ours, sent at most once per [`TYPING_INTERVAL_MS`] while the socket is up (never queued:
//! a late "écrit…" would be a false one).

use super::inner::Inner;
use super::{Action, MessagingState};
use colloque_protocol::{ClientFrame, ConversationId, TYPING_INTERVAL_MS, TYPING_SHOWN_MS, UserId};
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Someone writing in a conversation; `mark` tells this showing from a later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writing {
    /// Who.
    pub user: UserId,
    mark: u64,
}

impl MessagingState {
    /// Who is writing in `conversation` (never the user themself).
    pub fn writing_in(&self, conversation: ConversationId) -> Option<UserId> {
        self.writing.get(&conversation).map(|writing| writing.user)
    }

    pub(super) fn start_writing(&mut self, conversation: ConversationId, user: UserId, mark: u64) {
        if Some(user) != self.me {
            self.writing.insert(conversation, Writing { user, mark });
        }
    }

    /// The showing `mark` is over, unless a later frame replaced it.
    pub(super) fn stop_writing(&mut self, conversation: ConversationId, mark: u64) {
        if self.writing_mark(conversation) == Some(mark) {
            self.writing.remove(&conversation);
        }
    }

    /// A message of `sender` arrived in `conversation`: they are done writing it.
    pub(super) fn wrote(&mut self, conversation: ConversationId, sender: UserId) {
        if self.writing_in(conversation) == Some(sender) {
            self.writing.remove(&conversation);
        }
    }

    fn writing_mark(&self, conversation: ConversationId) -> Option<u64> {
        self.writing.get(&conversation).map(|writing| writing.mark)
    }
}

/// The provider's typing glue.
#[derive(Default)]
pub(super) struct TypingGlue {
    /// Numbers each showing.
    marks: Cell<u64>,
    /// One timer per conversation shown (a few at most).
    timers: RefCell<Vec<(ConversationId, Timeout)>>,
    /// Our latest `typing` frame: where and when (ms since the epoch).
    sent: Cell<Option<(ConversationId, f64)>>,
}

impl Inner {
    /// The server says `user` writes in `conversation`.
    pub(super) fn on_typing(self: &Rc<Self>, conversation: ConversationId, user: UserId) {
        let glue = &self.typing;
        let mark = glue.marks.get() + 1;
        glue.marks.set(mark);
        self.dispatch(Action::Writing(conversation, user, mark));
        let inner = Rc::downgrade(self);
        let epoch = self.epoch.get();
        let timer = Timeout::new(TYPING_SHOWN_MS.unsigned_abs() as u32, move || {
            if let Some(inner) = inner.upgrade()
                && inner.epoch.get() == epoch
            {
                inner.dispatch(Action::WritingOver(conversation, mark));
            }
        });
        let mut timers = glue.timers.borrow_mut();
        timers.retain(|(id, _)| *id != conversation);
        timers.push((conversation, timer));
    }

    /// The user writes in `conversation`: tell the other participant, at most once an
    /// interval, if the socket is up.
    pub(super) fn typing(&self, conversation: ConversationId) {
        let now = js_sys::Date::now();
        let glue = &self.typing;
        if let Some((last, at)) = glue.sent.get()
            && last == conversation
            && now - at < TYPING_INTERVAL_MS as f64
        {
            return;
        }
        if !self.online() {
            return;
        }
        glue.sent.set(Some((conversation, now)));
        self.send_frame(ClientFrame::Typing {
            conversation_id: conversation,
        });
    }

    /// Logged out: no timer outlives the session.
    pub(super) fn forget_typing(&self) {
        self.typing.timers.borrow_mut().clear();
        self.typing.sent.set(None);
    }
}
