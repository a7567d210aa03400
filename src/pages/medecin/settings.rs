//! "Qui peut m'écrire" (issue 12): the doctor's intake setting — nobody, the care team, or
//! patients seen or booked within N months — and the patients they blocked.

use crate::components::error_view::{error_text, fetch_view};
use crate::hooks::{FetchState, use_fetch};
use crate::i18n::{I18n, Key, use_i18n};
use crate::services::{Error, care};
use crate::session::use_session;
use colloque_protocol::{
    IntakeMode, IntakeSettings, MAX_INTAKE_MONTHS, UpdateIntakeRequest, UserId, UserProfile,
};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What the page loads: the setting and the patients (to block or unblock).
#[derive(Clone, PartialEq)]
struct Loaded {
    settings: IntakeSettings,
    patients: Vec<UserProfile>,
}

/// The doctor's settings page.
#[component]
pub fn Settings() -> Html {
    let i18n = use_i18n();
    let loaded = use_fetch(async |api| {
        let settings = care::get_intake_settings(&api).await?;
        let patients = care::get_patients(&api).await?;
        Ok(Loaded { settings, patients })
    });
    let render = {
        let state = loaded.state.clone();
        Callback::from(move |value: Loaded| {
            html! { <SettingsForm loaded={value} state={state.clone()} /> }
        })
    };
    html! {
        <>
            <h1>{ i18n.t(Key::SettingsTitle) }</h1>
            { fetch_view(&i18n, &loaded.state, &render, &loaded.reload) }
            <super::hours::ReplyHours />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct SettingsFormProps {
    loaded: Loaded,
    /// The page's data: replaced by what the server answers after each change.
    state: UseStateHandle<FetchState<Loaded>>,
}

#[component]
fn SettingsForm(props: &SettingsFormProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let settings = &props.loaded.settings;
    let mode = use_state(|| settings.mode);
    let months = use_state(|| settings.months);
    let outcome = use_state(|| None::<Result<(), Error>>);
    let busy = use_state(|| false);

    // Every answer of the server is the whole setting: it replaces the page's data.
    let apply = {
        let (state, loaded, outcome, busy) = (
            props.state.clone(),
            props.loaded.clone(),
            outcome.clone(),
            busy.clone(),
        );
        Callback::from(move |answer: Result<IntakeSettings, Error>| {
            busy.set(false);
            match answer {
                Ok(settings) => {
                    state.set(FetchState::Ready(Loaded {
                        settings,
                        patients: loaded.patients.clone(),
                    }));
                    outcome.set(Some(Ok(())));
                }
                Err(e) => outcome.set(Some(Err(e))),
            }
        })
    };

    let onsubmit = {
        let (mode, months, apply, busy, session) = (
            mode.clone(),
            months.clone(),
            apply.clone(),
            busy.clone(),
            session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let update = UpdateIntakeRequest {
                mode: *mode,
                months: Some(*months),
            };
            let (apply, api) = (apply.clone(), session.api());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                apply.emit(care::put_intake_settings(&api, &update).await);
            });
        })
    };
    let choice = |value: IntakeMode, key: Key, testid: &'static str| {
        let onchange = {
            let mode = mode.clone();
            Callback::from(move |_: Event| mode.set(value))
        };
        html! {
            <label class="check">
                <input type="radio" name="intake-mode" checked={*mode == value} {onchange}
                    data-testid={testid} />
                { i18n.t(key) }
            </label>
        }
    };
    let onmonths = {
        let months = months.clone();
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            if let Ok(n) = value.trim().parse::<u32>() {
                months.set(n.clamp(1, MAX_INTAKE_MONTHS));
            }
        })
    };
    let outcome_view = match &*outcome {
        Some(Ok(())) => html! { <p class="muted" role="status">{ i18n.t(Key::Saved) }</p> },
        Some(Err(e)) => html! { <p class="notice" role="alert">{ error_text(&i18n, e) }</p> },
        None => Html::default(),
    };
    let blocks = props.loaded.patients.iter().map(|patient| {
        block_row(
            &i18n,
            patient,
            settings.blocked.contains(&patient.id),
            &apply,
            &session,
            &busy,
        )
    });
    html! {
        <>
            <form class="card" data-testid="intake-form" {onsubmit}>
                <fieldset class="filters">
                    <legend>{ i18n.t(Key::SettingsTitle) }</legend>
                    { choice(IntakeMode::CareTeam, Key::IntakeModeCareTeam, "intake-care-team") }
                    { choice(IntakeMode::RecentPatients, Key::IntakeModeRecent, "intake-recent") }
                    { choice(IntakeMode::Off, Key::IntakeModeOff, "intake-off") }
                </fieldset>
                <label for="intake-months">{ i18n.t(Key::IntakeMonths) }</label>
                <input id="intake-months" type="number" min="1" max={MAX_INTAKE_MONTHS.to_string()}
                    value={months.to_string()} oninput={onmonths}
                    disabled={*mode != IntakeMode::RecentPatients} data-testid="intake-months" />
                <p class="muted">{ i18n.t(Key::IntakeOpenKept) }</p>
                <button type="submit" disabled={*busy} data-testid="intake-save">{ i18n.t(Key::Save) }</button>
                { outcome_view }
            </form>
            <section class="card" aria-labelledby="blocked-title">
                <h2 id="blocked-title">{ i18n.t(Key::BlockedTitle) }</h2>
                <p class="muted">{ i18n.t(Key::BlockedIntro) }</p>
                <ul class="plain-list" data-testid="block-list">{ for blocks }</ul>
            </section>
        </>
    }
}

/// One patient with "block" or "unblock".
fn block_row(
    i18n: &I18n,
    patient: &UserProfile,
    blocked: bool,
    apply: &Callback<Result<IntakeSettings, Error>>,
    session: &crate::session::SessionHandle,
    busy: &UseStateHandle<bool>,
) -> Html {
    let id: UserId = patient.id;
    let onclick = {
        let (apply, busy, api) = (apply.clone(), busy.clone(), session.api());
        Callback::from(move |_: MouseEvent| {
            let (apply, api) = (apply.clone(), api.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                apply.emit(care::set_blocked(&api, id, !blocked).await);
            });
        })
    };
    let key = if blocked {
        Key::UnblockPatient
    } else {
        Key::BlockPatient
    };
    html! {
        <li key={id.0} data-testid="block-row" data-user-id={id.to_string()} data-blocked={blocked.to_string()}>
            <span>{ patient.display_name.clone() }</span>
            { " " }
            <button type="button" class="secondary" disabled={**busy} {onclick}>{ i18n.t(key) }</button>
        </li>
    }
}
