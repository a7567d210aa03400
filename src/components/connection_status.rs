//! The live connection's state, in words and colour. On a phone, "online" is only the green
//! dot (its words stay for screen readers); "connecting" and "offline" keep their words, on a
//! row of their own.

use crate::hooks::use_messaging;
use crate::i18n::{Key, use_i18n};
use crate::services::websocket::ConnectionState;
use yew::prelude::*;

/// "Connecté" / "Connexion…" / "Hors ligne…", as a status region.
#[component]
pub fn ConnectionStatus() -> Html {
    let i18n = use_i18n();
    let messaging = use_messaging();
    let state = messaging.connection;
    let text = match state {
        ConnectionState::Online => Key::ConnOnline,
        ConnectionState::Connecting => Key::ConnConnecting,
        ConnectionState::Offline => Key::ConnOffline,
    };
    html! {
        <span class="connection" role="status" aria-label={i18n.t(Key::ConnLabel)}
            data-testid="connection-status" data-state={state.as_str()}>
            <span class="connection-text">{ i18n.t(text) }</span>
        </span>
    }
}
