//! A doctor's patients, each with a messaging button.

use crate::components::cards::person_card;
use crate::components::error_view::fetch_view;
use crate::hooks::use_fetch;
use crate::i18n::{Key, use_i18n};
use crate::services::care;
use colloque_protocol::UserProfile;
use yew::prelude::*;

/// "Mes patients".
#[component]
pub fn Patients() -> Html {
    let i18n = use_i18n();
    let patients = use_fetch(async |api| care::get_patients(&api).await);
    let render = {
        let i18n = i18n.clone();
        Callback::from(move |list: Vec<UserProfile>| {
            if list.is_empty() {
                return html! { <p class="muted">{ i18n.t(Key::NoPatients) }</p> };
            }
            html! {
                <ul class="card-grid">
                    { for list.into_iter().map(|person| html! {
                        <li key={person.id.0}>{ person_card(&i18n, &person, "patient-card") }</li>
                    }) }
                </ul>
            }
        })
    };
    html! {
        <>
            <h1>{ i18n.t(Key::PatientsTitle) }</h1>
            { fetch_view(&i18n, &patients.state, &render, &patients.reload) }
        </>
    }
}
