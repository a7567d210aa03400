//! Patient home: the next appointment and the doctors of the care team.

use crate::components::cards::{appointment_card, person_card};
use crate::components::emergency_note::emergency_note;
use crate::components::error_view::fetch_view;
use crate::hooks::use_fetch;
use crate::i18n::{Key, use_i18n};
use crate::services::care;
use crate::session::use_session;
use colloque_protocol::{Appointment, UserProfile};
use yew::prelude::*;

/// The next appointment still to come, if any.
pub fn next_appointment(mut list: Vec<Appointment>, now: i64) -> Option<Appointment> {
    list.retain(|a| a.starts_at.0 + i64::from(a.duration_minutes) * 60_000 >= now);
    list.into_iter().min_by_key(|a| a.starts_at)
}

/// "Bonjour …", the next appointment and my doctors.
#[component]
pub fn Dashboard() -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let appointments = use_fetch(async |api| care::get_appointments(&api).await);
    let team = use_fetch(async |api| care::get_care_team(&api).await);
    let name = session
        .user()
        .map(|u| u.display_name.clone())
        .unwrap_or_default();

    let render_next = {
        let i18n = i18n.clone();
        Callback::from(move |list: Vec<Appointment>| {
            match next_appointment(list, crate::time::now().0) {
                Some(appointment) => appointment_card(&i18n, &appointment),
                None => html! { <p class="muted">{ i18n.t(Key::NoUpcomingAppointment) }</p> },
            }
        })
    };
    let render_team = {
        let i18n = i18n.clone();
        Callback::from(move |list: Vec<UserProfile>| {
            if list.is_empty() {
                return html! { <p class="muted">{ i18n.t(Key::NoDoctors) }</p> };
            }
            html! {
                <ul class="card-grid">
                    { for list.into_iter().map(|person| html! {
                        <li key={person.id.0}>{ person_card(&i18n, &person, "doctor-card") }</li>
                    }) }
                </ul>
            }
        })
    };

    html! {
        <>
            <h1>{ i18n.tf(Key::Hello, &[&name]) }</h1>
            { emergency_note(&i18n) }
            <section aria-labelledby="next-title">
                <h2 id="next-title">{ i18n.t(Key::NextAppointment) }</h2>
                { fetch_view(&i18n, &appointments.state, &render_next, &appointments.reload) }
            </section>
            <section aria-labelledby="team-title">
                <h2 id="team-title">{ i18n.t(Key::MyDoctors) }</h2>
                { fetch_view(&i18n, &team.state, &render_team, &team.reload) }
            </section>
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colloque_protocol::{AppointmentId, Role, Timestamp, UserId};

    fn appointment(id: i64, starts_at: i64) -> Appointment {
        let person = |id, role| UserProfile {
            id: UserId(id),
            role,
            display_name: String::new(),
            speciality: None,
        };
        Appointment {
            id: AppointmentId(id),
            patient: person(1, Role::Patient),
            doctor: person(2, Role::Doctor),
            starts_at: Timestamp(starts_at),
            duration_minutes: 30,
            location: String::new(),
            reason: String::new(),
        }
    }

    #[test]
    fn the_next_appointment_is_the_soonest_one_not_over() {
        let list = vec![
            appointment(1, 10_000_000),
            appointment(2, 5_000_000),
            appointment(3, 0),
        ];
        assert_eq!(next_appointment(list, 4_000_000).map(|a| a.id.0), Some(2));
        assert!(next_appointment(vec![appointment(3, 0)], 4_000_000).is_none());
    }
}
