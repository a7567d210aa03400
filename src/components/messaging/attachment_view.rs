//! A message's files in the thread, and opening a stored file. The routes need the bearer
//! token, so nothing points at them directly: a thumbnail or a file is fetched as a `Blob`
//! ([`crate::services::attachments`]) and shown through an object URL, revoked when the view
//! goes. An image opens in a full-screen viewer; any other file (a PDF, an HEIC the browser
//! may not show) is handed to the device as a download, which a phone opens in its viewer.

use super::attach::format_size;
use crate::components::error_view::error_text;
use crate::i18n::{I18n, Key, use_i18n};
use crate::services::Api;
use crate::services::attachments::{Canceller, ObjectUrl, UploadError, fetch_file};
use crate::session::use_session;
use colloque_protocol::{AttachmentMeta, AttachmentType};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// A message's files (thumbnails for photos, a row for the rest) and, while it is pending, the
/// names of those it still waits for. A plain function: a component costs the first load more.
pub fn message_files(i18n: &I18n, attachments: &[AttachmentMeta], awaiting: &[String]) -> Html {
    let files = attachments.iter().map(|meta| {
        html! { <li key={meta.id.to_string()}><FileButton meta={meta.clone()} /></li> }
    });
    let awaiting = awaiting.iter().map(|name| {
        html! {
            <li class="muted" data-testid="file-awaiting">{ i18n.tf(Key::FileWaiting, &[name]) }</li>
        }
    });
    html! {
        <ul class="message-files" data-testid="message-files">{ for files }{ for awaiting }</ul>
    }
}

/// Props of [`FileButton`].
#[derive(Properties, PartialEq)]
pub struct FileButtonProps {
    /// The file.
    pub meta: AttachmentMeta,
    /// Show a plain row even for a photo with a thumbnail (the Documents table).
    #[prop_or_default]
    pub row_only: bool,
}

/// One file: its thumbnail (a photo) or its icon, name and size; pressing it opens the file.
#[component]
pub fn FileButton(props: &FileButtonProps) -> Html {
    let i18n = use_i18n();
    let api = use_session().api();
    let meta = &props.meta;
    let thumb = use_state(|| None::<Rc<ObjectUrl>>);
    // The full image, while the viewer is open.
    let viewer = use_state(|| None::<Rc<ObjectUrl>>);
    let busy = use_state(|| false);
    let error = use_state(|| None::<crate::services::Error>);
    let with_thumb = meta.has_thumbnail && !props.row_only;
    {
        let (thumb, api, id) = (thumb.clone(), api.clone(), meta.id);
        use_effect_with((id, with_thumb), move |&(id, with_thumb)| {
            let cancel = Canceller::default();
            if with_thumb {
                let cancel = cancel.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(url) = fetch_file(&api, id, true, &cancel).await {
                        thumb.set(Some(Rc::new(url)));
                    }
                });
            }
            move || cancel.cancel()
        });
    }
    let image = matches!(
        meta.content_type,
        AttachmentType::Jpeg | AttachmentType::Png
    );
    let onclick = {
        let (api, meta) = (api.clone(), meta.clone());
        let (viewer, busy, error) = (viewer.clone(), busy.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            open(&api, &meta, image, &viewer, &busy, &error);
        })
    };
    let face = match &*thumb {
        Some(url) => {
            html! { <img src={url.as_str().to_owned()} alt={meta.name.clone()} data-testid="file-thumbnail" /> }
        }
        None => {
            // The type in letters, not an emoji (a phone without an emoji font shows a box).
            let badge = match meta.content_type {
                AttachmentType::Pdf => "PDF",
                AttachmentType::Jpeg => "JPG",
                AttachmentType::Png => "PNG",
                AttachmentType::Heic | AttachmentType::Heif => "HEIC",
            };
            html! {
                <>
                    <span class="file-kind" aria-hidden="true">{ badge }</span>
                    <span class="file-name">{ meta.name.clone() }</span>
                    <span class="muted">{ format!(" · {}", format_size(meta.size, i18n.lang)) }</span>
                </>
            }
        }
    };
    let close = {
        let viewer = viewer.clone();
        Callback::from(move |_: MouseEvent| viewer.set(None))
    };
    // The viewer takes the focus on its Close button, and Escape closes it.
    let close_ref = use_node_ref();
    {
        let close_ref = close_ref.clone();
        use_effect_with(viewer.is_some(), move |open| {
            if *open && let Some(button) = close_ref.cast::<web_sys::HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let onkeydown = {
        let viewer = viewer.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                viewer.set(None);
            }
        })
    };
    html! {
        <>
            <button type="button" class={classes!("secondary", "file-row")} data-testid="file-open"
                data-kind={meta.content_type.mime()} aria-busy={busy.then_some("true")}
                {onclick}>
                // Its name is what it shows, after "Ouvrir": the words seen are the words heard.
                <span class="visually-hidden">{ format!("{} ", i18n.t(Key::OpenFile)) }</span>
                { face }
            </button>
            if let Some(e) = &*error {
                <p class="failed-reason" role="alert">{ error_text(&i18n, e) }</p>
            }
            if let Some(url) = &*viewer {
                <div class="image-viewer" role="dialog" aria-modal="true" aria-label={meta.name.clone()}
                    data-testid="image-viewer" {onkeydown}>
                    <img src={url.as_str().to_owned()} alt={meta.name.clone()} />
                    <button type="button" ref={close_ref} onclick={close}>{ i18n.t(Key::CloseViewer) }</button>
                </div>
            }
        </>
    }
}

/// Fetches a file and opens it: an image in the viewer, anything else as a download.
fn open(
    api: &Api,
    meta: &AttachmentMeta,
    image: bool,
    viewer: &UseStateHandle<Option<Rc<ObjectUrl>>>,
    busy: &UseStateHandle<bool>,
    error: &UseStateHandle<Option<crate::services::Error>>,
) {
    let (api, meta) = (api.clone(), meta.clone());
    let (viewer, busy, error) = (viewer.clone(), busy.clone(), error.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let result = fetch_file(&api, meta.id, false, &Canceller::default()).await;
        busy.set(false);
        match result {
            Ok(url) if image => viewer.set(Some(Rc::new(url))),
            Ok(url) => download(url, &meta.name),
            Err(UploadError::Failed(e)) => error.set(Some(e)),
            Err(UploadError::Cancelled) => {}
        }
    });
}

/// Hands a fetched file to the device as a download named `name`. The object URL is revoked
/// a minute later, once the browser has taken the bytes.
fn download(url: ObjectUrl, name: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(anchor) = document
        .create_element("a")
        .map(|a| a.unchecked_into::<web_sys::HtmlAnchorElement>())
    else {
        return;
    };
    anchor.set_href(url.as_str());
    anchor.set_download(name);
    anchor.set_attribute("data-testid", "file-download").ok();
    anchor.click();
    gloo_timers::callback::Timeout::new(60_000, move || drop(url)).forget();
}

/// The files' words for a Documents row: "Document PDF" or "Photo".
pub fn kind_words(i18n: &I18n, kind: AttachmentType) -> &'static str {
    match kind {
        AttachmentType::Pdf => i18n.t(Key::FileKindPdf),
        _ => i18n.t(Key::FileKindImage),
    }
}
