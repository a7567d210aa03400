//! The red-flag screen: shown full screen, before sending, when a patient's message may describe
//! an emergency ([`crate::red_flags`]). Calling comes first (15 / 112, and 3114 when the text
//! speaks of suicide, as `tel:` links a phone dials in one tap); going back to the text is the
//! safe choice (Escape); sending anyway marks the message urgent for the doctor's queue.
//! docs/care.md, "Red flags".

use crate::i18n::{Key, use_i18n};
use crate::red_flags::Emergency;
use web_sys::HtmlElement;
use yew::prelude::*;

/// Props of [`RedFlagScreen`].
#[derive(Properties, PartialEq)]
pub struct RedFlagScreenProps {
    /// What the text may describe.
    pub emergency: Emergency,
    /// Back to the composer, the text kept.
    pub on_edit: Callback<()>,
    /// Send it anyway, marked urgent.
    pub on_send: Callback<()>,
}

/// The numbers to offer, most fitting first: (number, label).
fn numbers(emergency: Emergency) -> &'static [(&'static str, Key)] {
    match emergency {
        Emergency::Suicide => &[
            ("3114", Key::RedFlagCall3114),
            ("15", Key::RedFlagCall15),
            ("112", Key::RedFlagCall112),
        ],
        Emergency::Medical => &[("15", Key::RedFlagCall15), ("112", Key::RedFlagCall112)],
    }
}

/// The screen. Focus starts on the first number; Tab and Shift+Tab go round its links and
/// buttons and never leave it.
#[component]
pub fn RedFlagScreen(props: &RedFlagScreenProps) -> Html {
    let i18n = use_i18n();
    let numbers = numbers(props.emergency);
    // The links, then "edit", then "send anyway", in tab order.
    let refs = use_memo(numbers.len(), |n| {
        (0..n + 2).map(|_| NodeRef::default()).collect::<Vec<_>>()
    });
    {
        let first = refs[0].clone();
        use_effect_with((), move |_| {
            if let Some(link) = first.cast::<HtmlElement>() {
                let _ = link.focus();
            }
        });
    }
    let onkeydown = {
        let on_edit = props.on_edit.clone();
        let refs = refs.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => on_edit.emit(()),
            "Tab" => {
                e.prevent_default();
                let active = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element());
                let at = refs.iter().position(|r| {
                    r.get()
                        .zip(active.as_ref())
                        .is_some_and(|(node, active)| node.is_same_node(Some(active.as_ref())))
                });
                let n = refs.len();
                let next = match (at, e.shift_key()) {
                    (Some(i), false) => (i + 1) % n,
                    (Some(i), true) => (i + n - 1) % n,
                    (None, _) => 0,
                };
                if let Some(element) = refs[next].cast::<HtmlElement>() {
                    let _ = element.focus();
                }
            }
            _ => {}
        })
    };
    let calls = numbers.iter().enumerate().map(|(i, (number, label))| {
        html! {
            <a class="button call" href={format!("tel:{number}")} ref={refs[i].clone()}
                data-testid={format!("red-flag-call-{number}")}>
                { i18n.t(*label) }
            </a>
        }
    });
    let edit = {
        let on_edit = props.on_edit.clone();
        Callback::from(move |_: MouseEvent| on_edit.emit(()))
    };
    let send = {
        let on_send = props.on_send.clone();
        Callback::from(move |_: MouseEvent| on_send.emit(()))
    };
    let n = numbers.len();
    html! {
        <div class="red-flag-screen" role="alertdialog" aria-modal="true"
            aria-labelledby="red-flag-title" aria-describedby="red-flag-text"
            data-testid="red-flag-screen" {onkeydown}>
            <h2 id="red-flag-title">{ i18n.t(Key::RedFlagTitle) }</h2>
            <p id="red-flag-text">{ i18n.t(Key::RedFlagText) }</p>
            <p class="call-now">{ i18n.t(Key::RedFlagCallNow) }</p>
            <div class="calls">{ for calls }</div>
            <div class="dialog-actions">
                <button type="button" ref={refs[n].clone()} data-testid="red-flag-edit" onclick={edit}>
                    { i18n.t(Key::RedFlagEdit) }
                </button>
                <button type="button" class="secondary" ref={refs[n + 1].clone()}
                    data-testid="red-flag-send-anyway" onclick={send}>
                    { i18n.t(Key::RedFlagSendAnyway) }
                </button>
            </div>
            <p class="muted">{ i18n.t(Key::RedFlagSendAnywayNote) }</p>
        </div>
    }
}
