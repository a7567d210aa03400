//! "Horaires, délai de réponse et absences" (issue 12), a section of the doctor's settings page:
//! weekly office hours, the reply-time promise patients read before sending, and absences with
//! a colleague who covers. Its words are here, not in the shared translation table: this is the
//! second build only, and the table is in the patient's first load too.

use crate::components::error_view::error_text;
use crate::hooks::{FetchState, use_fetch};
use crate::i18n::{I18n, Lang, use_i18n};
use crate::services::{Error, care};
use crate::session::use_session;
use colloque_protocol::{
    DayHours, MAX_WORKING_DAYS, NewAbsenceRequest, ReplySettings, UpdateReplySettingsRequest,
    UserId, UserProfile,
};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

fn tr(i18n: &I18n, fr: &'static str, en: &'static str) -> &'static str {
    match i18n.lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

const DAYS: [(&str, &str); 7] = [
    ("Lundi", "Monday"),
    ("Mardi", "Tuesday"),
    ("Mercredi", "Wednesday"),
    ("Jeudi", "Thursday"),
    ("Vendredi", "Friday"),
    ("Samedi", "Saturday"),
    ("Dimanche", "Sunday"),
];

#[derive(Clone, PartialEq)]
struct Loaded {
    settings: ReplySettings,
    colleagues: Vec<UserProfile>,
}

