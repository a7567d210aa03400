//! One conversation: header, messages, composer. The same component for doctors and patients.

use super::message_list::MessageList;
use super::red_flag_screen::RedFlagScreen;
use super::triage_bar::{TriageBar, blocked_notice, closed_notice};
use crate::components::documents::DocumentList;
use crate::components::error_view::{Loading, error_view};
use crate::hooks::use_attachments::use_attachments;
use crate::hooks::use_messaging::LoadState;
use crate::hooks::{SecureMessagingHandle, use_secure_messaging};
use crate::i18n::{Key, use_i18n};
use crate::red_flags::{Emergency, red_flag};
use crate::route::inbox_route;
use crate::router::{route_link, use_navigator};
use crate::session::use_session;
#[cfg(feature = "second-build")]
use colloque_protocol::TemplateId;
use colloque_protocol::{
    ApiError, ConversationId, ConversationStatus, ConversationSummary, ErrorCode,
    MAX_MESSAGE_CHARS, UserProfile,
};
use std::rc::Rc;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// The counter appears once a message reaches this share of the limit.
const COUNTER_FROM: usize = MAX_MESSAGE_CHARS * 9 / 10;

/// Props of [`SecureMessaging`].
#[derive(Properties, PartialEq)]
pub struct SecureMessagingProps {
    /// The conversation to show.
    pub conversation_id: ConversationId,
    /// Shows a "back to the list" link (phones, where list and conversation alternate).
    #[prop_or_default]
    pub show_back: bool,
}

/// One conversation.
#[component]
pub fn SecureMessaging(props: &SecureMessagingProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let navigator = use_navigator();
    let conv = use_secure_messaging(props.conversation_id);
    // The conversation's Documents instead of its messages.
    let documents = use_state(|| false);
    // Its look is in static/app.css, under `.secure-messaging`.
    let style = "secure-messaging";

    let me = conv.me;
    let other: Option<UserProfile> = conv.conversation.as_ref().map(|c| {
        if Some(c.doctor.id) == me {
            c.patient.clone()
        } else {
            c.doctor.clone()
        }
    });
    let back = props.show_back.then(|| {
        session.role().map(|role| {
            let text = html! { i18n.t(Key::BackToList) };
            route_link(
                &navigator,
                inbox_route(role),
                Some("back-link"),
                false,
                text,
            )
        })
    });

    // The conversation is unknown once the list has loaded without it.
    if conv.conversation.is_none() && conv.list == LoadState::Loaded {
        let error =
            crate::services::Error::Api(ApiError::new(ErrorCode::NotFound, "unknown conversation"));
        return html! { <section class={style}>{ for back.flatten() }{ error_view(&i18n, &error, None) }</section> };
    }
    let name = other
        .as_ref()
        .map(|o| o.display_name.clone())
        .unwrap_or_default();
    let closed = conv
        .conversation
        .as_ref()
        .is_some_and(|c| c.status == ConversationStatus::Closed);
    let for_doctor = conv
        .conversation
        .as_ref()
        .is_some_and(|c| Some(c.doctor.id) == me);
    // The doctor blocked this patient: no composer for them (the doctor still writes).
    let blocked = !for_doctor && conv.conversation.as_ref().is_some_and(|c| c.blocked);

    let load_error = match &conv.latest {
        LoadState::Failed(error) => {
            let retry = {
                let conv = conv.clone();
                Callback::from(move |()| conv.reload())
            };
            Some(error_view(&i18n, error, Some(&retry)))
        }
        _ => None,
    };
    // Messages still waiting in the outbox are shown even when the history cannot be loaded
    // (offline after a reload): a worried patient must see that nothing was lost, and may
    // keep writing — the outbox sends it all when the server is back.
    let show_list = conv.latest == LoadState::Loaded || !conv.items.is_empty();
    let body = if show_list {
        html! { <>{ for load_error }<MessageList key={conv.id.0} conv={conv.clone()} name={name.clone()} /></> }
    } else if let Some(error) = load_error {
        error
    } else {
        html! { <Loading /> }
    };

    let tab = |key: Key, docs: bool| {
        let pressed = (*documents == docs).to_string();
        let documents = documents.clone();
        let onclick = Callback::from(move |_: MouseEvent| documents.set(docs));
        html! {
            <button type="button" class="secondary" aria-pressed={pressed}
                data-testid={if docs { "show-documents" } else { "show-messages" }} {onclick}>
                { i18n.t(key) }
            </button>
        }
    };
    html! {
        <section class={style} aria-labelledby="conversation-title">
            { for back.flatten() }
            <header>
                <h2 id="conversation-title">{ name.clone() }</h2>
                if let Some(c) = &conv.conversation {
                    <p class="muted">{ c.subject.clone() }</p>
                    <TriageBar conversation={c.clone()} for_doctor={for_doctor} />
                }
                <div class="conversation-tabs">{ tab(Key::ShowMessages, false) }{ tab(Key::Documents, true) }</div>
            </header>
            if *documents {
                <DocumentList conversation={Some(conv.id)} />
            } else {
                { body }
                if conv.writing && !closed {
                    <p class="muted writing" data-testid="writing">{ i18n.tf(Key::Writing, &[&name]) }</p>
                }
            }
            // Hidden, not removed, while the Documents show: the files being uploaded and the
            // text being written stay.
            <div hidden={*documents}>
            if let (true, Some(c)) = (closed, &conv.conversation) {
                { closed_notice(&i18n, c, for_doctor) }
            } else if let (true, Some(c)) = (blocked, &conv.conversation) {
                { blocked_notice(&i18n, c) }
            } else if show_list {
                if let (false, Some(c)) = (for_doctor, &conv.conversation) {
                    { reply_outlook(&i18n, c) }
                }
                <Composer conv={conv.clone()} />
            }
            </div>
        </section>
    }
}

