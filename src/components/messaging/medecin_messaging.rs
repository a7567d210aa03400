//! The inbox: conversations with unread counts, an unread-only filter and a search by name;
//! the selected conversation beside it on a wide screen, and the list *or* the conversation on
//! a phone. Role-aware: patients get the very same component for their own list (the original
//! app's patient-only copy was removed to avoid duplication), by latest activity. A doctor's is
//! a queue (issue 12): one tab per triage state with its count, a topic filter, the patient who
//! has waited longest first, and how long each has waited ([`crate::care::queue`]).

use crate::care::{counts, queue, topic_key, triage_key, waiting_text};
use crate::components::error_view::{Loading, error_view};
use crate::components::messaging::SecureMessaging;
use crate::hooks::use_messaging;
use crate::hooks::use_messaging::LoadState;
use crate::i18n::{Key, use_i18n};
use crate::route::conversation_route;
use crate::router::{in_app_click, use_navigator};
use crate::session::use_session;
use crate::text::lower;
use colloque_protocol::{ConversationId, Role, Topic, TriageState};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Props of [`MedecinMessaging`].
#[derive(Properties, PartialEq)]
pub struct MedecinMessagingProps {
    /// The conversation shown beside the list, if any.
    #[prop_or_default]
    pub selected: Option<ConversationId>,
}

/// Lower-cases and strips the common French accents, so "helene" finds "Hélène".
fn fold(text: &str) -> String {
    lower(text)
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            c => c,
        })
        .collect()
}

/// True when `name` matches the search `query` (case- and accent-insensitive).
pub fn name_matches(name: &str, query: &str) -> bool {
    let query = fold(query.trim());
    query.is_empty() || fold(name).contains(&query)
}

/// The inbox, with the selected conversation.
#[component]
pub fn MedecinMessaging(props: &MedecinMessagingProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let messaging = use_messaging();
    let navigator = use_navigator();
    let query = use_state(String::new);
    let unread_only = use_state(|| false);
    // The doctor's queue: the state shown (`None`: the first open state with requests in it)
    // and the topic filter.
    let stage = use_state(|| None::<TriageState>);
    let topic = use_state(|| None::<Topic>);
    // Its look is in static/app.css, under `.medecin-messaging`.
    let style = "medecin-messaging";

    let Some(role) = session.role() else {
        return Html::default();
    };

    let oninput = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            query.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onchange = {
        let unread_only = unread_only.clone();
        Callback::from(move |e: Event| {
            unread_only.set(e.target_unchecked_into::<HtmlInputElement>().checked())
        })
    };

    let all = messaging.sorted_conversations();
    let matching: Vec<_> = all
        .iter()
        .copied()
        .filter(|c| !*unread_only || c.unread_count > 0)
        .filter(|c| name_matches(&messaging.other_party(c).display_name, &query))
        .collect();
    // The queue is the second build's: in the first-load build a doctor never gets here
    // (`/medecin/…` loads the second build), and none of it is compiled in.
    let doctor = cfg!(feature = "second-build") && role == Role::Doctor;
    let per_stage = counts(&matching);
    let stage_shown = (*stage).unwrap_or_else(|| {
        TriageState::ALL
            .into_iter()
            .zip(per_stage)
            .find(|(_, n)| *n > 0)
            .map_or(TriageState::New, |(state, _)| state)
    });
    let shown: Vec<_> = if doctor {
        queue(&matching, stage_shown, *topic)
    } else {
        matching
    };
    let now = crate::time::now();

    let list = match &messaging.list {
        LoadState::Failed(error) if all.is_empty() => {
            let messaging = messaging.clone();
            error_view(
                &i18n,
                error,
                Some(&Callback::from(move |()| messaging.refresh())),
            )
        }
        LoadState::Idle | LoadState::Loading if all.is_empty() => html! { <Loading /> },
        _ if all.is_empty() => html! { <p class="muted">{ i18n.t(Key::NoConversations) }</p> },
        _ if shown.is_empty() => html! { <p class="muted">{ i18n.t(Key::NoMatch) }</p> },
        _ => html! {},
    };

    let items = shown.iter().map(|c| {
        let other = messaging.other_party(c);
        let route = conversation_route(role, c.id);
        let href = route.to_path();
        let selected = props.selected == Some(c.id);
        let onclick = in_app_click(&navigator, route);
        let unread = c.unread_count;
        let unread_label = format!("{unread} {}", i18n.unread_words(unread));
        let excerpt = c
            .last_message
            .as_ref()
            .map(|m| m.excerpt.clone())
            .unwrap_or_else(|| i18n.t(Key::NoLastMessage).to_owned());
        let waiting = c
            .waiting_since
            .filter(|_| doctor)
            .map(|since| waiting_text(since, now, i18n.lang));
        let stage_label = (!doctor).then(|| i18n.t(triage_key(c.triage, true)));
        // A patient sent a message past the red-flag screen: the doctor's queue says so.
        let urgent = doctor && c.urgent_since.is_some();
        html! {
            <li key={c.id.0}>
                <a class={classes!("item", (unread > 0).then_some("unread"))} {href} {onclick}
                    data-testid="conversation-item" data-conversation-id={c.id.to_string()}
                    aria-current={selected.then_some("page")}>
                    <span class="name">{ other.display_name.clone() }</span>
                    <span class="stamp">{ crate::time::short_stamp(c.last_activity_at, i18n.lang) }</span>
                    <span class="excerpt">{ c.subject.clone() }{ " — " }{ excerpt }</span>
                    <span class="care">
                        <span class="topic" data-testid="conversation-item-topic">{ i18n.t(topic_key(c.topic)) }</span>
                        if let Some(label) = stage_label {
                            <span class="topic">{ label }</span>
                        }
                        if urgent {
                            <span class="urgent" data-testid="conversation-urgent">{ i18n.t(Key::UrgentMark) }</span>
                        }
                        if let Some(text) = waiting {
                            <span class="waiting" data-testid="conversation-waiting">{ text }</span>
                        }
                    </span>
                    <span class={classes!("badge", (unread == 0).then_some("zero"))}
                        data-testid="conversation-unread" aria-label={unread_label}>
                        { unread }
                    </span>
                </a>
            </li>
        }
    });

    let class = classes!(
        style,
        if props.selected.is_some() {
            "has-selection"
        } else {
            "no-selection"
        }
    );
    html! {
        <div {class}>
            <nav class="inbox-list" aria-label={i18n.t(Key::ConversationsLabel)}>
                <div class="filters">
                    <label for="inbox-search">{ i18n.t(Key::SearchLabel) }</label>
                    <input id="inbox-search" type="search" value={(*query).clone()} {oninput}
                        data-testid="inbox-search" />
                    <label class="check">
                        <input type="checkbox" checked={*unread_only} {onchange} data-testid="unread-only" />
                        { i18n.t(Key::UnreadOnly) }
                    </label>
                    if doctor {
                        { queue_filters(&i18n, &stage, stage_shown, per_stage, &topic) }
                    }
                </div>
                { list }
                <ul data-testid="conversation-list">{ for items }</ul>
            </nav>
            <div class="pane">
                if let Some(id) = props.selected {
                    <SecureMessaging key={id.0} conversation_id={id} show_back=true />
                } else {
                    <p class="placeholder muted">{ i18n.t(Key::SelectConversation) }</p>
                }
            </div>
        </div>
    }
}