/// The section: loads the settings and the colleagues, then the forms.
#[component]
pub fn ReplyHours() -> Html {
    let i18n = use_i18n();
    let loaded = use_fetch(async |api| {
        let settings = care::get_reply_settings(&api).await?;
        let colleagues = care::get_colleagues(&api).await?;
        Ok(Loaded {
            settings,
            colleagues,
        })
    });
    let body = match &*loaded.state {
        FetchState::Ready(value) => {
            html! { <HoursForms loaded={value.clone()} state={loaded.state.clone()} /> }
        }
        FetchState::Failed(e) => {
            html! { <p class="notice" role="alert">{ error_text(&i18n, e) }</p> }
        }
        _ => Html::default(),
    };
    html! {
        <section class="card" aria-labelledby="hours-title" data-testid="hours-section">
            <h2 id="hours-title">{ tr(&i18n, "Horaires, délai de réponse et absences", "Office hours, reply time and absences") }</h2>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct HoursFormsProps {
    loaded: Loaded,
    state: UseStateHandle<FetchState<Loaded>>,
}

fn input_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

#[component]
fn HoursForms(props: &HoursFormsProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let settings = &props.loaded.settings;
    let days = use_state(|| settings.working_days);
    let hours = use_state(|| settings.hours.clone());
    let from = use_state(String::new);
    let to = use_state(String::new);
    let covering = use_state(|| None::<UserId>);
    let outcome = use_state(|| None::<Result<(), Error>>);
    let busy = use_state(|| false);

    // Every answer is the whole of the settings: it replaces the section's data.
    let apply = {
        let (state, loaded, outcome, busy) = (
            props.state.clone(),
            props.loaded.clone(),
            outcome.clone(),
            busy.clone(),
        );
        Callback::from(move |answer: Result<ReplySettings, Error>| {
            busy.set(false);
            match answer {
                Ok(settings) => {
                    state.set(FetchState::Ready(Loaded {
                        settings,
                        colleagues: loaded.colleagues.clone(),
                    }));
                    outcome.set(Some(Ok(())));
                }
                Err(e) => outcome.set(Some(Err(e))),
            }
        })
    };
    let run = {
        let (apply, busy) = (apply.clone(), busy.clone());
        move |work: std::pin::Pin<Box<dyn Future<Output = Result<ReplySettings, Error>>>>| {
            busy.set(true);
            let apply = apply.clone();
            wasm_bindgen_futures::spawn_local(async move { apply.emit(work.await) });
        }
    };

    let on_save = {
        let (days, hours, run, api) = (days.clone(), hours.clone(), run.clone(), session.api());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let update = UpdateReplySettingsRequest {
                working_days: *days,
                hours: (*hours).clone(),
            };
            let api = api.clone();
            run(Box::pin(async move {
                care::put_reply_settings(&api, &update).await
            }));
        })
    };
    let on_days = {
        let days = days.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            days.set(value.parse::<u32>().ok());
        })
    };
    let promise_options = std::iter::once(None)
        .chain((0..=MAX_WORKING_DAYS).map(Some))
        .map(|n| {
            let label = match n {
                None => tr(&i18n, "Pas d’engagement affiché", "No promise shown").to_owned(),
                Some(0) => tr(&i18n, "Le jour même", "The same day").to_owned(),
                Some(n) => format!("{n} {}", tr(&i18n, "jour(s) ouvré(s)", "working day(s)")),
            };
            let value = n.map_or(String::new(), |n| n.to_string());
            html! { <option value={value} selected={*days == n}>{ label }</option> }
        });
    let day_rows = DAYS.iter().enumerate().map(|(index, (fr, en))| {
        let day = hours.get(index).cloned().flatten();
        let set = move |hours: &UseStateHandle<Vec<Option<DayHours>>>, value: Option<DayHours>| {
            let mut week = (**hours).clone();
            if let Some(slot) = week.get_mut(index) {
                *slot = value;
            }
            hours.set(week);
        };
        let on_open = {
            let hours = hours.clone();
            Callback::from(move |e: Event| {
                let open = e.target_unchecked_into::<HtmlInputElement>().checked();
                let value = open.then(|| DayHours {
                    opens: "09:00".into(),
                    closes: "18:00".into(),
                });
                set(&hours, value);
            })
        };
        let on_time = |closing: bool| {
            let (hours, day) = (hours.clone(), day.clone());
            Callback::from(move |e: Event| {
                if let Some(mut current) = day.clone() {
                    if closing {
                        current.closes = input_value(&e);
                    } else {
                        current.opens = input_value(&e);
                    }
                    set(&hours, Some(current));
                }
            })
        };
        let name = tr(&i18n, fr, en);
        let (opens, closes) = day
            .as_ref()
            .map_or((String::new(), String::new()), |d| (d.opens.clone(), d.closes.clone()));
        html! {
            <li data-testid="hours-day">
                <label class="check">
                    <input type="checkbox" checked={day.is_some()} onchange={on_open} />{ name }
                </label>
                { " " }
                <input type="time" aria-label={format!("{name} : {}", tr(&i18n, "ouverture", "opens"))}
                    value={opens} disabled={day.is_none()} onchange={on_time(false)} />
                { " – " }
                <input type="time" aria-label={format!("{name} : {}", tr(&i18n, "fermeture", "closes"))}
                    value={closes} disabled={day.is_none()} onchange={on_time(true)} />
            </li>
        }
    });

    let on_add = {
        let (from, to, covering, run, api) = (
            from.clone(),
            to.clone(),
            covering.clone(),
            run.clone(),
            session.api(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let absence = NewAbsenceRequest {
                from: (*from).clone(),
                to: (*to).clone(),
                covering_doctor_id: *covering,
            };
            let api = api.clone();
            run(Box::pin(
                async move { care::add_absence(&api, &absence).await },
            ));
        })
    };
    let on_from = {
        let from = from.clone();
        Callback::from(move |e: Event| from.set(input_value(&e)))
    };
    let on_to = {
        let to = to.clone();
        Callback::from(move |e: Event| to.set(input_value(&e)))
    };
    let on_covering = {
        let covering = covering.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            covering.set(value.parse::<i64>().ok().map(UserId));
        })
    };
    let colleague_options = props.loaded.colleagues.iter().map(|c| {
        html! { <option value={c.id.to_string()} selected={*covering == Some(c.id)}>{ c.display_name.clone() }</option> }
    });
    let absences = settings.absences.iter().map(|absence| {
        let id = absence.id;
        let on_delete = {
            let (run, api) = (run.clone(), session.api());
            Callback::from(move |_: MouseEvent| {
                let api = api.clone();
                run(Box::pin(
                    async move { care::delete_absence(&api, id).await },
                ));
            })
        };
        let days = format!(
            "{} {} {} {}",
            tr(&i18n, "Du", "From"),
            crate::time::civil_day(&absence.from, i18n.lang),
            tr(&i18n, "au", "to"),
            crate::time::civil_day(&absence.to, i18n.lang)
        );
        let cover = absence.covering_doctor.as_ref().map(|c| {
            format!(
                " — {} {}",
                tr(&i18n, "relais :", "covered by"),
                c.display_name
            )
        });
        html! {
            <li key={id.0} data-testid="absence-row">
                <span>{ days }{ for cover }</span>{ " " }
                <button type="button" class="secondary" disabled={*busy} onclick={on_delete}>
                    { tr(&i18n, "Supprimer", "Delete") }
                </button>
            </li>
        }
    });
    let outcome_view = match &*outcome {
        Some(Ok(())) => {
            html! { <p class="muted" role="status">{ tr(&i18n, "Enregistré.", "Saved.") }</p> }
        }
        Some(Err(e)) => html! { <p class="notice" role="alert">{ error_text(&i18n, e) }</p> },
        None => Html::default(),
    };
    html! {
        <>
            <form data-testid="hours-form" onsubmit={on_save}>
                <p class="muted">{ tr(&i18n,
                    "Vos patients lisent, avant d’envoyer, la date à laquelle une réponse est attendue au plus tard : elle compte vos jours ouvrés (jours fériés et absences exclus), heure de Paris.",
                    "Before sending, your patients read the latest date an answer is expected: it counts your working days (public holidays and absences excluded), Paris time.") }</p>
                <label for="hours-days">{ tr(&i18n, "Délai de réponse", "Reply time") }</label>
                <select id="hours-days" data-testid="hours-days" onchange={on_days}>{ for promise_options }</select>
                <ul class="hours-week">{ for day_rows }</ul>
                <button type="submit" disabled={*busy} data-testid="hours-save">{ tr(&i18n, "Enregistrer", "Save") }</button>
            </form>
            <h3>{ tr(&i18n, "Absences", "Absences") }</h3>
            <ul class="hours-week" data-testid="absence-list">{ for absences }</ul>
            <form data-testid="absence-form" onsubmit={on_add}>
                <label for="absence-from">{ tr(&i18n, "Premier jour", "First day") }</label>
                <input id="absence-from" type="date" required=true onchange={on_from} data-testid="absence-from" />
                <label for="absence-to">{ tr(&i18n, "Dernier jour", "Last day") }</label>
                <input id="absence-to" type="date" required=true onchange={on_to} data-testid="absence-to" />
                <label for="absence-covering">{ tr(&i18n, "Confrère ou consœur qui assure le relais", "Colleague covering") }</label>
                <select id="absence-covering" data-testid="absence-covering" onchange={on_covering}>
                    <option value="" selected={covering.is_none()}>{ tr(&i18n, "Personne", "Nobody") }</option>
                    { for colleague_options }
                </select>
                <p class="muted">{ tr(&i18n,
                    "Le confrère n’est pas prévenu et ne voit rien de vos échanges ; vos patients lisent son nom, et reçoivent au plus une réponse automatique par jour et par échange.",
                    "Your colleague is not notified and sees nothing of your exchanges; your patients read their name, and get at most one automatic reply a day per exchange.") }</p>
                <button type="submit" disabled={*busy} data-testid="absence-add">{ tr(&i18n, "Ajouter l’absence", "Add the absence") }</button>
            </form>
            { outcome_view }
        </>
    }
}
