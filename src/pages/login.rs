//! The login form, and its second step for an account with two-step verification. Its layout
//! is in static/app.css (`.login`), shared with the static copy that index.html shows before
//! the app starts (see [`crate::shell`]); keep the two alike.
//!
//! The second step is in the second build only (only doctors reach it in the app): the
//! first-load build hands the challenge over and goes to `/login/code`
//! ([`crate::second_build::hand_over_challenge`]).

use crate::components::error_view::error_view;
use crate::components::layout::lang_switch;
use crate::components::layout::use_tab_title;
use crate::components::session_notice::session_notice;
use crate::hooks::outbox;
use crate::i18n::{I18n, Key, use_i18n};
#[cfg(not(feature = "second-build"))]
use crate::route::Route;
use crate::route::home_route;
use crate::router::Redirect;
#[cfg(not(feature = "second-build"))]
use crate::router::use_navigator;
use crate::services::Error;
use crate::services::auth::{self, LoginOutcome};
use crate::session::{SessionHandle, use_session};
use colloque_protocol::{ErrorCode, LoginResponse};
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn value(node: &NodeRef) -> String {
    node.cast::<HtmlInputElement>()
        .map(|input| input.value())
        .unwrap_or_default()
}

/// A login went through: earlier users' leftovers go (this user's own are read once logged in),
/// and the session starts.
fn logged_in(session: &SessionHandle, response: LoginResponse, shared: bool) {
    outbox::purge_others(response.user.id);
    session.login(response, shared);
}

/// A failed login step, in the words of a login.
fn login_error(i18n: &I18n, error: &Error) -> Html {
    if error.code() == Some(ErrorCode::RateLimited) {
        // Login throttling lasts minutes: say so.
        html! {
            <div class="error-view" role="alert" data-testid="error-view">
                <p>{ i18n.t(Key::ErrLoginThrottled) }</p>
            </div>
        }
    } else {
        error_view(i18n, error, None)
    }
}

/// Email + password, then (two-step verification) a code; once logged in, off to the user's
/// home.
#[component]
pub fn Login() -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let email = use_node_ref();
    let password = use_node_ref();
    let shared = use_node_ref();
    let pending = use_state(|| false);
    let error = use_state(|| None::<Error>);
    // The second step's challenge (and the shared-computer choice made with the password), once
    // the password was right for an account with MFA, here or in the first-load build.
    #[cfg(feature = "second-build")]
    let challenge = use_state(|| {
        crate::second_build::take_challenge()
            .map(|(challenge, shared)| (AttrValue::from(challenge), shared))
    });
    #[cfg(not(feature = "second-build"))]
    let navigator = use_navigator();
    use_tab_title(Key::LoginTitle, 0);
    // Whatever earlier users of this browser left unsent for more than a day goes now, unread.
    use_effect_with((), |_| outbox::purge_expired(crate::time::now()));

    if let Some(role) = session.role() {
        return html! { <Redirect to={home_route(role)} /> };
    }

    let onsubmit = {
        let session = session.clone();
        let (email, password, shared) = (email.clone(), password.clone(), shared.clone());
        let (pending, error) = (pending.clone(), error.clone());
        #[cfg(feature = "second-build")]
        let challenge = challenge.clone();
        #[cfg(not(feature = "second-build"))]
        let navigator = navigator.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *pending {
                return;
            }
            let (email, password) = (value(&email), value(&password));
            let shared = shared
                .cast::<HtmlInputElement>()
                .is_some_and(|i| i.checked());
            let api = session.api();
            let session = session.clone();
            let (pending, error) = (pending.clone(), error.clone());
            #[cfg(feature = "second-build")]
            let challenge = challenge.clone();
            #[cfg(not(feature = "second-build"))]
            let navigator = navigator.clone();
            pending.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match auth::login(&api, &email, &password).await {
                    Ok(LoginOutcome::Session(response)) => logged_in(&session, response, shared),
                    #[cfg(feature = "second-build")]
                    Ok(LoginOutcome::Mfa(second)) => {
                        challenge.set(Some((second.challenge.into(), shared)));
                    }
                    #[cfg(not(feature = "second-build"))]
                    Ok(LoginOutcome::Mfa(second)) => {
                        crate::second_build::hand_over_challenge(&second.challenge, shared);
                        if let Some(navigator) = &navigator {
                            navigator.push(&Route::LoginCode);
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
                pending.set(false);
            });
        })
    };
    // Back to the password (the challenge expired, or the user asked), with why if any.
    #[cfg(feature = "second-build")]
    let second_step = {
        let on_restart = {
            let (challenge, error) = (challenge.clone(), error.clone());
            Callback::from(move |why: Option<Error>| {
                error.set(why);
                challenge.set(None);
            })
        };
        challenge.as_ref().map(|(challenge, shared)| {
            html! { <SecondStep challenge={challenge.clone()} shared={*shared} {on_restart} /> }
        })
    };
    #[cfg(not(feature = "second-build"))]
    let second_step: Option<Html> = None;

    html! {
        <main id="main" class="login">
            <div class="top">
                <h1>{ i18n.t(Key::AppName) }</h1>
                { lang_switch(&i18n) }
            </div>
            <p class="muted">{ i18n.t(Key::Tagline) }</p>
            if let Some(second_step) = second_step {
                { second_step }
            } else {
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
                        { login_error(&i18n, e) }
                    }
                    <button type="submit" data-testid="login-submit" disabled={*pending}>
                        { if *pending { i18n.t(Key::LoginPending) } else { i18n.t(Key::LoginSubmit) } }
                    </button>
                </form>
            }
        </main>
    }
}