/// What the patient reads above the composer (issue 12): the doctor's absence today, with who
/// covers, and when an answer is due at the latest, in the patient's own time zone.
fn reply_outlook(i18n: &crate::i18n::I18n, c: &ConversationSummary) -> Html {
    let absence = c.absence.as_ref().map(|absence| {
        let until = crate::time::civil_day(&absence.until, i18n.lang);
        let covering = absence
            .covering_doctor
            .as_ref()
            .map(|name| format!(" {}", i18n.tf(Key::AbsenceCovering, &[name])));
        html! {
            <p class="notice" role="note" data-testid="absence-notice">
                { i18n.tf(Key::AbsenceNotice, &[&c.doctor.display_name, &until]) }{ for covering }
            </p>
        }
    });
    let due = c.reply_due.map(|due| {
        html! {
            <p class="muted" data-testid="reply-due">
                { i18n.tf(Key::ReplyDue, &[&crate::time::date_time(due, i18n.lang)]) }
            </p>
        }
    });
    html! { <>{ for absence }{ for due }</> }
}

#[derive(Properties, PartialEq)]
struct ComposerProps {
    conv: SecureMessagingHandle,
}

#[component]
fn Composer(props: &ComposerProps) -> Html {
    let i18n = use_i18n();
    // What was being written here when the composer last went away (another conversation
    // opened, another page), in this tab: a reply is not lost to a look elsewhere.
    let text = use_state(|| props.conv.draft().0);
    // The latest text, readable by the key handler between renders.
    let latest = use_mut_ref(|| (*text).clone());
    // The red-flag screen, while it is shown: what the text may describe.
    let flagged = use_state(|| None::<Emergency>);
    let input = use_node_ref();
    // The files picked for this message, uploading as the text is written.
    let files = use_attachments();
    let chars = text.chars().count();
    let over = chars > MAX_MESSAGE_CHARS;
    let blank = text.trim().is_empty();
    // Only a patient's message is checked (docs/care.md, "Red flags").
    let from_patient = props
        .conv
        .conversation
        .as_ref()
        .is_some_and(|c| Some(c.patient.id) == props.conv.me);
    // The reply template the text came from, and its variables still without a value: not
    // sent until the doctor replaced them. The second build only: the first load has none.
    #[cfg(feature = "second-build")]
    let template = use_state(|| props.conv.draft().1);
    #[cfg(feature = "second-build")]
    let picker = use_state(|| false);
    #[cfg(feature = "second-build")]
    let unfilled = template
        .map(|_| crate::templates::unfilled(&text))
        .unwrap_or_default();
    #[cfg(not(feature = "second-build"))]
    let unfilled: [&str; 0] = [];
    {
        // Kept as it changes, with the template it came from (its variables stay checked).
        let conv = props.conv.clone();
        #[cfg(feature = "second-build")]
        let cited = *template;
        #[cfg(not(feature = "second-build"))]
        let cited = None;
        use_effect_with(((*text).clone(), cited), move |(text, cited)| {
            conv.keep_draft(text, *cited)
        });
    }

    {
        // The text of a message cancelled while it waited for its file comes back here, before
        // anything written since, and the field takes the focus (the button went with the
        // message).
        let conv = props.conv.clone();
        let (text, latest, input) = (text.clone(), Rc::clone(&latest), input.clone());
        use_effect_with(props.conv.returned(), move |returned| {
            if let Some(back) = returned {
                let mut value = back.clone();
                let written = latest.borrow().clone();
                if !written.trim().is_empty() {
                    value.push_str("\n\n");
                    value.push_str(&written);
                }
                latest.borrow_mut().clone_from(&value);
                text.set(value);
                conv.take_returned();
                if let Some(field) = input.cast::<web_sys::HtmlElement>() {
                    let _ = field.focus();
                }
            }
        });
    }
    // Sends the text (`urgent`: past the red-flag screen) and empties the composer.
    let send = {
        let conv = props.conv.clone();
        let files = files.clone();
        let text = text.clone();
        let latest = Rc::clone(&latest);
        #[cfg(feature = "second-build")]
        let template = template.clone();
        Rc::new(move |urgent: bool| {
            let body = latest.borrow().clone();
            #[cfg(feature = "second-build")]
            let cited = *template;
            #[cfg(not(feature = "second-build"))]
            let cited = None;
            // Uploaded files go by id; ones still uploading hold the message back (in the
            // outbox) until they are done: Send never waits on the composer.
            if let Some(client_id) = conv.send_with_files(&body, urgent, cited, files.files()) {
                files.sent(client_id);
                latest.borrow_mut().clear();
                text.set(String::new());
                #[cfg(feature = "second-build")]
                template.set(None);
            }
        })
    };
    let submit = {
        let send = Rc::clone(&send);
        let latest = Rc::clone(&latest);
        let flagged = flagged.clone();
        #[cfg(feature = "second-build")]
        let template = template.clone();
        Rc::new(move || {
            let body = latest.borrow().clone();
            if body.chars().count() > MAX_MESSAGE_CHARS || body.trim().is_empty() {
                return;
            }
            #[cfg(feature = "second-build")]
            if template.is_some() && !crate::templates::unfilled(&body).is_empty() {
                return;
            }
            match red_flag(&body).filter(|_| from_patient) {
                Some(emergency) => flagged.set(Some(emergency)),
                None => send(false),
            }
        })
    };
    let screen = flagged.map(|emergency| {
        let on_edit = {
            let (flagged, input) = (flagged.clone(), input.clone());
            Callback::from(move |()| {
                flagged.set(None);
                if let Some(input) = input.cast::<web_sys::HtmlElement>() {
                    let _ = input.focus();
                }
            })
        };
        let on_send = {
            let (flagged, send) = (flagged.clone(), Rc::clone(&send));
            Callback::from(move |()| {
                flagged.set(None);
                send(true);
            })
        };
        html! { <RedFlagScreen {emergency} {on_edit} {on_send} /> }
    });
    let oninput = {
        let text = text.clone();
        let conv = props.conv.clone();
        let latest = Rc::clone(&latest);
        #[cfg(feature = "second-build")]
        let template = template.clone();
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            // An emptied composer no longer holds the template's text.
            #[cfg(feature = "second-build")]
            if value.trim().is_empty() {
                template.set(None);
            }
            if !value.trim().is_empty() {
                conv.typing();
            }
            *latest.borrow_mut() = value.clone();
            text.set(value);
        })
    };
    let onkeydown = {
        let submit = Rc::clone(&submit);
        #[cfg(feature = "second-build")]
        let (picker, latest, for_doctor) = (picker.clone(), Rc::clone(&latest), !from_patient);
        Callback::from(move |e: KeyboardEvent| {
            #[cfg(feature = "second-build")]
            if for_doctor && super::template_picker::opens_picker(&e, &latest.borrow()) {
                e.prevent_default();
                picker.set(true);
                return;
            }
            if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
                e.prevent_default();
                submit();
            }
        })
    };
    let onsubmit = {
        let submit = Rc::clone(&submit);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            submit();
        })
    };
    let counter = (chars >= COUNTER_FROM).then(|| {
        let count = chars.to_string();
        let max = MAX_MESSAGE_CHARS.to_string();
        html! {
            <span id="composer-counter" class={classes!("counter", over.then_some("over"))} aria-live="polite">
                { i18n.tf(Key::CharCounter, &[&count, &max]) }
            </span>
        }
    });
    #[cfg(feature = "second-build")]
    let templates = template_controls(
        &i18n,
        &props.conv,
        &picker,
        &template,
        (&text, &latest),
        &input,
        !from_patient,
    );
    #[cfg(not(feature = "second-build"))]
    let templates = (Html::default(), Html::default());
    #[cfg(feature = "second-build")]
    let missing = (!unfilled.is_empty()).then(|| {
        use super::template_picker::tr;
        let names: Vec<String> = unfilled.iter().map(|v| format!("{{{v}}}")).collect();
        let words = tr(
            &i18n,
            "Sans valeur pour ce patient : {}. Remplacez-la avant d’envoyer.",
            "No value for this patient: {}. Replace it before sending.",
        );
        html! {
            <p class="notice" role="alert" data-testid="template-missing">
                { words.replace("{}", &names.join(", ")) }
            </p>
        }
    });
    #[cfg(not(feature = "second-build"))]
    let missing: Option<Html> = None;
    let has_files = !files.chips.list.is_empty();
    let lost = props.conv.lost_files();
    let lost = (!lost.is_empty()).then(|| {
        let dismiss = {
            let conv = props.conv.clone();
            Callback::from(move |_: MouseEvent| conv.messaging().dismiss_lost_files(conv.id))
        };
        html! {
            <div class="notice" role="alert" data-testid="files-lost">
                <p>{ i18n.tf(Key::FilesLost, &[&lost.join(", ")]) }</p>
                <button type="button" class="secondary" onclick={dismiss}>{ i18n.t(Key::OutboxNoticeOk) }</button>
            </div>
        }
    });
    // A file alone is not sent: the server requires a text, and a word ("voici la photo de
    // mon bras") tells the doctor what to look at (docs/attachments.md, "The app").
    let file_hint = if has_files && blank {
        Some(html! { <p class="muted" data-testid="add-a-word">{ i18n.t(Key::AddAWord) }</p> })
    } else if files.uploading() {
        Some(html! { <p class="muted" data-testid="files-wait">{ i18n.t(Key::FilesWaitNote) }</p> })
    } else {
        None
    };
    html! {
        <form class="composer" {onsubmit}>
            { for screen }
            <div class="composer-notices">{ for lost }</div>
            { templates.0 }
            <label for="composer-input" class="visually-hidden">{ i18n.t(Key::ComposerLabel) }</label>
            <textarea id="composer-input" data-testid="composer-input" ref={input} value={(*text).clone()}
                aria-label={i18n.t(Key::ComposerLabel)} aria-describedby="composer-hint"
                aria-invalid={over.then_some("true")} {oninput} {onkeydown} rows="3" />
            { for missing }
            // One element whatever the files: the text field beside it is never rebuilt (it
            // was, losing the focus mid-word, when the hint came and went as loose siblings).
            <div class="composer-files">
                { super::attach::chips(&i18n, &files) }
                { for file_hint }
                { super::attach::pickers(&i18n, &files) }
            </div>
            <div class="composer-row">
                <span id="composer-hint" class="muted">{ i18n.t(Key::ComposerHint) }</span>
                { for counter }
                { templates.1 }
                <button type="submit" data-testid="composer-send" disabled={blank || over || !unfilled.is_empty()}>
                    { i18n.t(Key::Send) }
                </button>
            </div>
        </form>
    }
}

