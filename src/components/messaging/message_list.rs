//! The messages of one conversation, windowed: however long the conversation, at most
//! [`WINDOW`] messages are in the DOM. Reaching either end of the window moves it by [`STEP`];
//! reaching the first loaded message loads the page before it (and a page is prefetched as
//! the reader nears it). Whatever is added or removed above the message at the top of the
//! view, that message stays exactly where it was on screen: nothing jumps.
//!
//! The scrollbar spans the window, not the whole conversation, as in the chat clients that
//! window their timelines (Element, for one): a 10,000-message conversation costs the page
//! the same as a 100-message one.

use super::attachment_view::message_files;
use crate::components::error_view::error_view;
use crate::hooks::SecureMessagingHandle;
use crate::hooks::use_messaging::{LoadState, MessageStatus, Step, TimelineItem, step};
use crate::i18n::{I18n, Key, use_i18n};
use colloque_protocol::{MessageKind, Seq};
use std::ops::Range;
use std::rc::Rc;
use web_sys::Element;
use yew::prelude::*;

/// The most messages in the DOM at once: several screens of them, even on a tall screen.
pub const WINDOW: usize = 90;
/// How far the window moves when the reader reaches one of its ends.
pub const STEP: usize = 40;
/// "Reaching an end": this close to the top or the bottom of the window.
const EDGE_PX: i32 = 160;
/// Within this distance of the bottom, new messages keep the view pinned to the bottom.
const STICK_TO_BOTTOM_PX: i32 = 96;

/// Which part of the timeline is in the DOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    /// The last [`WINDOW`] items: where a conversation opens, and where new messages appear.
    #[default]
    Latest,
    /// [`WINDOW`] items from the message numbered so (or the first after it).
    From(Seq),
}

impl Window {
    /// The items to render. Confirmed messages come first, in sequence order, then pending
    /// ones (which have no sequence number yet).
    pub fn range(self, items: &[TimelineItem]) -> Range<usize> {
        let len = items.len();
        let latest = len.saturating_sub(WINDOW)..len;
        match self {
            Window::Latest => latest,
            Window::From(seq) => {
                let start = items.partition_point(|i| i.seq.is_some_and(|s| s < seq));
                if start + WINDOW >= len {
                    latest
                } else {
                    start..start + WINDOW
                }
            }
        }
    }

    /// The window [`STEP`] items earlier.
    pub fn up(self, items: &[TimelineItem]) -> Window {
        Self::starting_at(items, self.range(items).start.saturating_sub(STEP))
    }

    /// The window [`STEP`] items later.
    pub fn down(self, items: &[TimelineItem]) -> Window {
        Self::starting_at(items, self.range(items).start + STEP)
    }

    fn starting_at(items: &[TimelineItem], start: usize) -> Window {
        match items.get(start) {
            Some(item) if start + WINDOW < items.len() => {
                item.seq.map_or(Window::Latest, Window::From)
            }
            _ => Window::Latest,
        }
    }
}

/// Props of [`MessageList`].
#[derive(Properties, PartialEq)]
pub struct MessageListProps {
    /// The conversation.
    pub conv: SecureMessagingHandle,
    /// The other participant's name, for the list's label.
    pub name: String,
}

/// What the list remembers between scroll events and renders (no re-render needed).
#[derive(Default)]
struct ScrollMemo {
    /// The list was scrolled to its bottom once, when its first messages came.
    placed: bool,
    /// Distance from the bottom, at the last scroll or render.
    from_bottom: i32,
    /// The first message in view and its offset from the list's top edge.
    anchor: Option<(String, f64)>,
    /// The last item, to tell a new one.
    last: Option<String>,
    /// Scroll to the bottom at the next render (the reader just wrote, or asked for it).
    to_bottom: bool,
    /// The reader reached the first loaded message: move up as soon as older ones arrive.
    want_older: bool,
}

