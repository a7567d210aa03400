//! The automatic logoff: the guard that runs the inactivity timer while someone is logged
//! in, and the warning dialog shown shortly before the end (which also says when messages not
//! yet sent would be wiped with the session).

use crate::components::layout::unsent_question;
use crate::config::use_config;
use crate::hooks::use_inactivity::{IdlePhase, IdlePolicy, use_inactivity};
use crate::hooks::use_messaging;
use crate::i18n::{Key, use_i18n};
use crate::session::use_session;
use web_sys::HtmlElement;
use yew::prelude::*;

/// Watches for inactivity; render it only while logged in. Logs off when the time is up.
#[component]
pub fn IdleGuard() -> Html {
    let config = use_config();
    let session = use_session();
    let policy = IdlePolicy {
        timeout_ms: config.idle_timeout_ms,
        warning_ms: config.idle_warning_ms,
    };
    let on_activity = {
        let session = session.clone();
        Callback::from(move |()| session.note_activity())
    };
    let on_expired = Callback::from(move |()| session.logout_idle());
    let idle = use_inactivity(policy, on_activity, on_expired);
    match idle.phase {
        IdlePhase::Warning { seconds_left } => html! {
            <IdleWarning {seconds_left} on_stay={idle.stay} />
        },
        IdlePhase::Active | IdlePhase::Expired => html! {},
    }
}

/// Props of [`IdleWarning`].
#[derive(Properties, PartialEq)]
pub struct IdleWarningProps {
    /// Seconds before the logoff.
    pub seconds_left: u32,
    /// "Rester connecté".
    pub on_stay: Callback<()>,
}

/// A modal alert dialog with a countdown. Focus goes to "Rester connecté" (Enter or Space
/// keeps the session; so does Escape); Tab stays inside the dialog.
#[component]
pub fn IdleWarning(props: &IdleWarningProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let messaging = use_messaging();
    let stay_button = use_node_ref();
    {
        let stay_button = stay_button.clone();
        use_effect_with((), move |_| {
            if let Some(button) = stay_button.cast::<HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let stay = {
        let on_stay = props.on_stay.clone();
        Callback::from(move |_: MouseEvent| on_stay.emit(()))
    };
    let leave = {
        let session = session.clone();
        Callback::from(move |_: MouseEvent| session.logout())
    };
    let onkeydown = {
        let on_stay = props.on_stay.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => on_stay.emit(()),
            "Tab" => {
                // Two buttons: Tab and Shift+Tab go from one to the other.
                e.prevent_default();
                let Some(active) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element())
                else {
                    return;
                };
                let Some(dialog) = active.closest("[role='alertdialog']").ok().flatten() else {
                    return;
                };
                let selector =
                    if active.get_attribute("data-testid").as_deref() == Some("idle-stay") {
                        "[data-testid='idle-logout']"
                    } else {
                        "[data-testid='idle-stay']"
                    };
                if let Some(next) = dialog
                    .query_selector(selector)
                    .ok()
                    .flatten()
                    .and_then(|e| wasm_bindgen::JsCast::dyn_into::<HtmlElement>(e).ok())
                {
                    let _ = next.focus();
                }
            }
            _ => {}
        })
    };
    let seconds = props.seconds_left.to_string();
    // The logoff wipes this device, unsent messages included: say so while there is time.
    let unsent = unsent_question(&i18n, &session, &messaging, false);
    html! {
        <div class="idle-backdrop">
            <div class="idle-dialog" role="alertdialog" aria-modal="true"
                aria-labelledby="idle-title" aria-describedby="idle-text"
                data-testid="idle-warning" {onkeydown}>
                <h2 id="idle-title">{ i18n.t(Key::IdleTitle) }</h2>
                <p id="idle-text">{ i18n.tf(Key::IdleText, &[&seconds]) }</p>
                if let Some(unsent) = unsent {
                    <p class="idle-unsent" data-testid="idle-unsent">{ unsent }</p>
                }
                <div class="idle-actions">
                    <button type="button" ref={stay_button} data-testid="idle-stay" onclick={stay}>
                        { i18n.t(Key::IdleStay) }
                    </button>
                    <button type="button" class="secondary" data-testid="idle-logout" onclick={leave}>
                        { i18n.t(Key::Logout) }
                    </button>
                </div>
            </div>
        </div>
    }
}
