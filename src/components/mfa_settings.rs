//! Two-step verification on the security page (doctors): turn it on (QR code, or the key
//! typed by hand, then a first code), keep the recovery codes shown once, turn it off.

use crate::components::error_view::{Loading, error_view};
use crate::hooks::use_fetch::{FetchState, use_fetch};
use crate::i18n::{I18n, Key, use_i18n};
use crate::services::{Error, auth};
use crate::session::use_session;
use colloque_protocol::{MfaEnrolment, MfaStatus, QrCode};
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn take(node: &NodeRef) -> String {
    node.cast::<HtmlInputElement>()
        .map(|input| {
            let value = input.value();
            input.set_value("");
            value
        })
        .unwrap_or_default()
}

/// The QR code, drawn from its modules (no image to fetch, nothing inline to allow in the CSP).
fn qr_image(i18n: &I18n, qr: &QrCode) -> Html {
    html! {
        <svg class="qr" viewBox={format!("0 0 {0} {0}", qr.size)} role="img"
            aria-label={i18n.t(Key::MfaQrLabel)} data-testid="mfa-qr">
            <rect width="100%" height="100%" fill="#fff" />
            <path d={qr.path.clone()} fill="#000" />
        </svg>
    }
}

/// A field for a 6-digit code: the phone's keypad, and the code offered by the system.
fn code_input(id: &'static str, node: &NodeRef, label: Key, i18n: &I18n) -> Html {
    html! {
        <>
            <label for={id}>{ i18n.t(label) }</label>
            <input id={id} ref={node.clone()} type="text" inputmode="numeric"
                autocomplete="one-time-code" required=true data-testid={id} />
        </>
    }
}