/// The messages of one conversation (windowed, see the module's documentation).
#[component]
pub fn MessageList(props: &MessageListProps) -> Html {
    let i18n = use_i18n();
    let conv = &props.conv;
    let list_ref = use_node_ref();
    let memo = use_mut_ref(ScrollMemo::default);
    let window = use_state_eq(Window::default);
    // Whether the reader is away from the latest messages (shows "go to the latest").
    let away = use_state_eq(|| false);
    let items = Rc::clone(&conv.items);
    let range = window.range(&items);

    {
        let list_ref = list_ref.clone();
        let memo = Rc::clone(&memo);
        let window = window.clone();
        let items = Rc::clone(&items);
        let range = range.clone();
        let older = conv.older.clone();
        use_effect(move || {
            let Some(el) = list_ref.cast::<Element>() else {
                return;
            };
            let mut memo = memo.borrow_mut();
            let last = items.last().map(|i| (i.dom_id.clone(), i.seq.is_none()));
            if last.as_ref().map(|l| &l.0) != memo.last.as_ref() {
                // Something new at the end; the reader's own message brings them down to it.
                if memo.placed && last.as_ref().is_some_and(|l| l.1) {
                    memo.to_bottom = true;
                }
                memo.last = last.map(|l| l.0);
            }
            if memo.to_bottom && *window != Window::Latest {
                // Rendered again at once, where the bottom is the latest message.
                window.set(Window::Latest);
                return;
            }
            if memo.want_older && range.start > 0 {
                // The older page the reader reached for has come: the window moves up onto
                // it at once. The anchor is kept for that render, which puts it back in place
                // (here, at the very top, it could not be: the view cannot scroll above 0).
                memo.want_older = false;
                window.set(window.up(&items));
                return;
            }
            if memo.want_older && older != LoadState::Loading {
                // The page came and fitted in the window (or failed): nothing to move onto, and
                // a later message must not pull the window up.
                memo.want_older = false;
            }
            let pinned = *window == Window::Latest
                && (memo.to_bottom || memo.from_bottom < STICK_TO_BOTTOM_PX);
            if (!memo.placed || pinned) && !items.is_empty() {
                el.set_scroll_top(el.scroll_height());
                memo.placed = true;
                memo.to_bottom = false;
            } else if let Some((id, offset)) = &memo.anchor
                && let Some(now) = offset_of(&el, id)
            {
                let moved = now - offset;
                if moved.abs() >= 0.5 {
                    el.set_scroll_top(el.scroll_top() + moved.round() as i32);
                }
            }
            memo.from_bottom = from_bottom(&el);
            memo.anchor = first_in_view(&el);
        });
    }

    let onscroll = {
        let conv = conv.clone();
        let memo = Rc::clone(&memo);
        let list_ref = list_ref.clone();
        let window = window.clone();
        let away = away.clone();
        let items = Rc::clone(&items);
        let range = range.clone();
        Callback::from(move |_: Event| {
            let Some(el) = list_ref.cast::<Element>() else {
                return;
            };
            let mut memo = memo.borrow_mut();
            memo.from_bottom = from_bottom(&el);
            memo.anchor = first_in_view(&el);
            let top = el.scroll_top();
            let can_load = conv.has_more && conv.older != LoadState::Loading;
            if top < EDGE_PX {
                if range.start > 0 {
                    window.set(window.up(&items));
                } else if conv.has_more {
                    memo.want_older = true;
                    if can_load {
                        conv.load_older();
                    }
                }
            } else if memo.from_bottom < EDGE_PX && range.end < items.len() {
                window.set(window.down(&items));
            }
            // Heading up, near the first loaded messages: the page before them is fetched
            // while the reader is still reading, not once they hit the top.
            if top < el.client_height() * 2
                && range.start < STEP
                && can_load
                && !matches!(conv.older, LoadState::Failed(_))
            {
                conv.load_older();
            }
            away.set(*window != Window::Latest || memo.from_bottom > el.client_height());
        })
    };
    let load_older = {
        let conv = conv.clone();
        Callback::from(move |_: MouseEvent| conv.load_older())
    };
    let jump_to_latest = {
        let memo = Rc::clone(&memo);
        let window = window.clone();
        let away = away.clone();
        let list_ref = list_ref.clone();
        Callback::from(move |_: MouseEvent| {
            memo.borrow_mut().to_bottom = true;
            if *window == Window::Latest
                && let Some(el) = list_ref.cast::<Element>()
            {
                el.set_scroll_top(el.scroll_height());
            }
            window.set(Window::Latest);
            away.set(false);
        })
    };
    let at_first = range.start == 0;

    html! {
        <div class="message-window">
            <ol class="message-list" data-testid="message-list" ref={list_ref} {onscroll} tabindex="0"
                data-window-start={range.start.to_string()} data-loaded={items.len().to_string()}
                aria-label={i18n.tf(Key::MessagesLabel, &[&props.name])}>
                if at_first && conv.has_more {
                    <li class="load-older">
                        <button type="button" class="secondary" data-testid="load-older"
                            disabled={conv.older == LoadState::Loading} onclick={load_older}>
                            { if conv.older == LoadState::Loading { i18n.t(Key::Loading) } else { i18n.t(Key::LoadOlder) } }
                        </button>
                    </li>
                }
                if let LoadState::Failed(error) = &conv.older {
                    <li>{ error_view(&i18n, error, None) }</li>
                }
                if items.is_empty() {
                    <li class="muted">{ i18n.t(Key::NoMessagesYet) }</li>
                }
                { for items[range].iter().map(|item| message_view(&i18n, conv, item)) }
            </ol>
            if *away {
                <button type="button" class="secondary jump-to-latest" data-testid="jump-to-latest"
                    onclick={jump_to_latest}>{ i18n.t(Key::JumpToLatest) }</button>
            }
        </div>
    }
}

