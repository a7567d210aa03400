//! A conversation's place in the doctor's queue (issue 12), above its messages: the topic and
//! the stage for both sides; for its doctor, the stage to change, "close the exchange" with a
//! reason, and "reopen". Below a closed conversation, what its patient may do next; below an
//! open one whose doctor blocked its patient, what the patient may do instead of writing.

use super::MessagingButton;
use crate::care::{topic_key, triage_key};
use crate::i18n::{I18n, Key, use_i18n};
use colloque_protocol::ConversationSummary;
use yew::prelude::*;
#[cfg(feature = "second-build")]
use {
    crate::components::error_view::error_text,
    crate::hooks::use_triage,
    colloque_protocol::{ConversationStatus, MAX_CLOSE_REASON_CHARS, TriageState},
    web_sys::{HtmlSelectElement, HtmlTextAreaElement},
};

/// Props of [`TriageBar`].
#[derive(Properties, PartialEq)]
pub struct TriageBarProps {
    /// The conversation, as the viewer sees it.
    pub conversation: ConversationSummary,
    /// The viewer is its doctor.
    pub for_doctor: bool,
}

/// The topic and stage chips; the doctor's controls (in the second build only).
#[component]
pub fn TriageBar(props: &TriageBarProps) -> Html {
    let i18n = use_i18n();
    let c = &props.conversation;
    let chips = html! {
        <div class="chips">
            <span class="chip" data-testid="conversation-topic">{ i18n.t(topic_key(c.topic)) }</span>
            <span class="chip stage" data-testid="conversation-stage" data-state={c.triage.as_str()}>
                { i18n.t(triage_key(c.triage, !props.for_doctor)) }
            </span>
        </div>
    };
    #[cfg(feature = "second-build")]
    if props.for_doctor {
        return html! {
            <div class="triage-bar">
                { chips }
                <TriageControls conversation={c.clone()} />
                <super::patient_panel::PatientPanel conversation={c.clone()} />
            </div>
        };
    }
    html! { <div class="triage-bar">{ chips }</div> }
}

/// Props of [`TriageControls`].
#[cfg(feature = "second-build")]
#[derive(Properties, PartialEq)]
struct TriageControlsProps {
    conversation: ConversationSummary,
}

/// The doctor's controls: the stage to change, "close the exchange" with a reason, "reopen".
#[cfg(feature = "second-build")]
#[component]
fn TriageControls(props: &TriageControlsProps) -> Html {
    let i18n = use_i18n();
    let triage = use_triage();
    let closing = use_state(|| false);
    let reason = use_state(String::new);
    let c = &props.conversation;
    let id = c.id;
    let error = triage
        .error
        .as_ref()
        .map(|e| html! { <p class="notice" role="alert">{ error_text(&i18n, e) }</p> });
    let controls = if c.status == ConversationStatus::Closed {
        let onclick = {
            let triage = triage.clone();
            Callback::from(move |_: MouseEvent| triage.reopen(id))
        };
        html! {
            <div class="controls">
                <button type="button" class="secondary" data-testid="reopen" disabled={triage.busy} {onclick}>
                    { i18n.t(Key::Reopen) }
                </button>
            </div>
        }
    } else if *closing {
        let oninput = {
            let reason = reason.clone();
            Callback::from(move |e: InputEvent| {
                reason.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())
            })
        };
        let onsubmit = {
            let (triage, reason, closing) = (triage.clone(), reason.clone(), closing.clone());
            Callback::from(move |e: SubmitEvent| {
                e.prevent_default();
                let text = reason.trim().to_owned();
                if !text.is_empty() {
                    triage.close(id, text);
                    reason.set(String::new());
                    closing.set(false);
                }
            })
        };
        let cancel = {
            let closing = closing.clone();
            Callback::from(move |_: MouseEvent| closing.set(false))
        };
        html! {
            <form class="close-form" {onsubmit}>
                <label for="close-reason">{ i18n.t(Key::CloseReasonLabel) }</label>
                <textarea id="close-reason" data-testid="close-reason" value={(*reason).clone()}
                    maxlength={MAX_CLOSE_REASON_CHARS.to_string()} required=true {oninput} />
                <div class="close-actions">
                    <button type="submit" data-testid="close-confirm"
                        disabled={reason.trim().is_empty() || triage.busy}>
                        { i18n.t(Key::CloseConfirm) }
                    </button>
                    <button type="button" class="secondary" onclick={cancel}>{ i18n.t(Key::Cancel) }</button>
                </div>
            </form>
        }
    } else {
        let onchange = {
            let triage = triage.clone();
            Callback::from(move |e: Event| {
                let value = e.target_unchecked_into::<HtmlSelectElement>().value();
                if let Some(state) = TriageState::parse(&value) {
                    triage.set_state(id, state);
                }
            })
        };
        let open_close = {
            let closing = closing.clone();
            Callback::from(move |_: MouseEvent| closing.set(true))
        };
        let options = [
            TriageState::New,
            TriageState::InProgress,
            TriageState::WaitingPatient,
        ]
        .into_iter()
        .map(|state| {
            html! {
                <option value={state.as_str()} selected={state == c.triage}>
                    { i18n.t(triage_key(state, false)) }
                </option>
            }
        });
        html! {
            <div class="controls">
                <label>
                    { i18n.t(Key::TriageLabel) }
                    <select data-testid="triage-select" disabled={triage.busy} {onchange}>{ for options }</select>
                </label>
                <button type="button" class="secondary" data-testid="close-conversation" onclick={open_close}>
                    { i18n.t(Key::CloseConversation) }
                </button>
            </div>
        }
    };
    html! {
        <>
            { controls }
            { for error }
        </>
    }
}

/// Below an open conversation whose doctor blocked its patient (`blocked`), instead of the
/// patient's composer: calmly, that this doctor no longer takes their messages here, and how to
/// reach them (the practice; 15 or 112 in an emergency). Before they type, not when they send.
pub fn blocked_notice(i18n: &I18n, c: &ConversationSummary) -> Html {
    html! {
        <p class="notice" role="note" data-testid="blocked-notice">
            { i18n.tf(Key::BlockedComposer, &[&c.doctor.display_name]) }
        </p>
    }
}

/// Below a closed conversation, instead of the composer: for the patient, that it is closed and
/// a "new request" that goes through the doctor's setting (and says so when it refuses); for
/// the doctor, that reopening lets them write again. A plain function: it has no state.
pub fn closed_notice(i18n: &I18n, c: &ConversationSummary, for_doctor: bool) -> Html {
    if for_doctor {
        return html! {
            <p class="notice" role="note" data-testid="closed-notice">{ i18n.t(Key::ClosedComposerDoctor) }</p>
        };
    }
    html! {
        <div class="closed-notice" data-testid="closed-notice">
            <p class="notice" role="note">{ i18n.t(Key::ClosedComposer) }</p>
            <MessagingButton with_user={Some(c.doctor.id)} label={i18n.t(Key::NewRequest)}
                name={c.doctor.display_name.clone()} />
        </div>
    }
}
