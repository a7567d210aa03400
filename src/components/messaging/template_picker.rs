//! The reply-template picker of the doctor's composer (issue 12): `/` in an empty composer (or
//! Alt+T, or the "Modèles" button) opens it, then a digit 1–9 inserts the template of that
//! number — two keystrokes — or typing filters the list and Enter inserts the first match (the
//! arrows move the choice; Escape closes). A combobox over a listbox: the filter keeps the
//! focus, the active option is its `aria-activedescendant`, and a click inserts too.
//!
//! The template's variables are filled here ([`crate::templates::fill`]) from the patient's
//! profile, their next appointment with the doctor and the doctor's name; the composer gets the
//! text to review and edit. The second build only; its words are here, like the settings pages'.

use crate::care::next_and_last;
use crate::components::error_view::error_text;
use crate::hooks::{FetchState, use_fetch};
use crate::i18n::{I18n, Lang, use_i18n};
use crate::services::{care, templates};
use crate::templates::{Filled, Values, fill, split_name};
use colloque_protocol::{Appointment, ConversationSummary, ReplyTemplate, TemplateId};
use web_sys::HtmlInputElement;
use yew::prelude::*;

pub(crate) fn tr(i18n: &I18n, fr: &'static str, en: &'static str) -> &'static str {
    match i18n.lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

/// Whether a key pressed in the composer opens the picker: `/` in an empty composer, or
/// Alt+T (by the key's place, so that it works on every layout and on a Mac).
pub fn opens_picker(event: &KeyboardEvent, text: &str) -> bool {
    (event.key() == "/" && text.is_empty() && !event.ctrl_key() && !event.meta_key())
        || (event.alt_key() && event.code() == "KeyT")
}

/// The templates whose title holds `filter` (in lower case), in the server's order (by title).
pub fn matching<'a>(list: &'a [ReplyTemplate], filter: &str) -> Vec<&'a ReplyTemplate> {
    let filter = filter.trim().to_lowercase();
    list.iter()
        .filter(|t| filter.is_empty() || t.title.to_lowercase().contains(&filter))
        .collect()
}

/// Props of [`TemplatePicker`].
#[derive(Properties, PartialEq)]
pub struct TemplatePickerProps {
    /// The conversation the composer writes to (its patient and doctor fill the variables).
    pub conversation: ConversationSummary,
    /// A template chosen, with its text filled.
    pub on_pick: Callback<(TemplateId, Filled)>,
    /// Closed without choosing.
    pub on_close: Callback<()>,
}

#[derive(Clone, PartialEq)]
struct Loaded {
    templates: Vec<ReplyTemplate>,
    appointments: Vec<Appointment>,
}

