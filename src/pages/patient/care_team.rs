//! A patient's doctors, each with "Écrire au Dr …".

use crate::components::cards::person_card;
use crate::components::error_view::fetch_view;
use crate::hooks::use_fetch;
use crate::i18n::{Key, use_i18n};
use crate::services::care;
use colloque_protocol::UserProfile;
use yew::prelude::*;

/// "Mon équipe de soins".
#[component]
pub fn CareTeam() -> Html {
    let i18n = use_i18n();
    let team = use_fetch(async |api| care::get_care_team(&api).await);
    let render = {
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
            <h1>{ i18n.t(Key::CareTeamTitle) }</h1>
            { fetch_view(&i18n, &team.state, &render, &team.reload) }
        </>
    }
}