/// The doctor's queue filters: one toggle per triage state with its count, and the topic.
fn queue_filters(
    i18n: &crate::i18n::I18n,
    stage: &UseStateHandle<Option<TriageState>>,
    shown: TriageState,
    per_stage: [usize; 4],
    topic: &UseStateHandle<Option<Topic>>,
) -> Html {
    let stages = TriageState::ALL.into_iter().zip(per_stage).map(|(state, n)| {
        let onclick = {
            let stage = stage.clone();
            Callback::from(move |_: MouseEvent| stage.set(Some(state)))
        };
        let label = i18n.t(triage_key(state, false));
        html! {
            <button type="button" key={state.as_str()} aria-pressed={(state == shown).to_string()}
                data-testid={format!("stage-{}", state.as_str())} {onclick}>
                { i18n.tf(Key::QueueCount, &[label, &n.to_string()]) }
            </button>
        }
    });
    let onchange = {
        let topic = topic.clone();
        Callback::from(move |e: Event| {
            let value = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            topic.set(Topic::parse(&value));
        })
    };
    let options = Topic::ALL.into_iter().map(|t| {
        html! {
            <option value={t.as_str()} selected={**topic == Some(t)}>{ i18n.t(topic_key(t)) }</option>
        }
    });
    html! {
        <>
            <div class="stages" role="group" aria-label={i18n.t(Key::QueueLabel)} data-testid="queue-stages">
                { for stages }
            </div>
            <label for="inbox-topic">{ i18n.t(Key::TopicLabel) }</label>
            <select id="inbox-topic" data-testid="inbox-topic" {onchange}>
                <option value="" selected={topic.is_none()}>{ i18n.t(Key::TopicAll) }</option>
                { for options }
            </select>
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ignores_case_and_accents() {
        assert!(name_matches("Hélène Durand", "helene"));
        assert!(name_matches("Dr Claire Martin", "MARTIN"));
        assert!(!name_matches("Lucas Bernard", "martin"));
        assert!(name_matches("Lucas Bernard", "  "));
    }
}