#[cfg(feature = "second-build")]
#[derive(Properties, PartialEq)]
struct SecondStepProps {
    /// The challenge the password gave.
    challenge: AttrValue,
    /// "Ordinateur partagé", as chosen with the password.
    shared: bool,
    /// Back to the password, with the error that sent the user there, if any.
    on_restart: Callback<Option<Error>>,
}

/// The second step: a 6-digit code of the authenticator app (the phone's keypad, and the
/// code offered by the system where it can), or one of the recovery codes.
#[cfg(feature = "second-build")]
#[component]
fn SecondStep(props: &SecondStepProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let code = use_node_ref();
    let recovery = use_state(|| false);
    let pending = use_state(|| false);
    let error = use_state(|| None::<Error>);

    let onsubmit = {
        let session = session.clone();
        let code = code.clone();
        let (pending, error) = (pending.clone(), error.clone());
        let (challenge, restart) = (props.challenge.clone(), props.on_restart.clone());
        let shared = props.shared;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *pending {
                return;
            }
            let typed = value(&code);
            let api = session.api();
            let session = session.clone();
            let (pending, error) = (pending.clone(), error.clone());
            let (challenge, restart) = (challenge.clone(), restart.clone());
            pending.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match auth::login_mfa(&api, &challenge, &typed).await {
                    Ok(response) => logged_in(&session, response, shared),
                    // The challenge is over (it lives five minutes): start again.
                    Err(e) if e.code() == Some(ErrorCode::Unauthorized) => restart.emit(Some(e)),
                    Err(e) => error.set(Some(e)),
                }
                pending.set(false);
            });
        })
    };
    let toggle = {
        let (recovery, error) = (recovery.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            recovery.set(!*recovery);
        })
    };
    let restart = {
        let restart = props.on_restart.clone();
        Callback::from(move |_: MouseEvent| restart.emit(None))
    };

    html! {
        <form {onsubmit} aria-labelledby="mfa-title" data-testid="mfa-step">
            <h2 id="mfa-title">{ i18n.t(Key::MfaLoginTitle) }</h2>
            if *recovery {
                <p>{ i18n.t(Key::MfaRecoveryIntro) }</p>
                <label for="mfa-code">{ i18n.t(Key::MfaRecoveryLabel) }</label>
                <input id="mfa-code" key="recovery" ref={code} type="text" autocomplete="off"
                    autocapitalize="characters" spellcheck="false" required=true autofocus=true
                    data-testid="mfa-code" />
            } else {
                <p>{ i18n.t(Key::MfaLoginIntro) }</p>
                <label for="mfa-code">{ i18n.t(Key::MfaCodeLabel) }</label>
                <input id="mfa-code" key="totp" ref={code} type="text" inputmode="numeric"
                    autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="7" required=true
                    autofocus=true data-testid="mfa-code" />
            }
            if let Some(e) = &*error {
                { login_error(&i18n, e) }
            }
            <button type="submit" data-testid="mfa-submit" disabled={*pending}>
                { if *pending { i18n.t(Key::LoginPending) } else { i18n.t(Key::MfaVerify) } }
            </button>
            <button type="button" class="link-button" data-testid="mfa-toggle" onclick={toggle}>
                { i18n.t(if *recovery { Key::MfaUseApp } else { Key::MfaUseRecovery }) }
            </button>
            <button type="button" class="link-button" onclick={restart}>
                { i18n.t(Key::MfaRestart) }
            </button>
        </form>
    }
}
