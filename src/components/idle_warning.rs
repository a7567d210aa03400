//! The automatic logoff: the guard that runs the inactivity timer while someone is logged
//! in, and the warning dialog shown shortly before the end (which also says when messages not
//! yet sent would be wiped with the session). The dialog's focus and keyboard handling are
//! [`AlertDialog`]'s.

use crate::components::alert_dialog::AlertDialog;
use crate::components::layout::unsent_question;
use crate::config::use_config;
use crate::hooks::use_inactivity::{IdlePhase, IdlePolicy, use_inactivity};
use crate::hooks::use_messaging;
use crate::i18n::{I18n, Key, use_i18n};
use crate::session::use_session;
use yew::prelude::*;

/// Watches for inactivity; render it only while logged in. Logs off when the time is up.
#[component]
pub fn IdleGuard() -> Html {
    let config = use_config();
    let session = use_session();
    let i18n = use_i18n();
    let messaging = use_messaging();
    let policy = IdlePolicy {
        timeout_ms: config.idle_timeout_ms,
        warning_ms: config.idle_warning_ms,
    };
    let on_activity = {
        let session = session.clone();
        Callback::from(move |()| session.note_activity())
    };
    let on_expired = {
        let session = session.clone();
        Callback::from(move |()| session.logout_idle())
    };
    let idle = use_inactivity(policy, on_activity, on_expired);
    match idle.phase {
        IdlePhase::Warning { seconds_left } => {
            // The logoff wipes this device, unsent messages included: say so while there is
            // time.
            let unsent = unsent_question(&i18n, &session, &messaging, false);
            let on_leave = Callback::from(move |()| session.logout());
            idle_warning(&i18n, unsent, seconds_left, idle.stay, on_leave)
        }
        IdlePhase::Active | IdlePhase::Expired => html! {},
    }
}

/// The warning shown before the automatic logoff: a countdown, and what would be wiped.
fn idle_warning(
    i18n: &I18n,
    unsent: Option<String>,
    seconds_left: u32,
    on_stay: Callback<()>,
    on_leave: Callback<()>,
) -> Html {
    let seconds = seconds_left.to_string();
    html! {
        <AlertDialog id="idle-warning" title={i18n.t(Key::IdleTitle)}
            safe={i18n.t(Key::StaySignedIn)} safe_id="idle-stay" on_safe={on_stay}
            risky={i18n.t(Key::Logout)} risky_id="idle-logout" on_risky={on_leave}>
            <p>{ i18n.tf(Key::IdleText, &[&seconds]) }</p>
            if let Some(unsent) = unsent {
                <p class="dialog-note" data-testid="idle-unsent">{ unsent }</p>
            }
        </AlertDialog>
    }
}