fn from_bottom(el: &Element) -> i32 {
    el.scroll_height() - el.client_height() - el.scroll_top()
}

/// The rendered messages, in order.
fn rendered(el: &Element) -> Vec<Element> {
    let children = el.children();
    (0..children.length())
        .filter_map(|i| children.item(i))
        .filter(|child| child.has_attribute("data-message-id"))
        .collect()
}

/// The first message whose bottom is inside the list's box, and its offset from the top.
fn first_in_view(el: &Element) -> Option<(String, f64)> {
    let top = el.get_bounding_client_rect().top();
    let messages = rendered(el);
    let at = messages.partition_point(|m| m.get_bounding_client_rect().bottom() <= top + 1.0);
    let message = messages.get(at)?;
    Some((
        message.get_attribute("data-message-id")?,
        message.get_bounding_client_rect().top() - top,
    ))
}

/// Where the message with this id is now, from the list's top edge.
fn offset_of(el: &Element, id: &str) -> Option<f64> {
    let message = rendered(el)
        .into_iter()
        .find(|m| m.get_attribute("data-message-id").as_deref() == Some(id))?;
    Some(message.get_bounding_client_rect().top() - el.get_bounding_client_rect().top())
}

/// A stored message's step, as the conversation's cursors and triage state say.
fn step_of(conv: &SecureMessagingHandle, item: &TimelineItem) -> Option<Step> {
    Some(step(conv.conversation.as_ref()?, conv.me?, item.seq?))
}

