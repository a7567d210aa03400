//! The live connection's state, in words and colour. On a phone, "online" is only the green
//! dot (its words stay for screen readers); "connecting" and "offline" keep their words, on a
//! row of their own.

use crate::hooks::MessagingHandle;
use crate::i18n::{I18n, Key};
use crate::services::websocket::ConnectionState;
use yew::prelude::*;

/// "Connecté" / "Connexion…" / "Hors ligne…", as a status region. A plain function called by
/// the layout, which already follows the messaging state: a component of its own would cost
/// the bundle more. A tab paused because the account has too many open says so calmly, with
/// a button to take the connection back here.
pub fn connection_status(i18n: &I18n, messaging: &MessagingHandle) -> Html {
    let state = messaging.connection;
    let text = match state {
        ConnectionState::Online => Key::ConnOnline,
        ConnectionState::Connecting => Key::ConnConnecting,
        ConnectionState::Offline => Key::ConnOffline,
        ConnectionState::Paused => Key::ConnPaused,
    };
    let resume = (state == ConnectionState::Paused).then(|| {
        let messaging = messaging.clone();
        let onclick = Callback::from(move |_: MouseEvent| messaging.resume());
        html! {
            <button type="button" class="connection-resume" data-testid="resume-here" {onclick}>
                { i18n.t(Key::ConnResume) }
            </button>
        }
    });
    html! {
        <span class="connection" role="status" aria-label={i18n.t(Key::ConnLabel)}
            data-testid="connection-status" data-state={state.as_str()}>
            <span class="connection-text">{ i18n.t(text) }</span>
            { resume }
        </span>
    }
}
