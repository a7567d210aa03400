//! The Documents view (issue 13): every file sent in one conversation, or in all of the
//! user's, newest first, a page at a time. Each row opens its file and says its type, size,
//! date and who sent it. The same component for patients and doctors.

use crate::components::error_view::{Loading, error_view};
use crate::components::messaging::attachment_view::{FileButton, kind_words};
use crate::hooks::use_messaging;
use crate::i18n::{Key, use_i18n};
use crate::services::Error;
use crate::services::attachments::{conversation_documents, my_documents};
use crate::session::use_session;
use colloque_protocol::{ConversationId, Document, UserId};
use yew::prelude::*;

/// Props of [`DocumentList`].
#[derive(Properties, PartialEq)]
pub struct DocumentListProps {
    /// One conversation's documents; every conversation's when `None`.
    #[prop_or_default]
    pub conversation: Option<ConversationId>,
    /// Headed "Mes documents" (the page of every conversation's documents).
    #[prop_or_default]
    pub page: bool,
}

/// What the list holds.
#[derive(Clone, PartialEq, Default)]
struct Pages {
    documents: Vec<Document>,
    has_more: bool,
    loading: bool,
    error: Option<Error>,
    loaded: bool,
}

/// The documents, newest first, with "older documents" while there are more.
#[component]
pub fn DocumentList(props: &DocumentListProps) -> Html {
    let i18n = use_i18n();
    let session = use_session();
    let messaging = use_messaging();
    let pages = use_state(Pages::default);
    let load = {
        let (pages, api, conversation) = (pages.clone(), session.api(), props.conversation);
        let session = session.clone();
        Callback::from(move |before: Option<i64>| {
            let mut next = (*pages).clone();
            next.loading = true;
            next.error = None;
            pages.set(next.clone());
            let (pages, api, session) = (pages.clone(), api.clone(), session.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = match conversation {
                    Some(id) => conversation_documents(&api, id, before).await,
                    None => my_documents(&api, before).await,
                };
                next.loading = false;
                next.loaded = true;
                match result {
                    Ok(page) => {
                        next.documents.extend(page.documents);
                        next.has_more = page.has_more;
                    }
                    Err(e) => {
                        // As every page's data (`use_fetch`): a session refused even after a
                        // renewal is over.
                        if e.code() == Some(colloque_protocol::ErrorCode::Unauthorized) {
                            session.expire();
                        }
                        next.error = Some(e);
                    }
                }
                pages.set(next);
            });
        })
    };
    {
        let load = load.clone();
        use_effect_with(props.conversation, move |_| load.emit(None));
    }
    let heading = props
        .page
        .then(|| html! { <h1>{ i18n.t(Key::MyDocuments) }</h1> });
    if !pages.loaded {
        return html! { <>{ for heading }<Loading /></> };
    }
    let me = messaging.me;
    let all = props.conversation.is_none();
    // Who sent it: "Envoyé par vous" (to whom, on the page of every conversation's documents),
    // or "Envoyé par" the other participant of its conversation.
    let sent_by = |author: UserId, conversation: ConversationId| -> String {
        let c = messaging.conversations.get(&conversation);
        if Some(author) == me {
            return match c {
                Some(c) if all => {
                    let other = &messaging.other_party(c).display_name;
                    i18n.tf(Key::DocSentByYouTo, &[other.as_str()])
                }
                _ => i18n.t(Key::DocSentByYou).to_owned(),
            };
        }
        let name = c
            .map(|c| {
                if c.doctor.id == author {
                    c.doctor.display_name.clone()
                } else {
                    c.patient.display_name.clone()
                }
            })
            .unwrap_or_default();
        format!("{} {name}", i18n.t(Key::DocAuthor))
    };
    let rows = pages.documents.iter().map(|d| {
        let meta = &d.attachment;
        let details = [
            // The size is on the file's button.
            kind_words(&i18n, meta.content_type).to_owned(),
            crate::time::date_time(d.sent_at, i18n.lang),
            sent_by(d.author_id, d.conversation_id),
        ]
        .join(" · ");
        html! {
            <li key={meta.id.to_string()} data-testid="document" data-kind={meta.content_type.mime()}>
                <FileButton meta={meta.clone()} row_only=true />
                <p class="muted">{ details }</p>
            </li>
        }
    });
    let older = pages.has_more.then(|| {
        let before = pages.documents.last().map(|d| d.position);
        let load = load.clone();
        let onclick = Callback::from(move |_: MouseEvent| load.emit(before));
        html! {
            <button type="button" class="secondary" disabled={pages.loading} {onclick}>
                { i18n.t(Key::DocumentsMore) }
            </button>
        }
    });
    let retry = {
        let load = load.clone();
        let before = pages.documents.last().map(|d| d.position);
        Callback::from(move |()| load.emit(before))
    };
    html! {
        <div class="documents" data-testid="documents">
            { for heading }
            if pages.documents.is_empty() && pages.error.is_none() {
                <p class="muted">{ i18n.t(Key::DocumentsEmpty) }</p>
            }
            <ul class="message-files">{ for rows }</ul>
            if let Some(e) = &pages.error {
                { error_view(&i18n, e, Some(&retry)) }
            }
            { for older }
        </div>
    }
}
