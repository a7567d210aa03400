//! Starting a request (issue 12): what a patient reads when the doctor takes no new request
//! (before typing anything, with what to do instead), or the choice of a topic: one large
//! button per topic, one tap starts the request. Plain functions, not components: a component
//! costs the wasm bundle far more than this markup.

use crate::care::{intake_notice, topic_key};
use crate::components::error_view::error_text;
use crate::hooks::{NewRequestHandle, RequestStep};
use crate::i18n::{I18n, Key};
use colloque_protocol::Topic;
use yew::prelude::*;

/// What comes under a "write to…" button once it was pressed: nothing, the notice of a doctor
/// who takes no new request, the topic choice, or an error.
pub fn request_flow(i18n: &I18n, request: &NewRequestHandle, name: &str) -> Html {
    match &request.step {
        RequestStep::Idle | RequestStep::Checking => Html::default(),
        RequestStep::Refused(decision, months) => {
            let text = intake_notice(*decision, *months, name, i18n.lang).unwrap_or_default();
            html! { <p class="notice intake-notice" role="alert" data-testid="intake-notice">{ text }</p> }
        }
        RequestStep::Choosing | RequestStep::Starting => topic_choices(i18n, request),
        RequestStep::Failed(error) => {
            html! { <p class="notice" role="alert">{ error_text(i18n, error) }</p> }
        }
    }
}

/// The five topics, each a button that starts the request about it, then "cancel".
fn topic_choices(i18n: &I18n, request: &NewRequestHandle) -> Html {
    let busy = request.step == RequestStep::Starting;
    let choices = Topic::ALL.into_iter().map(|topic| {
        let onclick = {
            let request = request.clone();
            Callback::from(move |_: MouseEvent| request.choose(topic))
        };
        html! {
            <li key={topic.as_str()}>
                <button type="button" class="secondary" disabled={busy} {onclick}
                    data-testid={format!("topic-{}", topic.as_str())}>
                    { i18n.t(topic_key(topic)) }
                </button>
            </li>
        }
    });
    let cancel = {
        let request = request.clone();
        Callback::from(move |_: MouseEvent| request.cancel())
    };
    html! {
        <div class="topic-picker" role="group" aria-labelledby="topic-choose" data-testid="topic-picker"
            aria-busy={busy.then_some("true")}>
            <p id="topic-choose">{ i18n.t(Key::TopicChoose) }</p>
            <ul>{ for choices }</ul>
            <button type="button" class="secondary" onclick={cancel}>{ i18n.t(Key::Cancel) }</button>
        </div>
    }
}