/// The doctor's template controls: the picker while open (above the composer) and the button
/// that opens it (beside "Send"). Inserting a template replaces the text with the filled one and
/// gives the focus back to the composer.
#[cfg(feature = "second-build")]
fn template_controls(
    i18n: &crate::i18n::I18n,
    conv: &SecureMessagingHandle,
    picker: &UseStateHandle<bool>,
    template: &UseStateHandle<Option<TemplateId>>,
    (text, latest): (&UseStateHandle<String>, &Rc<std::cell::RefCell<String>>),
    input: &NodeRef,
    for_doctor: bool,
) -> (Html, Html) {
    use super::template_picker::{TemplatePicker, tr};
    let Some(conversation) = conv.conversation.clone().filter(|_| for_doctor) else {
        return (Html::default(), Html::default());
    };
    let focus = {
        let input = input.clone();
        move || {
            if let Some(input) = input.cast::<web_sys::HtmlElement>() {
                let _ = input.focus();
            }
        }
    };
    let on_pick = {
        let (picker, template, text, latest) = (
            picker.clone(),
            template.clone(),
            text.clone(),
            Rc::clone(latest),
        );
        let focus = focus.clone();
        Callback::from(
            move |(id, filled): (TemplateId, crate::templates::Filled)| {
                *latest.borrow_mut() = filled.text.clone();
                text.set(filled.text);
                template.set(Some(id));
                picker.set(false);
                focus();
            },
        )
    };
    let on_close = {
        let picker = picker.clone();
        Callback::from(move |()| {
            picker.set(false);
            focus();
        })
    };
    let open = {
        let picker = picker.clone();
        Callback::from(move |_: MouseEvent| picker.set(!*picker))
    };
    let shown =
        (**picker).then(|| html! { <TemplatePicker {conversation} {on_pick} {on_close} /> });
    let button = html! {
        <button type="button" class="secondary" data-testid="template-button" onclick={open}
            aria-haspopup="listbox" aria-expanded={if **picker { "true" } else { "false" }}
            aria-keyshortcuts="/ Alt+T">
            { tr(i18n, "Modèles", "Templates") }
        </button>
    };
    (html! { <>{ for shown }</> }, button)
}
