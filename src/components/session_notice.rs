//! Why the previous session ended, in plain words, on the login page.

use crate::i18n::{Key, use_i18n};
use crate::session::{EndReason, use_session};
use yew::prelude::*;

/// Nothing unless a session has just ended.
#[component]
pub fn SessionNotice() -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let Some(reason) = session.ended() else {
        return html! {};
    };
    let key = match reason {
        EndReason::LoggedOut => Key::SessionEndedLoggedOut,
        EndReason::Idle => Key::SessionEndedIdle,
        EndReason::Expired => Key::SessionEndedExpired,
    };
    html! {
        <p class="notice" role="status" data-testid="session-ended" data-reason={format!("{reason:?}")}>
            { i18n.t(key) }
        </p>
    }
}
