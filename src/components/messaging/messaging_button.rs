//! The button that opens messaging, with an unread badge. Either the inbox (total unread), or
//! the conversation with one doctor/patient (that conversation's unread). When there is no open
//! conversation with them yet, pressing it starts a request in steps (issue 12): a patient
//! first learns whether the doctor takes new requests (and what to do instead if not), then
//! everyone chooses the request's topic.

use super::topic_picker::request_flow;
use crate::hooks::{RequestStep, use_messaging, use_new_request};
use crate::i18n::{Key, use_i18n};
use crate::route::{conversation_route, inbox_route};
use crate::router::use_navigator;
use crate::session::use_session;
use colloque_protocol::{ConversationId, UserId};
use yew::prelude::*;

/// Props of [`MessagingButton`].
#[derive(Properties, PartialEq)]
pub struct MessagingButtonProps {
    /// `None`: the inbox. `Some(user)`: the conversation with that user.
    #[prop_or_default]
    pub with_user: Option<UserId>,
    /// The visible label ("Messagerie", "Écrire au Dr Martin").
    pub label: AttrValue,
    /// The other person's name, for what is said when they take no new request.
    #[prop_or_default]
    pub name: AttrValue,
    /// Outlined rather than filled.
    #[prop_or_default]
    pub secondary: bool,
}

/// A button with an unread badge that opens the inbox or one conversation.
#[component]
pub fn MessagingButton(props: &MessagingButtonProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let messaging = use_messaging();
    let navigator = use_navigator();
    let role = session.role();
    let on_open = {
        let navigator = navigator.clone();
        Callback::from(move |id: ConversationId| {
            if let (Some(navigator), Some(role)) = (&navigator, role) {
                navigator.push(&conversation_route(role, id));
            }
        })
    };
    // The inbox button has nobody to start a request with: user 0 is never asked.
    let request = use_new_request(props.with_user.unwrap_or(UserId(0)), on_open);

    let unread = match props.with_user {
        None => messaging.total_unread(),
        Some(user) => messaging
            .conversation_with(user)
            .map_or(0, |c| c.unread_count),
    };
    let Some(role) = role else {
        return Html::default();
    };

    let onclick = {
        let with_user = props.with_user;
        let request = request.clone();
        Callback::from(move |_: MouseEvent| match with_user {
            None => {
                if let Some(navigator) = &navigator {
                    navigator.push(&inbox_route(role));
                }
            }
            Some(_) if request.step == RequestStep::Checking => {}
            Some(_) => request.begin(),
        })
    };

    let busy = matches!(request.step, RequestStep::Checking | RequestStep::Starting);
    let unread_text = unread.to_string();
    let class = classes!("messaging-button", props.secondary.then_some("secondary"));
    let expanded = matches!(request.step, RequestStep::Choosing | RequestStep::Starting);
    html! {
        <span class="messaging-button-wrap">
            // Its name is its visible text, "Messagerie 3", with the words a screen reader needs
            // after the count: "Messagerie 3 messages non lus" (WCAG 2.5.3, label in name).
            <button type="button" {class} data-testid="messaging-button"
                aria-busy={busy.then_some("true")}
                aria-expanded={props.with_user.map(|_| if expanded { "true" } else { "false" })}
                {onclick}>
                <span>{ if busy { AttrValue::from(i18n.t(Key::Opening)) } else { props.label.clone() } }</span>
                if unread > 0 {
                    <span class="badge" data-testid="unread-badge">{ unread_text }</span>
                    <span class="visually-hidden">{ " " }{ i18n.unread_words(unread) }</span>
                }
            </button>
            { request_flow(&i18n, &request, &props.name) }
        </span>
    }
}
