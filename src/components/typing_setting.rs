//! "Montrer quand j'écris": whether the other participant sees "… écrit" while the user
//! writes (docs/protocol.md, "Typing indicator"). Saved as soon as it is ticked.

use crate::components::error_view::{error_view, fetch_view};
use crate::hooks::use_fetch;
use crate::i18n::{Key, use_i18n};
use crate::services::{Error, typing};
use crate::session::use_session;
use colloque_protocol::TypingSettings;
use yew::prelude::*;

/// The section: loads the choice, then shows the box.
#[component]
pub fn TypingChoice() -> Html {
    let i18n = use_i18n();
    let current = use_fetch(async |api| typing::settings(&api).await);
    let render = Callback::from(|settings: TypingSettings| html! { <TypingBox {settings} /> });
    html! {
        <section class="card" aria-labelledby="typing-title" data-testid="typing-setting">
            <h2 id="typing-title">{ i18n.t(Key::TypingTitle) }</h2>
            { fetch_view(&i18n, &current.state, &render, &current.reload) }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct BoxProps {
    settings: TypingSettings,
}

#[component]
fn TypingBox(props: &BoxProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let share = use_state(|| props.settings.share_typing);
    let outcome = use_state(|| None::<Result<(), Error>>);
    let onchange = {
        let api = session.api();
        let (share, outcome) = (share.clone(), outcome.clone());
        Callback::from(move |_: Event| {
            let wanted = !*share;
            share.set(wanted);
            outcome.set(None);
            let (api, share, outcome) = (api.clone(), share.clone(), outcome.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let saved = typing::save(
                    &api,
                    TypingSettings {
                        share_typing: wanted,
                    },
                )
                .await;
                // Not saved: the box shows what the server still has.
                if saved.is_err() {
                    share.set(!wanted);
                }
                outcome.set(Some(saved.map(|_| ())));
            });
        })
    };
    html! {
        <>
            <label class="check">
                <input type="checkbox" checked={*share} {onchange} data-testid="share-typing" />
                { i18n.t(Key::ShareTyping) }
            </label>
            {
                match &*outcome {
                    Some(Ok(())) => html! {
                        <p class="muted" role="status" data-testid="typing-saved">{ i18n.t(Key::Saved) }</p>
                    },
                    Some(Err(error)) => error_view(&i18n, error, None),
                    None => html! {},
                }
            }
        </>
    }
}
