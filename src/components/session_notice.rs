//! Why the previous session ended, in plain words, on the login page.

use crate::i18n::{I18n, Key};
use crate::session::{EndReason, SessionHandle};
use yew::prelude::*;

/// Nothing unless a session has just ended. A plain function: the login page already follows
/// the session and the language, and a component costs the bundle more than this line.
pub fn session_notice(i18n: &I18n, session: &SessionHandle) -> Html {
    let Some(reason) = session.ended() else {
        return html! {};
    };
    let (key, name) = match reason {
        EndReason::LoggedOut => (Key::SessionEndedLoggedOut, "LoggedOut"),
        EndReason::Idle => (Key::SessionEndedIdle, "Idle"),
        EndReason::Expired => (Key::SessionEndedExpired, "Expired"),
    };
    html! {
        <p class="notice" role="status" data-testid="session-ended" data-reason={name}>
            { i18n.t(key) }
        </p>
    }
}