fn message_view(i18n: &I18n, conv: &SecureMessagingHandle, item: &TimelineItem) -> Html {
    if item.kind != MessageKind::Text {
        return system_line(i18n, conv, item);
    }
    let mine = Some(item.sender_id) == conv.me;
    let step = step_of(conv, item).filter(|_| mine && item.status == MessageStatus::Sent);
    let status_text = match (item.status, step) {
        (MessageStatus::Sending, _) => i18n.t(Key::StatusSending).to_owned(),
        (MessageStatus::Failed(code), _) => i18n.tf(Key::StatusFailed, &[i18n.error(code)]),
        (_, Some(Step::Done)) => i18n.t(Key::StatusDone).to_owned(),
        (_, Some(Step::Read(Some(at)))) => i18n.tf(
            Key::StatusSeenAt,
            &[&crate::time::message_stamp(at, i18n.lang)],
        ),
        (_, Some(Step::Read(None))) => i18n.t(Key::StatusSeen).to_owned(),
        (_, Some(Step::Received)) => i18n.t(Key::StatusReceived).to_owned(),
        (MessageStatus::Sent, _) => i18n.t(Key::StatusSent).to_owned(),
    };
    let who = if mine {
        i18n.t(Key::You).to_owned()
    } else {
        String::new()
    };
    let failed = matches!(item.status, MessageStatus::Failed(_));
    let class = classes!(
        "message",
        mine.then_some("mine"),
        failed.then_some("failed")
    );
    // Still waiting for its file (the wrong photo, say): it can be called back, its text
    // returning to the composer. Once it waits for nothing it is on its way, and stays.
    let cancellable = mine && item.status == MessageStatus::Sending && !item.awaiting.is_empty();
    let cancel = cancellable.then(|| {
        let cancel = {
            let conv = conv.clone();
            let id = item.client_id;
            Callback::from(move |_: MouseEvent| {
                conv.cancel_waiting(id);
            })
        };
        html! {
            <div class="message-actions">
                <button type="button" class="secondary" data-testid="message-cancel" onclick={cancel}>{ i18n.t(Key::CancelSending) }</button>
            </div>
        }
    });
    let actions = failed.then(|| {
        let retry = {
            let conv = conv.clone();
            let id = item.client_id;
            Callback::from(move |_: MouseEvent| conv.retry(id))
        };
        let discard = {
            let conv = conv.clone();
            let id = item.client_id;
            Callback::from(move |_: MouseEvent| conv.discard(id))
        };
        html! {
            <div class="message-actions">
                <button type="button" class="secondary" data-testid="message-retry" onclick={retry}>{ i18n.t(Key::RetrySend) }</button>
                <button type="button" class="secondary" data-testid="message-discard" onclick={discard}>{ i18n.t(Key::Discard) }</button>
            </div>
        }
    });
    html! {
        <li key={item.dom_id.clone()} {class} data-testid="message" data-message-id={item.dom_id.clone()}
            data-seq={item.seq.map(|s| s.0.to_string())} data-status={item.status.as_str()}>
            <p class="message-body" data-testid="message-body">{ item.body.clone() }</p>
            if !item.attachments.is_empty() || !item.awaiting.is_empty() {
                { message_files(i18n, &item.attachments, &item.awaiting) }
            }
            <p class="message-meta">
                if mine { { who }{ " · " } }
                <time>{ crate::time::message_stamp(item.sent_at, i18n.lang) }</time>
                if mine {
                    { " · " }
                    <span class={classes!(failed.then_some("failed-reason"))} data-testid="message-step"
                        data-step={step.map(Step::as_str)}>{ status_text }</span>
                }
            </p>
            { for actions }
            { for cancel }
        </li>
    }
}