/// The picker: loads the templates and the appointments when it opens.
#[component]
pub fn TemplatePicker(props: &TemplatePickerProps) -> Html {
    let i18n = use_i18n();
    let loaded = use_fetch(async |api| {
        let templates = templates::get_templates(&api).await?;
        // Without the appointments, `{date_rdv}` is only left unfilled.
        let appointments = care::get_appointments(&api).await.unwrap_or_default();
        Ok(Loaded {
            templates,
            appointments,
        })
    });
    let filter = use_state(String::new);
    let active = use_state(|| 0usize);
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with((), move |()| {
            if let Some(input) = input.cast::<HtmlInputElement>() {
                let _ = input.focus();
            }
        });
    }
    let (list, status) = match &*loaded.state {
        FetchState::Ready(value) => (Some(value.clone()), None),
        FetchState::Failed(error) => (None, Some(error_text(&i18n, error))),
        FetchState::Loading => (None, Some(tr(&i18n, "Chargement…", "Loading…"))),
    };
    let shown: Vec<ReplyTemplate> = list
        .as_ref()
        .map(|l| {
            matching(&l.templates, &filter)
                .into_iter()
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let pick = {
        let (on_pick, conversation, lang) =
            (props.on_pick.clone(), props.conversation.clone(), i18n.lang);
        let list = list.clone();
        Callback::from(move |template: ReplyTemplate| {
            let appointments = list.as_ref().map_or(&[][..], |l| &l.appointments[..]);
            let values = values_for(&conversation, appointments, lang);
            on_pick.emit((template.id, fill(&template.body, &values)));
        })
    };
    let onkeydown = {
        let (shown, active, pick, on_close) = (
            shown.clone(),
            active.clone(),
            pick.clone(),
            props.on_close.clone(),
        );
        Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            let digit = key
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=9).contains(n) && key.len() == 1);
            let chosen = match key.as_str() {
                "Escape" => {
                    e.prevent_default();
                    on_close.emit(());
                    return;
                }
                "ArrowDown" | "ArrowUp" if !shown.is_empty() => {
                    e.prevent_default();
                    let last = shown.len() - 1;
                    let next = match key.as_str() {
                        "ArrowDown" => (*active + 1).min(last),
                        _ => active.saturating_sub(1),
                    };
                    active.set(next);
                    return;
                }
                "Enter" => Some((*active).min(shown.len().saturating_sub(1))),
                _ => digit.map(|n| n - 1),
            };
            if let Some(index) = chosen {
                e.prevent_default();
                if let Some(template) = shown.get(index) {
                    pick.emit(template.clone());
                }
            }
        })
    };
    let oninput = {
        let (filter, active) = (filter.clone(), active.clone());
        Callback::from(move |e: InputEvent| {
            filter.set(e.target_unchecked_into::<HtmlInputElement>().value());
            active.set(0);
        })
    };
    let active_id = (!shown.is_empty()).then(|| format!("template-option-{}", *active));
    let options = shown.iter().enumerate().map(|(index, template)| {
        let selected = index == *active;
        let onclick = {
            let (pick, template) = (pick.clone(), template.clone());
            Callback::from(move |_: MouseEvent| pick.emit(template.clone()))
        };
        let number = (index < 9).then(|| format!("{}. ", index + 1));
        let shared = template.shared.then(|| {
            let by = tr(&i18n, "partagé", "shared");
            format!(" — {by}, {}", template.owner.display_name)
        });
        html! {
            <li id={format!("template-option-{index}")} role="option" key={template.id.0}
                aria-selected={if selected { "true" } else { "false" }}
                class={classes!("template-option", selected.then_some("active"))}
                data-testid="template-option" {onclick}>
                <span aria-hidden="true" class="muted">{ for number }</span>
                { template.title.clone() }
                <span class="muted">{ for shared }</span>
            </li>
        }
    });
    let empty = list.is_some() && shown.is_empty();
    html! {
        <div class="template-picker" data-testid="template-picker">
            <label for="template-filter" class="visually-hidden">
                { tr(&i18n, "Chercher un modèle de réponse", "Find a reply template") }
            </label>
            <input id="template-filter" data-testid="template-filter" ref={input} type="text"
                role="combobox" aria-expanded="true" aria-controls="template-list"
                aria-autocomplete="list" aria-activedescendant={active_id}
                aria-describedby="template-help" autocomplete="off"
                value={(*filter).clone()} {oninput} {onkeydown} />
            <p id="template-help" class="muted">
                { tr(&i18n, "1 à 9 : insérer ce modèle · Entrée : le premier · Échap : fermer",
                     "1 to 9: insert that template · Enter: the first one · Esc: close") }
            </p>
            <ul id="template-list" role="listbox"
                aria-label={tr(&i18n, "Modèles de réponse", "Reply templates")}>
                { for options }
            </ul>
            if let Some(status) = status {
                <p class="muted" role="status">{ status }</p>
            }
            if empty {
                <p class="muted" role="status">
                    { tr(&i18n, "Aucun modèle. Créez-en dans Modèles de réponse.",
                         "No template. Write some under Reply templates.") }
                </p>
            }
        </div>
    }
}

/// The variables' values for a conversation: the patient's names, their next appointment with
/// this doctor (in the doctor's language and time zone), the doctor's name.
pub fn values_for(c: &ConversationSummary, appointments: &[Appointment], lang: Lang) -> Values {
    let (first_name, last_name) = split_name(&c.patient.display_name);
    let (next, _) = next_and_last(appointments, c.patient.id, crate::time::now());
    Values {
        first_name,
        last_name,
        appointment: next.map(|a| crate::time::date_time(a.starts_at, lang)),
        doctor: Some(c.doctor.display_name.clone()),
    }
}
