//! A patient's appointments, upcoming then past.

use crate::components::cards::appointment_card;
use crate::components::error_view::fetch_view;
use crate::hooks::use_fetch;
use crate::i18n::{Key, use_i18n};
use crate::services::care;
use colloque_protocol::Appointment;
use yew::prelude::*;

/// "Mes rendez-vous".
#[component]
pub fn Appointments() -> Html {
    let i18n = use_i18n();
    let appointments = use_fetch(async |api| care::get_appointments(&api).await);
    let render = {
        let i18n = i18n.clone();
        Callback::from(move |mut list: Vec<Appointment>| {
            if list.is_empty() {
                return html! { <p class="muted">{ i18n.t(Key::NoAppointments) }</p> };
            }
            let now = crate::time::now();
            crate::small_sort::sort_by_key(&mut list, |a| a.starts_at);
            let (upcoming, mut past): (Vec<_>, Vec<_>) =
                list.into_iter().partition(|a| a.starts_at >= now);
            past.reverse();
            let group = |title: Key, items: Vec<Appointment>| {
                (!items.is_empty()).then(|| html! {
                    <section>
                        <h2>{ i18n.t(title) }</h2>
                        <ul class="card-grid">
                            { for items.into_iter().map(|appointment| html! {
                                <li key={appointment.id.0}>{ appointment_card(&i18n, &appointment) }</li>
                            }) }
                        </ul>
                    </section>
                })
            };
            html! { <>{ for group(Key::Upcoming, upcoming) }{ for group(Key::Past, past) }</> }
        })
    };
    html! {
        <>
            <h1>{ i18n.t(Key::AppointmentsTitle) }</h1>
            { fetch_view(&i18n, &appointments.state, &render, &appointments.reload) }
        </>
    }
}