/// "Double authentification".
#[component]
pub fn MfaSettings() -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let status = use_fetch(async |api| auth::mfa_status(&api).await);
    let enrolment = use_state(|| None::<Rc<MfaEnrolment>>);
    let codes = use_state(|| None::<Rc<Vec<String>>>);
    let pending = use_state(|| false);
    let error = use_state(|| None::<Error>);
    let code = use_node_ref();
    let password = use_node_ref();

    // Runs one call, showing its failure; `then` gets its answer.
    let run = {
        let (pending, error) = (pending.clone(), error.clone());
        move |call: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Error>>>>| {
            if *pending {
                return;
            }
            pending.set(true);
            error.set(None);
            let (pending, error) = (pending.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = call.await {
                    error.set(Some(e));
                }
                pending.set(false);
            });
        }
    };
    let start = {
        let (api, enrolment, run) = (session.api(), enrolment.clone(), run.clone());
        Callback::from(move |_: MouseEvent| {
            let (api, enrolment) = (api.clone(), enrolment.clone());
            run(Box::pin(async move {
                enrolment.set(Some(Rc::new(auth::mfa_enrol(&api).await?)));
                Ok(())
            }));
        })
    };
    let confirm = {
        let (api, code, run) = (session.api(), code.clone(), run.clone());
        let (enrolment, codes, reload) = (enrolment.clone(), codes.clone(), status.reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (api, typed) = (api.clone(), take(&code));
            let (enrolment, codes, reload) = (enrolment.clone(), codes.clone(), reload.clone());
            run(Box::pin(async move {
                let recovery = auth::mfa_confirm(&api, typed).await?;
                codes.set(Some(Rc::new(recovery.codes)));
                enrolment.set(None);
                reload.emit(());
                Ok(())
            }));
        })
    };
    let done = {
        let (codes, session) = (codes.clone(), session.clone());
        Callback::from(move |_: MouseEvent| {
            codes.set(None);
            // A session that could only enrol may now go everywhere.
            session.enrolled();
        })
    };
    let disable = {
        let (api, code, password, run) = (session.api(), code.clone(), password.clone(), run);
        let reload = status.reload.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (api, reload) = (api.clone(), reload.clone());
            let (secret, typed) = (take(&password), take(&code));
            run(Box::pin(async move {
                auth::mfa_disable(&api, secret, typed).await?;
                reload.emit(());
                Ok(())
            }));
        })
    };
    let print = Callback::from(|_: MouseEvent| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    });
    // Enrolled already (this tab reloaded before the codes were put away): not restricted.
    // Not while the codes are shown: lifting the restriction changes the page around them.
    {
        let session = session.clone();
        let enabled = matches!(
            &*status.state,
            FetchState::Ready(MfaStatus { enabled: true, .. })
        );
        use_effect_with((enabled, codes.is_some()), move |(enabled, shown)| {
            if *enabled && !*shown {
                session.enrolled();
            }
        });
    }

    let failure = error.as_ref().map(|e| error_view(&i18n, e, None));
    let body = if let Some(codes) = &*codes {
        html! {
            <>
                <h3>{ i18n.t(Key::MfaCodesTitle) }</h3>
                <p>{ i18n.t(Key::MfaCodesHint) }</p>
                <ol class="recovery-codes" data-testid="recovery-codes">
                    { for codes.iter().map(|code| html! { <li key={code.clone()}>{ code }</li> }) }
                </ol>
                <div class="dialog-actions">
                    <button type="button" class="secondary" onclick={print}>{ i18n.t(Key::Print) }</button>
                    <button type="button" data-testid="mfa-codes-done" onclick={done}>
                        { i18n.t(Key::MfaCodesDone) }
                    </button>
                </div>
            </>
        }
    } else if let Some(enrolment) = &*enrolment {
        html! {
            <>
                <p>{ i18n.t(Key::MfaScan) }</p>
                { qr_image(&i18n, &enrolment.qr) }
                <p>{ i18n.t(Key::MfaManual) }</p>
                <p class="secret" data-testid="mfa-secret">{ &enrolment.secret }</p>
                <form class="dialog-text" onsubmit={confirm}>
                    { code_input("mfa-confirm-code", &code, Key::MfaCodeLabel, &i18n) }
                    { failure }
                    <div>
                        <button type="submit" data-testid="mfa-confirm" disabled={*pending}>
                            { i18n.t(Key::MfaConfirm) }
                        </button>
                    </div>
                </form>
            </>
        }
    } else {
        match &*status.state {
            FetchState::Loading => html! { <Loading /> },
            FetchState::Failed(e) => error_view(&i18n, e, Some(&status.reload)),
            FetchState::Ready(now) if now.enabled => html! {
                <>
                    <p data-testid="mfa-state" data-enabled="true">
                        { i18n.tf(Key::MfaOn, &[&now.recovery_codes_left.to_string()]) }
                    </p>
                    <form class="dialog-text" onsubmit={disable} aria-labelledby="mfa-off-title">
                        <h3 id="mfa-off-title">{ i18n.t(Key::MfaDisableTitle) }</h3>
                        <label for="mfa-password">{ i18n.t(Key::Password) }</label>
                        <input id="mfa-password" ref={password} type="password" required=true
                            autocomplete="current-password" />
                        { code_input("mfa-disable-code", &code, Key::MfaDisableCode, &i18n) }
                        { failure }
                        <div>
                            <button type="submit" class="secondary" disabled={*pending}>
                                { i18n.t(Key::MfaDisableTitle) }
                            </button>
                        </div>
                    </form>
                </>
            },
            FetchState::Ready(now) => html! {
                <>
                    if now.required {
                        <p class="notice" role="status">{ i18n.t(Key::MfaRequired) }</p>
                    }
                    <p>{ i18n.t(Key::MfaIntro) }</p>
                    <p class="muted" data-testid="mfa-state" data-enabled="false">{ i18n.t(Key::MfaOff) }</p>
                    { failure }
                    <div>
                        <button type="button" data-testid="mfa-start" onclick={start} disabled={*pending}>
                            { i18n.t(Key::MfaStart) }
                        </button>
                    </div>
                </>
            },
        }
    };
    html! {
        <section class="card password-form" aria-labelledby="mfa-title" data-testid="mfa">
            <h2 id="mfa-title">{ i18n.t(Key::MfaTitle) }</h2>
            { body }
        </section>
    }
}
