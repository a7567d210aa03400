//! Cards for appointments, doctors and patients, each with a way to write to the person.

use crate::components::messaging::MessagingButton;
use crate::i18n::{Key, use_i18n, write_to};
use colloque_protocol::{Appointment, UserProfile};
use yew::prelude::*;

/// Props of [`AppointmentCard`].
#[derive(Properties, PartialEq)]
pub struct AppointmentCardProps {
    /// The appointment.
    pub appointment: Appointment,
}

/// One appointment, with "Écrire au Dr …".
#[component]
pub fn AppointmentCard(props: &AppointmentCardProps) -> Html {
    let i18n = use_i18n();
    let a = &props.appointment;
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
            <p><span class="muted">{ i18n.t(Key::Where) }{ " : " }</span>{ a.location.clone() }</p>
            if !a.reason.is_empty() {
                <p><span class="muted">{ i18n.t(Key::Why) }{ " : " }</span>{ a.reason.clone() }</p>
            }
            <p class="muted">{ i18n.tf(Key::DurationMinutes, &[&duration]) }</p>
            <div>
                <MessagingButton with_user={Some(a.doctor.id)}
                    label={write_to(i18n.lang, &a.doctor.display_name)} secondary=true />
            </div>
        </article>
    }
}

/// Props of [`PersonCard`].
#[derive(Properties, PartialEq)]
pub struct PersonCardProps {
    /// The doctor or patient.
    pub person: UserProfile,
    /// `doctor-card` or `patient-card`.
    pub testid: AttrValue,
}

/// A doctor or a patient, with a button to write to them.
#[component]
pub fn PersonCard(props: &PersonCardProps) -> Html {
    let i18n = use_i18n();
    let p = &props.person;
    html! {
        <article class="card" data-testid={props.testid.clone()} data-user-id={p.id.to_string()}>
            <h3>{ p.display_name.clone() }</h3>
            if let Some(speciality) = &p.speciality {
                <p class="muted">{ speciality.clone() }</p>
            }
            <div>
                <MessagingButton with_user={Some(p.id)} label={write_to(i18n.lang, &p.display_name)}
                    secondary=true />
            </div>
        </article>
    }
}
