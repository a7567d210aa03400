//! A doctor's inbox.

use crate::components::messaging::MedecinMessaging;
use crate::i18n::{Key, use_i18n};
use colloque_protocol::ConversationId;
use yew::prelude::*;

/// Props of [`Inbox`].
#[derive(Properties, PartialEq)]
pub struct InboxProps {
    /// The open conversation.
    #[prop_or_default]
    pub selected: Option<ConversationId>,
}

/// "Messagerie" for a doctor.
#[component]
pub fn Inbox(props: &InboxProps) -> Html {
    let i18n = use_i18n();
    html! {
        <>
            <h1 class="visually-hidden">{ i18n.t(Key::InboxTitle) }</h1>
            <MedecinMessaging selected={props.selected} />
        </>
    }
}
