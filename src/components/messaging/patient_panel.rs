//! The patient beside the thread (issue 12), in the doctor's conversation view: their next and
//! last appointments with this doctor, and their other conversations with them (the topic and
//! stage of this one are the triage bar's chips, just above). In the second build only.

use crate::care::{next_and_last, topic_key, triage_key};
use crate::hooks::{FetchState, use_fetch, use_messaging};
use crate::i18n::{I18n, Key, use_i18n};
use crate::route::conversation_route;
use crate::router::{in_app_click, use_navigator};
use crate::services::care;
use colloque_protocol::{Appointment, ConversationSummary, Role};
use yew::prelude::*;

/// Props of [`PatientPanel`].
#[derive(Properties, PartialEq)]
pub struct PatientPanelProps {
    /// The conversation open beside the panel.
    pub conversation: ConversationSummary,
}

/// One appointment, or what to say without it.
fn appointment_line(i18n: &I18n, title: Key, a: Option<&Appointment>, none: Key) -> Html {
    html! {
        <p>
            <span class="muted">{ i18n.t(title) }{ " : " }</span>
            if let Some(a) = a {
                { crate::time::date_time(a.starts_at, i18n.lang) }
                if !a.reason.is_empty() {
                    { " — " }{ a.reason.clone() }
                }
            } else {
                { i18n.t(none) }
            }
        </p>
    }
}

/// The panel.
#[component]
pub fn PatientPanel(props: &PatientPanelProps) -> Html {
    let i18n = use_i18n();
    let messaging = use_messaging();
    let navigator = use_navigator();
    let appointments = use_fetch(async |api| care::get_appointments(&api).await);
    let c = &props.conversation;
    let patient = c.patient.id;

    let visits = match &*appointments.state {
        FetchState::Ready(list) => {
            let (next, last) = next_and_last(list, patient, crate::time::now());
            html! {
                <>
                    { appointment_line(&i18n, Key::PanelNextAppointment, next, Key::NoNextAppointment) }
                    { appointment_line(&i18n, Key::LastAppointment, last, Key::NoLastAppointment) }
                </>
            }
        }
        FetchState::Failed(_) => {
            html! { <p class="muted">{ i18n.t(Key::AppointmentsUnavailable) }</p> }
        }
        _ => html! { <p class="muted">{ i18n.t(Key::Loading) }</p> },
    };
    let others: Vec<_> = messaging
        .sorted_conversations()
        .into_iter()
        .filter(|o| o.patient.id == patient && o.id != c.id)
        .collect();
    let other_items = others.iter().map(|o| {
        let route = conversation_route(Role::Doctor, o.id);
        let href = route.to_path();
        let onclick = in_app_click(&navigator, route);
        html! {
            <li key={o.id.0}>
                <a {href} {onclick} data-testid="patient-other-conversation">
                    { o.subject.clone() }
                </a>
                <span class="muted">
                    { " · " }{ i18n.t(topic_key(o.topic)) }{ " · " }{ i18n.t(triage_key(o.triage, false)) }
                    { " · " }{ crate::time::short_stamp(o.last_activity_at, i18n.lang) }
                </span>
            </li>
        }
    });
    html! {
        <aside class="patient-panel" aria-label={i18n.t(Key::PatientPanelLabel)} data-testid="patient-panel">
            { visits }
            <p class="muted">{ i18n.t(Key::OtherConversations) }</p>
            if others.is_empty() {
                <p>{ i18n.t(Key::NoOtherConversations) }</p>
            } else {
                <ul>{ for other_items }</ul>
            }
        </aside>
    }
}
