//! The account's security page, the same component for patients and doctors: the devices
//! signed in to the account, each of which can be signed out from here (a lost phone, a
//! shared computer), how the user is told of a new message (e-mail, quiet hours, this
//! browser), the password change, which signs out every other device, and (doctors)
//! two-step verification. A doctor whom the deployment requires to enrol sees only that.

use crate::components::error_view::{error_view, fetch_view};
use crate::hooks::use_fetch;
use crate::i18n::{I18n, Key, use_i18n};
use crate::services::{Error, auth};
use crate::session::use_session;
use colloque_protocol::{Role, SessionHandle, SessionInfo};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// "Sécurité du compte".
#[component]
pub fn Security() -> Html {
    let i18n = use_i18n();
    let session = use_session();
    if session.enrolment_required() {
        return html! {
            <>
                <h1>{ i18n.t(Key::SecurityTitle) }</h1>
                { mfa_settings() }
            </>
        };
    }
    html! { <Settings /> }
}

/// Two-step verification, a doctor's (this page is in the second build only, with the rest of
/// the account page: src/second_build.rs).
fn mfa_settings() -> Html {
    html! { <crate::components::mfa_settings::MfaSettings /> }
}

/// The whole page, for a session that may go everywhere.
#[component]
fn Settings() -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let devices = use_fetch(async |api| auth::sessions(&api).await);
    let current = use_node_ref();
    let new = use_node_ref();
    let pending = use_state(|| false);
    // The password change's outcome, once there is one.
    let outcome = use_state(|| None::<Result<(), Error>>);

    let sign_out = {
        let api = session.api();
        let reload = devices.reload.clone();
        Callback::from(move |id: SessionHandle| {
            let (api, reload) = (api.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                // Whatever the answer (an already ended session is a 404), the list says
                // what is left.
                let _ = auth::end_session(&api, &id).await;
                reload.emit(());
            });
        })
    };
    let render = {
        let i18n = i18n.clone();
        Callback::from(move |list: Vec<SessionInfo>| {
            html! {
                <ul class="card-grid" data-testid="devices">
                    { for list.iter().map(|device| device_card(&i18n, device, &sign_out)) }
                </ul>
            }
        })
    };
    let onsubmit = {
        let api = session.api();
        let (current, new) = (current.clone(), new.clone());
        let (pending, outcome) = (pending.clone(), outcome.clone());
        let reload = devices.reload.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let inputs = (
                current.cast::<HtmlInputElement>(),
                new.cast::<HtmlInputElement>(),
            );
            let (Some(current), Some(new)) = inputs else {
                return;
            };
            if *pending {
                return;
            }
            pending.set(true);
            outcome.set(None);
            let (api, pending, outcome, reload) = (
                api.clone(),
                pending.clone(),
                outcome.clone(),
                reload.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let result = auth::change_password(&api, current.value(), new.value()).await;
                if result.is_ok() {
                    current.set_value("");
                    new.set_value("");
                    reload.emit(());
                }
                outcome.set(Some(result));
                pending.set(false);
            });
        })
    };

    html! {
        <>
            <h1>{ i18n.t(Key::SecurityTitle) }</h1>
            if session.role() == Some(Role::Doctor) {
                { mfa_settings() }
            }
            <h2>{ i18n.t(Key::DevicesTitle) }</h2>
            <p class="muted">{ i18n.t(Key::DevicesIntro) }</p>
            { fetch_view(&i18n, &devices.state, &render, &devices.reload) }
            <crate::components::notification_settings::NotificationChoices />
            <crate::components::typing_setting::TypingChoice />
            <form class="card password-form" {onsubmit} aria-labelledby="password-title">
                <h2 id="password-title">{ i18n.t(Key::PasswordTitle) }</h2>
                <label for="current-password">{ i18n.t(Key::CurrentPassword) }</label>
                <input id="current-password" ref={current} type="password" required=true
                    autocomplete="current-password" data-testid="current-password" />
                <label for="new-password">{ i18n.t(Key::NewPassword) }</label>
                <input id="new-password" ref={new} type="password" required=true minlength="8"
                    autocomplete="new-password" data-testid="new-password" />
                {
                    match &*outcome {
                        Some(Ok(())) => html! {
                            <p class="notice" role="status" data-testid="password-changed">
                                { i18n.t(Key::PasswordChanged) }
                            </p>
                        },
                        Some(Err(error)) => error_view(&i18n, error, None),
                        None => html! {},
                    }
                }
                <div>
                    <button type="submit" data-testid="change-password" disabled={*pending}>
                        { i18n.t(Key::PasswordTitle) }
                    </button>
                </div>
            </form>
        </>
    }
}

/// One signed-in device: what it is, where from, when last used; "Cet appareil" for this
/// one, a sign-out button for the others.
fn device_card(i18n: &I18n, device: &SessionInfo, sign_out: &Callback<SessionHandle>) -> Html {
    let name = if device.device.is_empty() {
        i18n.t(Key::UnknownDevice)
    } else {
        &device.device
    };
    let seen = crate::time::message_stamp(device.last_seen_at, i18n.lang);
    let onclick = {
        let (sign_out, id) = (sign_out.clone(), device.id.clone());
        move |_: MouseEvent| sign_out.emit(id.clone())
    };
    html! {
        <li key={device.id.0.clone()}>
            <article class="card" data-testid="device" data-current={device.current.to_string()}>
                <h3>{ name }</h3>
                <p class="muted">{ i18n.tf(Key::LastActive, &[&seen]) }</p>
                if let Some(address) = &device.address {
                    <p class="muted">{ i18n.tf(Key::FromAddress, &[address]) }</p>
                }
                <div>
                    if device.current {
                        <strong class="this-device">{ i18n.t(Key::ThisDevice) }</strong>
                    } else {
                        <button type="button" class="secondary" data-testid="sign-out-device"
                            aria-label={i18n.tf(Key::SignOutNamed, &[name])} {onclick}>
                            { i18n.t(Key::SignOutDevice) }
                        </button>
                    }
                </div>
            </article>
        </li>
    }
}
