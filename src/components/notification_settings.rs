//! "Être prévenu": the user's notification choices (docs/notifications.md), on the account's
//! page: e-mail on or off, quiet hours, and this browser's notifications when the tab is hidden
//! (asked here, when the user chooses to, never at login).

use crate::components::error_view::{error_view, fetch_view};
use crate::components::push_settings::DevicePush;
use crate::hooks::use_fetch;
use crate::i18n::{Key, use_i18n};
use crate::services::{Error, notifications};
use crate::session::use_session;
use colloque_protocol::{DEFAULT_QUIET_HOURS, NotificationSettings, QuietHours};
use web_sys::{HtmlInputElement, Notification, NotificationPermission};
use yew::prelude::*;

/// The section: loads the choices, then shows the form.
#[component]
pub fn NotificationChoices() -> Html {
    let i18n = use_i18n();
    let current = use_fetch(async |api| notifications::settings(&api).await);
    let render = Callback::from(|settings: NotificationSettings| {
        html! { <ChoicesForm {settings} /> }
    });
    html! {
        <section class="card" aria-labelledby="notifications-title" data-testid="notifications">
            <h2 id="notifications-title">{ i18n.t(Key::NotificationsTitle) }</h2>
            <p class="muted">{ i18n.t(Key::NotificationsIntro) }</p>
            { fetch_view(&i18n, &current.state, &render, &current.reload) }
            <BrowserNotices />
            <DevicePush />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct FormProps {
    settings: NotificationSettings,
}

#[component]
fn ChoicesForm(props: &FormProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    // The boxes are the component's own state: a re-render (saving, saved) must show what the
    // user ticked, not the choices it was loaded with.
    let email = use_state(|| props.settings.email);
    let quiet = use_state(|| props.settings.quiet_hours.is_some());
    let (from, to) = (use_node_ref(), use_node_ref());
    let pending = use_state(|| false);
    let outcome = use_state(|| None::<Result<(), Error>>);
    let push = use_state(|| props.settings.push);
    let onsubmit = {
        let api = session.api();
        let (email, push, quiet) = (*email, *push, *quiet);
        let (from, to) = (from.clone(), to.clone());
        let (pending, outcome) = (pending.clone(), outcome.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (Some(from), Some(to)) = (
                from.cast::<HtmlInputElement>(),
                to.cast::<HtmlInputElement>(),
            ) else {
                return;
            };
            if *pending {
                return;
            }
            let choices = NotificationSettings {
                email,
                push,
                quiet_hours: quiet.then(|| QuietHours {
                    from: from.value(),
                    to: to.value(),
                }),
            };
            pending.set(true);
            outcome.set(None);
            let (api, pending, outcome) = (api.clone(), pending.clone(), outcome.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let saved = notifications::save(&api, &choices).await;
                outcome.set(Some(saved.map(|_| ())));
                pending.set(false);
            });
        })
    };
    let toggle = |state: &UseStateHandle<bool>| {
        let state = state.clone();
        Callback::from(move |_: Event| state.set(!*state))
    };
    let (quiet_from, quiet_to) = match &props.settings.quiet_hours {
        Some(hours) => (hours.from.clone(), hours.to.clone()),
        None => (DEFAULT_QUIET_HOURS.0.into(), DEFAULT_QUIET_HOURS.1.into()),
    };
    html! {
        <form class="notification-form" {onsubmit}>
            <label class="check">
                <input type="checkbox" checked={*email} onchange={toggle(&email)}
                    data-testid="notify-email" />
                { i18n.t(Key::EmailNotices) }
            </label>
            <label class="check">
                <input type="checkbox" checked={*push} onchange={toggle(&push)}
                    data-testid="notify-push" />
                { i18n.t(Key::PushNotices) }
            </label>
            <label class="check">
                <input type="checkbox" checked={*quiet} onchange={toggle(&quiet)}
                    data-testid="notify-quiet" />
                { i18n.t(Key::QuietHoursToggle) }
            </label>
            <div class="quiet-hours">
                <label for="quiet-from">{ i18n.t(Key::QuietFrom) }</label>
                <input id="quiet-from" type="time" ref={from} value={quiet_from} required=true disabled={!*quiet}
                    data-testid="quiet-from" />
                <label for="quiet-to">{ i18n.t(Key::QuietTo) }</label>
                <input id="quiet-to" type="time" ref={to} value={quiet_to} required=true disabled={!*quiet}
                    data-testid="quiet-to" />
            </div>
            {
                match &*outcome {
                    Some(Ok(())) => html! {
                        <p class="muted" role="status" data-testid="notifications-saved">
                            { i18n.t(Key::Saved) }
                        </p>
                    },
                    Some(Err(error)) => error_view(&i18n, error, None),
                    None => html! {},
                }
            }
            <div>
                <button type="submit" disabled={*pending} data-testid="save-notifications">
                    { i18n.t(Key::Save) }
                </button>
            </div>
        </form>
    }
}

/// This browser's permission to show Colloque's notifications, asked on a click.
#[component]
fn BrowserNotices() -> Html {
    let i18n = use_i18n();
    let permission = use_state(Notification::permission);
    let onclick = {
        let permission = permission.clone();
        Callback::from(move |_: MouseEvent| {
            let Ok(asked) = Notification::request_permission() else {
                return;
            };
            let permission = permission.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(asked).await;
                permission.set(Notification::permission());
            });
        })
    };
    match *permission {
        NotificationPermission::Granted => html! {
            <p class="muted" data-testid="browser-notices">{ i18n.t(Key::BrowserNoticesOn) }</p>
        },
        NotificationPermission::Denied => html! {
            <p class="muted" data-testid="browser-notices">{ i18n.t(Key::BrowserNoticesBlocked) }</p>
        },
        _ => html! {
            <button type="button" class="secondary" {onclick} data-testid="browser-notices">
                { i18n.t(Key::BrowserNotices) }
            </button>
        },
    }
}