/// A line the server wrote in the thread (issue 12): "Échange clos par le Dr … : <reason>",
/// its reopening, or the automatic reply during an absence. Centred, not a bubble: nobody typed it. The reason is plain text.
fn system_line(i18n: &I18n, conv: &SecureMessagingHandle, item: &TimelineItem) -> Html {
    let doctor = conv
        .conversation
        .as_ref()
        .map(|c| c.doctor.display_name.clone())
        .unwrap_or_default();
    // "clos par le Dr Martin": French wants the article before the title.
    let doctor = if i18n.lang == crate::i18n::Lang::Fr && doctor.starts_with("Dr ") {
        format!("le {doctor}")
    } else {
        doctor
    };
    let for_patient = conv
        .conversation
        .as_ref()
        .is_some_and(|c| Some(c.patient.id) == conv.me);
    let text = match item.kind {
        MessageKind::Closed => {
            let mut text = i18n.tf(Key::ClosedLine, &[&doctor, item.body.trim_end_matches('.')]);
            text.push('.');
            if for_patient {
                text.push(' ');
                text.push_str(i18n.t(Key::ClosedLineNext));
            }
            text
        }
        // The server's words (French, the practice's language), labelled as automatic.
        MessageKind::AutoReply => i18n.tf(Key::AutoReplyLine, &[&item.body]),
        _ => i18n.tf(Key::ReopenedLine, &[&doctor]),
    };
    html! {
        <li key={item.dom_id.clone()} class="system-line" data-testid="system-line"
            data-kind={item.kind.as_str()} data-message-id={item.dom_id.clone()}
            data-seq={item.seq.map(|s| s.0.to_string())}>
            // The note is the line's text: a list item keeps its role (axe's "list" rule: an
            // `ol` holds list items only).
            <p role="note">{ text }</p>
            <p class="message-meta"><time>{ crate::time::message_stamp(item.sent_at, i18n.lang) }</time></p>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colloque_protocol::{ClientMsgId, Timestamp, UserId};

    fn items(confirmed: i64, pending: usize) -> Vec<TimelineItem> {
        let item = |seq: Option<Seq>, n: u128| TimelineItem {
            dom_id: n.to_string(),
            client_id: ClientMsgId(uuid::Uuid::from_u128(n)),
            seq,
            sender_id: UserId(1),
            body: String::new(),
            sent_at: Timestamp(0),
            status: MessageStatus::Sent,
            kind: MessageKind::Text,
            attachments: Vec::new(),
            awaiting: Vec::new(),
        };
        let mut items: Vec<_> = (1..=confirmed)
            .map(|s| item(Some(Seq(s)), s as u128))
            .collect();
        items.extend((0..pending).map(|n| item(None, 1_000_000 + n as u128)));
        items
    }

    #[test]
    fn a_conversation_opens_on_its_latest_messages_and_renders_no_more_than_the_window() {
        assert_eq!(Window::Latest.range(&items(10, 0)), 0..10);
        assert_eq!(Window::Latest.range(&items(10_000, 0)), 9_910..10_000);
        assert_eq!(Window::Latest.range(&items(10_000, 2)), 9_912..10_002);
        assert_eq!(Window::Latest.range(&[]), 0..0);
    }

    #[test]
    fn the_window_moves_up_and_down_by_a_step_and_comes_back_to_the_latest() {
        let list = items(1_000, 1);
        let up = Window::Latest.up(&list);
        assert_eq!(up, Window::From(Seq(872)));
        assert_eq!(up.range(&list), 871..961);
        let mut window = up;
        for _ in 0..30 {
            window = window.up(&list);
        }
        assert_eq!(window, Window::From(Seq(1)), "stops at the first message");
        assert_eq!(window.range(&list), 0..WINDOW);
        assert_eq!(window.down(&list).range(&list), STEP..STEP + WINDOW);
        for _ in 0..30 {
            window = window.down(&list);
        }
        assert_eq!(window, Window::Latest, "ends on the latest messages");
    }

    #[test]
    fn a_window_keeps_its_messages_when_older_ones_are_loaded_above_it() {
        let window = Window::From(Seq(500));
        let before = items(1_000, 0);
        let range = window.range(&before);
        assert_eq!(before[range.start].seq, Some(Seq(500)));
        // Same window over a list that grew at the front (older history) and at the end.
        let mut after = items(1_200, 3);
        after.drain(..100);
        let range = window.range(&after);
        assert_eq!(after[range.start].seq, Some(Seq(500)));
        assert_eq!(range.len(), WINDOW);
    }

    #[test]
    fn a_window_that_reaches_the_end_is_the_latest() {
        let list = items(100, 0);
        assert_eq!(Window::From(Seq(50)).range(&list), 10..100);
        assert_eq!(Window::From(Seq(5)).range(&list), 4..94);
        assert_eq!(Window::From(Seq(5)).down(&list), Window::Latest);
        // A message gone from the list (a reload): the window starts at the next one.
        let mut gaps = items(300, 0);
        gaps.remove(99);
        assert_eq!(
            gaps[Window::From(Seq(100)).range(&gaps).start].seq,
            Some(Seq(101))
        );
    }
}
