//! The button that opens messaging, with an unread badge. Either the inbox (total unread), or
//! the conversation with one doctor/patient (that conversation's unread), started on the
//! first click if it does not exist yet.

use crate::app::{conversation_route, inbox_route};
use crate::components::error_view::error_text;
use crate::hooks::use_messaging;
use crate::i18n::{Key, use_i18n};
use crate::session::use_session;
use colloque_protocol::UserId;
use yew::prelude::*;
use yew_router::prelude::*;

/// Props of [`MessagingButton`].
#[derive(Properties, PartialEq)]
pub struct MessagingButtonProps {
    /// `None`: the inbox. `Some(user)`: the conversation with that user.
    #[prop_or_default]
    pub with_user: Option<UserId>,
    /// The visible label ("Messagerie", "Écrire au Dr Martin").
    pub label: AttrValue,
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
    let busy = use_state(|| false);
    let error = use_state(|| None);

    let unread = match props.with_user {
        None => messaging.total_unread(),
        Some(user) => messaging
            .conversation_with(user)
            .map_or(0, |c| c.unread_count),
    };
    let Some(role) = session.role() else {
        return Html::default();
    };

    let onclick = {
        let with_user = props.with_user;
        let messaging = messaging.clone();
        let busy = busy.clone();
        let error = error.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(navigator) = navigator.clone() else {
                return;
            };
            let Some(user) = with_user else {
                navigator.push(&inbox_route(role));
                return;
            };
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let messaging = messaging.clone();
            let busy = busy.clone();
            let error = error.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match messaging.open_with(user).await {
                    Ok(id) => navigator.push(&conversation_route(role, id)),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };

    let unread_text = unread.to_string();
    let aria_label = if unread > 0 {
        format!(
            "{} ({})",
            props.label,
            i18n.tf(Key::UnreadAria, &[&unread_text])
        )
    } else {
        props.label.to_string()
    };
    let class = classes!("messaging-button", props.secondary.then_some("secondary"));
    html! {
        <span class="messaging-button-wrap">
            <button type="button" {class} data-testid="messaging-button" aria-label={aria_label}
                aria-busy={busy.then_some("true")} {onclick}>
                <span aria-hidden="true">{ if *busy { AttrValue::from(i18n.t(Key::Opening)) } else { props.label.clone() } }</span>
                if unread > 0 {
                    <span class="badge" data-testid="unread-badge" aria-hidden="true">{ unread_text }</span>
                }
            </button>
            if let Some(e) = &*error {
                <span class="muted" role="alert">{ error_text(&i18n, e) }</span>
            }
        </span>
    }
}
