//! A patient's conversations: the shared, role-aware inbox component.

use crate::components::emergency_note::emergency_note;
use crate::components::messaging::MedecinMessaging;
use crate::i18n::{Key, use_i18n};
use colloque_protocol::ConversationId;
use yew::prelude::*;

/// Props of [`Messages`].
#[derive(Properties, PartialEq)]
pub struct MessagesProps {
    /// The open conversation.
    #[prop_or_default]
    pub selected: Option<ConversationId>,
}

/// "Messagerie" for a patient.
#[component]
pub fn Messages(props: &MessagesProps) -> Html {
    let i18n = use_i18n();
    html! {
        <>
            <h1 class="visually-hidden">{ i18n.t(Key::InboxTitle) }</h1>
            { emergency_note(&i18n) }
            <MedecinMessaging selected={props.selected} />
        </>
    }
}
