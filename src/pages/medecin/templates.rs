//! "Modèles de réponse" (issue 12): the doctor's reply templates — write, edit, delete, share
//! with every doctor — and the shared ones of their colleagues, which only their authors
//! change. Its words are here, not in the shared translation table: this is the second build
//! only (as the office hours' section).

use crate::components::error_view::{error_text, fetch_view};
use crate::components::messaging::template_picker::tr;
use crate::hooks::{FetchState, use_fetch};
use crate::i18n::use_i18n;
use crate::services::{Error, templates};
use crate::session::use_session;
use colloque_protocol::{
    MAX_TEMPLATE_BODY_CHARS, MAX_TEMPLATE_TITLE_CHARS, ReplyTemplate, TEMPLATE_VARIABLES,
    TemplateId, TemplateRequest,
};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// The page.
#[component]
pub fn Templates() -> Html {
    let i18n = use_i18n();
    let loaded = use_fetch(async |api| templates::get_templates(&api).await);
    let render = {
        let state = loaded.state.clone();
        Callback::from(move |list: Vec<ReplyTemplate>| {
            html! { <TemplatesEditor {list} state={state.clone()} /> }
        })
    };
    let variables: Vec<String> = TEMPLATE_VARIABLES
        .iter()
        .map(|v| format!("{{{v}}}"))
        .collect();
    html! {
        <>
            <h1>{ tr(&i18n, "Modèles de réponse", "Reply templates") }</h1>
            <p class="muted">
                { tr(&i18n, "Dans la messagerie, tapez / dans un message vide (ou Alt+T), puis le numéro du modèle. Variables remplacées avant l’envoi : ",
                     "In a conversation, type / in an empty message (or Alt+T), then the template’s number. Variables filled before sending: ") }
                <code>{ variables.join(" ") }</code>
            </p>
            { fetch_view(&i18n, &loaded.state, &render, &loaded.reload) }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct EditorProps {
    list: Vec<ReplyTemplate>,
    /// The page's data: updated after each change.
    state: UseStateHandle<FetchState<Vec<ReplyTemplate>>>,
}

/// What the form holds: a new template, or one being edited.
#[derive(Clone, Default, PartialEq)]
struct Draft {
    editing: Option<TemplateId>,
    title: String,
    body: String,
    shared: bool,
}

#[component]
fn TemplatesEditor(props: &EditorProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let me = session.user().map(|u| u.id);
    let draft = use_state(Draft::default);
    let outcome = use_state(|| None::<Result<&'static str, Error>>);
    let busy = use_state(|| false);

    // After a change, the list is read again (a shared template of a colleague may have come).
    let done = {
        let (state, outcome, busy, draft, api) = (
            props.state.clone(),
            outcome.clone(),
            busy.clone(),
            draft.clone(),
            session.api(),
        );
        move |answer: Result<&'static str, Error>| {
            let (state, outcome, busy, draft, api) = (
                state.clone(),
                outcome.clone(),
                busy.clone(),
                draft.clone(),
                api.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                if answer.is_ok() {
                    draft.set(Draft::default());
                    if let Ok(list) = templates::get_templates(&api).await {
                        state.set(FetchState::Ready(list));
                    }
                }
                busy.set(false);
                outcome.set(Some(answer));
            });
        }
    };
    let on_save = {
        let (draft, busy, api, done) = (draft.clone(), busy.clone(), session.api(), done.clone());
        let saved = tr(&i18n, "Modèle enregistré.", "Template saved.");
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let request = TemplateRequest {
                title: draft.title.clone(),
                body: draft.body.clone(),
                shared: draft.shared,
            };
            let (api, editing, done) = (api.clone(), draft.editing, done.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let answer = match editing {
                    Some(id) => templates::update_template(&api, id, &request).await,
                    None => templates::create_template(&api, &request).await,
                };
                done(answer.map(|_| saved));
            });
        })
    };
    let edit = |template: &ReplyTemplate| {
        let (draft, outcome) = (draft.clone(), outcome.clone());
        let next = Draft {
            editing: Some(template.id),
            title: template.title.clone(),
            body: template.body.clone(),
            shared: template.shared,
        };
        Callback::from(move |_: MouseEvent| {
            outcome.set(None);
            draft.set(next.clone());
        })
    };
    let delete = |id: TemplateId| {
        let (busy, api, done) = (busy.clone(), session.api(), done.clone());
        let deleted = tr(&i18n, "Modèle supprimé.", "Template deleted.");
        Callback::from(move |_: MouseEvent| {
            let (api, done) = (api.clone(), done.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                done(templates::delete_template(&api, id).await.map(|()| deleted));
            });
        })
    };
    let on_title = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let title = e.target_unchecked_into::<HtmlInputElement>().value();
            draft.set(Draft {
                title,
                ..(*draft).clone()
            });
        })
    };
    let on_body = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            let body = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            draft.set(Draft {
                body,
                ..(*draft).clone()
            });
        })
    };
    let on_shared = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            let shared = e.target_unchecked_into::<HtmlInputElement>().checked();
            draft.set(Draft {
                shared,
                ..(*draft).clone()
            });
        })
    };
    let on_cancel = {
        let draft = draft.clone();
        Callback::from(move |_: MouseEvent| draft.set(Draft::default()))
    };
    let rows = props.list.iter().map(|t| {
        let mine = Some(t.owner.id) == me;
        let kind = match (t.shared, mine) {
            (false, _) => tr(&i18n, "personnel", "personal").to_owned(),
            (true, true) => tr(&i18n, "partagé", "shared").to_owned(),
            (true, false) => format!("{} {}", tr(&i18n, "partagé par", "shared by"), t.owner.display_name),
        };
        html! {
            <li key={t.id.0} data-testid="template-row">
                <h3>{ t.title.clone() }<span class="muted">{ " — " }{ kind }</span></h3>
                <p class="template-body">{ t.body.clone() }</p>
                if mine {
                    <div class="actions">
                        <button type="button" class="secondary" onclick={edit(t)} disabled={*busy}
                            aria-label={format!("{} : {}", tr(&i18n, "Modifier", "Edit"), t.title)}>
                            { tr(&i18n, "Modifier", "Edit") }
                        </button>
                        <button type="button" class="secondary" onclick={delete(t.id)} disabled={*busy}
                            aria-label={format!("{} : {}", tr(&i18n, "Supprimer", "Delete"), t.title)}>
                            { tr(&i18n, "Supprimer", "Delete") }
                        </button>
                    </div>
                }
            </li>
        }
    });
    let status = match &*outcome {
        Some(Ok(words)) => html! { <p role="status" data-testid="template-saved">{ *words }</p> },
        Some(Err(e)) => html! { <p class="notice" role="alert">{ error_text(&i18n, e) }</p> },
        None => Html::default(),
    };
    let heading = if draft.editing.is_some() {
        tr(&i18n, "Modifier le modèle", "Edit the template")
    } else {
        tr(&i18n, "Nouveau modèle", "New template")
    };
    html! {
        <>
            <section class="card" aria-labelledby="template-form-title">
                <h2 id="template-form-title">{ heading }</h2>
                <form onsubmit={on_save} data-testid="template-form">
                    <label for="template-title">{ tr(&i18n, "Titre", "Title") }</label>
                    <input id="template-title" data-testid="template-title" type="text" required=true
                        maxlength={MAX_TEMPLATE_TITLE_CHARS.to_string()} value={draft.title.clone()} oninput={on_title} />
                    <label for="template-text">{ tr(&i18n, "Texte", "Text") }</label>
                    <textarea id="template-text" data-testid="template-text" rows="5" required=true
                        maxlength={MAX_TEMPLATE_BODY_CHARS.to_string()} value={draft.body.clone()} oninput={on_body} />
                    <label class="check">
                        <input type="checkbox" data-testid="template-shared" checked={draft.shared} onchange={on_shared} />
                        { tr(&i18n, "Partager avec les autres médecins (eux seuls le voient ; vous seul le modifiez)",
                             "Share with the other doctors (only they see it; only you change it)") }
                    </label>
                    <div class="actions">
                        <button type="submit" data-testid="template-save" disabled={*busy}>
                            { tr(&i18n, "Enregistrer", "Save") }
                        </button>
                        if draft.editing.is_some() {
                            <button type="button" class="secondary" onclick={on_cancel}>
                                { tr(&i18n, "Annuler", "Cancel") }
                            </button>
                        }
                    </div>
                    { status }
                </form>
            </section>
            <section class="card" aria-labelledby="template-list-title">
                <h2 id="template-list-title">{ tr(&i18n, "Mes modèles et les modèles partagés", "My templates and the shared ones") }</h2>
                if props.list.is_empty() {
                    <p class="muted">{ tr(&i18n, "Aucun modèle pour l’instant.", "No template yet.") }</p>
                } else {
                    <ul class="template-rows">{ for rows }</ul>
                }
            </section>
        </>
    }
}
