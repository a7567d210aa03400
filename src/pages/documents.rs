//! "Mes documents": every file sent in the user's conversations. One page for both roles.

use crate::components::documents::DocumentList;
use crate::i18n::{Key, use_i18n};
use yew::prelude::*;

/// The user's documents, across all their conversations.
#[component]
pub fn Documents() -> Html {
    let i18n = use_i18n();
    html! {
        <>
            <h1>{ i18n.t(Key::MyDocuments) }</h1>
            <DocumentList />
        </>
    }
}
