//! Cards for appointments, doctors and patients, each with a way to write to the person.

use crate::components::messaging::MessagingButton;
use crate::i18n::{I18n, Key, write_to};
use colloque_protocol::{Appointment, UserProfile};
use yew::prelude::*;

// The cards are plain functions, not components: a component costs the wasm bundle far more
// than its markup, and these have no state of their own.

/// One appointment, with "Écrire au Dr …".
pub fn appointment_card(i18n: &I18n, a: &Appointment) -> Html {
    let duration = a.duration_minutes.to_string();
    html! {
        <article class="card" data-testid="appointment-card" data-doctor-id={a.doctor.id.to_string()}>
            <h3>{ crate::time::date_time(a.starts_at, i18n.lang) }</h3>
            <p>
                <strong>{ a.doctor.display_name.clone() }</strong>
                if let Some(speciality) = &a.doctor.speciality {
                    <span class="muted">{ " · " }{ speciality.clone() }</span>
                }
            </p>
            <p><span class="muted">{ i18n.t(Key::Where) }{ " " }</span>{ a.location.clone() }</p>
            if !a.reason.is_empty() {
                <p><span class="muted">{ i18n.t(Key::Why) }{ " " }</span>{ a.reason.clone() }</p>
            }
            <p class="muted">{ i18n.tf(Key::DurationMinutes, &[&duration]) }</p>
            <div>
                <MessagingButton with_user={Some(a.doctor.id)}
                    label={write_to(i18n.lang, &a.doctor.display_name)}
                    name={a.doctor.display_name.clone()} secondary=true />
            </div>
        </article>
    }
}

/// A doctor or a patient (`testid`: `doctor-card` or `patient-card`), with a button to
/// write to them.
pub fn person_card(i18n: &I18n, p: &UserProfile, testid: &'static str) -> Html {
    html! {
        <article class="card" data-testid={testid} data-user-id={p.id.to_string()}>
            <h3>{ p.display_name.clone() }</h3>
            if let Some(speciality) = &p.speciality {
                <p class="muted">{ speciality.clone() }</p>
            }
            <div>
                <MessagingButton with_user={Some(p.id)} label={write_to(i18n.lang, &p.display_name)}
                    name={p.display_name.clone()} secondary=true />
            </div>
        </article>
    }
}
