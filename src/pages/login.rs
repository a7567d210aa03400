//! The login form. Its layout is in static/app.css (`.login`), shared with the static copy
//! that index.html shows before the app starts (see [`crate::shell`]); keep the two alike.

use crate::app::{Route, home_route};
use crate::components::error_view::error_view;
use crate::components::layout::lang_switch;
use crate::components::layout::use_tab_title;
use crate::components::session_notice::session_notice;
use crate::hooks::outbox;
use crate::i18n::{Key, use_i18n};
use crate::services::auth;
use crate::session::use_session;
use colloque_protocol::ErrorCode;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// Email + password; once logged in, off to the user's home.
#[component]
pub fn Login() -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let email = use_node_ref();
    let password = use_node_ref();
    let shared = use_node_ref();
    let pending = use_state(|| false);
    let error = use_state(|| None);
    use_tab_title(Key::LoginTitle, 0);
    // Whatever earlier users of this browser left unsent for more than a day goes now, unread.
    use_effect_with((), |_| outbox::purge_expired(crate::time::now()));

    if let Some(role) = session.role() {
        return html! { <Redirect<Route> to={home_route(role)} /> };
    }

    let onsubmit = {
        let session = session.clone();
        let (email, password, shared) = (email.clone(), password.clone(), shared.clone());
        let (pending, error) = (pending.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *pending {
                return;
            }
            let value = |r: &NodeRef| {
                r.cast::<HtmlInputElement>()
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            let (email, password) = (value(&email), value(&password));
            let shared = shared
                .cast::<HtmlInputElement>()
                .is_some_and(|i| i.checked());
            let api = session.api();
            let session = session.clone();
            let (pending, error) = (pending.clone(), error.clone());
            pending.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match auth::login(&api, &email, &password).await {
                    Ok(response) => {
                        // Earlier users' leftovers go; this user's own are read once logged in.
                        outbox::purge_others(response.user.id);
                        session.login(response, shared);
                    }
                    Err(e) => error.set(Some(e)),
                }
                pending.set(false);
            });
        })
    };

    html! {
        <main id="main" class="login">
            <div class="top">
                <h1>{ i18n.t(Key::AppName) }</h1>
                { lang_switch(&i18n) }
            </div>
            <p class="muted">{ i18n.t(Key::Tagline) }</p>
            { session_notice(&i18n, &session) }
            <form {onsubmit} aria-labelledby="login-title">
                <h2 id="login-title">{ i18n.t(Key::LoginTitle) }</h2>
                <p>{ i18n.t(Key::LoginIntro) }</p>
                <label for="login-email">{ i18n.t(Key::Email) }</label>
                <input id="login-email" ref={email} type="email" autocomplete="username" required=true
                    data-testid="login-email" />
                <label for="login-password">{ i18n.t(Key::Password) }</label>
                <input id="login-password" ref={password} type="password" autocomplete="current-password"
                    required=true data-testid="login-password" />
                <div class="shared-choice">
                    <input id="login-shared" ref={shared} type="checkbox" data-testid="login-shared"
                        aria-describedby="login-shared-help" />
                    <label for="login-shared">{ i18n.t(Key::SharedComputer) }</label>
                    <p id="login-shared-help" class="muted">{ i18n.t(Key::SharedComputerHelp) }</p>
                </div>
                if let Some(e) = &*error {
                    if e.code() == Some(ErrorCode::RateLimited) {
                        // Login throttling lasts minutes: say so, in the words of a login.
                        <div class="error-view" role="alert" data-testid="error-view">
                            <p>{ i18n.t(Key::ErrLoginThrottled) }</p>
                        </div>
                    } else {
                        { error_view(&i18n, e, None) }
                    }
                }
                <button type="submit" data-testid="login-submit" disabled={*pending}>
                    { if *pending { i18n.t(Key::LoginPending) } else { i18n.t(Key::LoginSubmit) } }
                </button>
            </form>
        </main>
    }
}
