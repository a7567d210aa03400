//! "Notifications sur cet appareil", in the account page's "Être prévenu" card: this browser's
//! Web Push subscription (docs/notifications.md). Nothing is asked or fetched until a click.

use crate::components::error_view::error_view;
use crate::i18n::{Key, use_i18n};
use crate::services::push::{self, PushError};
use crate::session::use_session;
use yew::prelude::*;

/// Where this browser stands.
#[derive(Clone, PartialEq)]
enum State {
    Off,
    On,
    /// Subscribing, after a click on "start".
    Starting,
    /// Unsubscribing, after a click on "stop".
    Stopping,
    Refused(PushError),
}

/// The control: start or stop this device's notifications.
#[component]
pub fn DevicePush() -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let state = use_state(|| {
        if push::saved_id().is_some() {
            State::On
        } else {
            State::Off
        }
    });
    let shared = session.session().is_some_and(|s| s.shared);
    let act = |on: bool| {
        let (api, state) = (session.api(), state.clone());
        Callback::from(move |_: MouseEvent| {
            if matches!(*state, State::Starting | State::Stopping) {
                return;
            }
            state.set(if on { State::Starting } else { State::Stopping });
            let (api, state) = (api.clone(), state.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = if on {
                    push::subscribe(&api).await.map(|_| State::On)
                } else {
                    push::unsubscribe(&api).await.map(|()| State::Off)
                };
                state.set(outcome.unwrap_or_else(State::Refused));
            });
        })
    };
    let body = if shared {
        html! { <p class="muted" data-testid="push-status">{ i18n.t(Key::PushShared) }</p> }
    } else if !push::supported() {
        html! { <p class="muted" data-testid="push-status">{ i18n.t(Key::PushUnsupported) }</p> }
    } else {
        let refusal = match &*state {
            State::Refused(PushError::Unsupported) => {
                html! { <p role="alert" data-testid="push-status">{ i18n.t(Key::PushUnsupported) }</p> }
            }
            State::Refused(PushError::Denied) => {
                html! { <p role="alert" data-testid="push-status">{ i18n.t(Key::PushDenied) }</p> }
            }
            State::Refused(PushError::Failed) => {
                html! { <p role="alert" data-testid="push-status">{ i18n.t(Key::PushFailed) }</p> }
            }
            State::Refused(PushError::Api(error)) => error_view(&i18n, error, None),
            _ => html! {},
        };
        let button = if matches!(*state, State::On | State::Stopping) {
            html! {
                <>
                    <p class="muted" role="status" data-testid="push-status">{ i18n.t(Key::PushOn) }</p>
                    <button type="button" class="secondary" onclick={act(false)}
                        disabled={*state == State::Stopping} data-testid="push-stop">
                        { i18n.t(Key::PushStop) }
                    </button>
                </>
            }
        } else {
            html! {
                <button type="button" class="secondary" onclick={act(true)} disabled={*state == State::Starting}
                    data-testid="push-start">
                    { i18n.t(Key::PushStart) }
                </button>
            }
        };
        html! { <>{ refusal }{ button }</> }
    };
    html! {
        <div class="device-push" data-testid="device-push">
            <h3>{ i18n.t(Key::PushDevice) }</h3>
            <p class="muted">{ i18n.t(Key::PushDeviceHelp) }</p>
            { body }
        </div>
    }
}
