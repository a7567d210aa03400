//! Attachments over the network (issue 13, docs/attachments.md): one file's upload with its
//! progress and a cancel, a stored file or thumbnail fetched as a `Blob` behind an object URL
//! (the routes need the bearer token, so an `<img src>` cannot point at them), and the
//! Documents lists.
//!
//! Uploads and downloads use `XMLHttpRequest`, not `fetch`: only it reports an upload's
//! progress. They are outside the 30 s limit of the other requests ([`super::requests`]): a
//! 10 MB photo over a poor phone link takes minutes, and the server has its own rate floor.
//! Like every request, a 401 gets one token renewal and one retry.

use super::requests::{Api, Error, code_for_status, decode, request};
use colloque_protocol::{
    ApiError, AttachmentId, AttachmentMeta, ConversationId, DocumentPage, ErrorCode,
};
use futures_channel::oneshot;
use gloo_net::http::Method;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Blob, ProgressEvent, XmlHttpRequest, XmlHttpRequestResponseType};

/// How an upload ended without a stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadError {
    /// The user cancelled it.
    Cancelled,
    /// The server refused it, or could not be reached.
    Failed(Error),
}

/// Cancels an upload (or a download) in flight: cheap to clone, safe to call at any time.
#[derive(Clone, Default)]
pub struct Canceller(Rc<RefCell<CancelState>>);

#[derive(Default)]
struct CancelState {
    cancelled: bool,
    xhr: Option<XmlHttpRequest>,
}

impl PartialEq for Canceller {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Canceller {
    /// Stops the request; the upload then ends with [`UploadError::Cancelled`].
    pub fn cancel(&self) {
        let xhr = {
            let mut state = self.0.borrow_mut();
            state.cancelled = true;
            state.xhr.take()
        };
        if let Some(xhr) = xhr {
            let _ = xhr.abort();
        }
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.borrow().cancelled
    }
}

/// `POST /api/attachments?name=…` with `file` as the body; `progress(sent, total)` as bytes
/// go out.
pub async fn upload(
    api: &Api,
    file: &web_sys::File,
    progress: Rc<dyn Fn(f64, f64)>,
    cancel: &Canceller,
) -> Result<AttachmentMeta, UploadError> {
    let name = file.name();
    let url = format!("{}?name={}", api.url("/attachments"), encode(&name));
    let answer = exchange(api, "POST", &url, Some(file), Some(progress), false, cancel).await?;
    match answer {
        (status, Answer::Text(text)) => decode(status, &text).map_err(UploadError::Failed),
        (status, Answer::Blob(_)) => Err(UploadError::Failed(status_error(status))),
    }
}

/// A stored file (`thumbnail`: its thumbnail) as a `Blob`, behind an object URL.
pub async fn fetch_file(
    api: &Api,
    id: AttachmentId,
    thumbnail: bool,
    cancel: &Canceller,
) -> Result<ObjectUrl, UploadError> {
    let path = if thumbnail {
        format!("/attachments/{id}/thumbnail")
    } else {
        format!("/attachments/{id}")
    };
    let url = api.url(&path);
    match exchange(api, "GET", &url, None, None, true, cancel).await? {
        (status, Answer::Blob(blob)) if (200..300).contains(&status) => {
            ObjectUrl::new(&blob).ok_or(UploadError::Failed(Error::Network))
        }
        (status, _) => Err(UploadError::Failed(status_error(status))),
    }
}

/// `GET /api/conversations/{id}/attachments`: a conversation's documents, newest first.
pub async fn conversation_documents(
    api: &Api,
    conversation: ConversationId,
    before: Option<i64>,
) -> Result<DocumentPage, Error> {
    let path = format!("/conversations/{conversation}/attachments");
    request::<(), _>(api, Method::GET, &path, &page_query(before), None).await
}

/// `GET /api/me/attachments`: the documents of every conversation of the user, newest first.
pub async fn my_documents(api: &Api, before: Option<i64>) -> Result<DocumentPage, Error> {
    request::<(), _>(
        api,
        Method::GET,
        "/me/attachments",
        &page_query(before),
        None,
    )
    .await
}

fn page_query(before: Option<i64>) -> Vec<(&'static str, String)> {
    before
        .map(|b| ("before", b.to_string()))
        .into_iter()
        .collect()
}

/// An object URL for a `Blob`, revoked when the last clone is dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct ObjectUrl(String);

impl ObjectUrl {
    fn new(blob: &Blob) -> Option<Self> {
        web_sys::Url::create_object_url_with_blob(blob)
            .ok()
            .map(ObjectUrl)
    }

    /// The `blob:` URL, for an `src` or an `href`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for ObjectUrl {
    fn drop(&mut self) {
        let _ = web_sys::Url::revoke_object_url(&self.0);
    }
}

fn status_error(status: u16) -> Error {
    Error::Api(ApiError::new(
        code_for_status(status),
        format!("HTTP {status}"),
    ))
}

/// A query value, percent-encoded (a file name may hold any character).
fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

enum Answer {
    Text(String),
    Blob(Blob),
}

/// One request, renewed once on a 401 like [`super::requests`]' exchanges.
async fn exchange(
    api: &Api,
    method: &str,
    url: &str,
    body: Option<&web_sys::File>,
    progress: Option<Rc<dyn Fn(f64, f64)>>,
    blob: bool,
    cancel: &Canceller,
) -> Result<(u16, Answer), UploadError> {
    let first = send(
        api.token(),
        method,
        url,
        body,
        progress.clone(),
        blob,
        cancel,
    )
    .await?;
    if first.0 != 401 {
        return Ok(first);
    }
    let (Some(stale), Some(renewer)) = (api.token(), api.renewer()) else {
        return Ok(first);
    };
    let Some(fresh) = renewer.0.renew(stale).await else {
        return Ok(first);
    };
    let again = send(Some(&fresh), method, url, body, progress, blob, cancel).await?;
    if again.0 == 401 {
        renewer.0.rejected(&fresh);
    }
    Ok(again)
}

/// The handlers of one request: dropped (with the request aborted if still running) when the
/// future is, so that no event calls a closure that is gone.
struct Handlers {
    xhr: XmlHttpRequest,
    _done: Closure<dyn FnMut()>,
    _progress: Option<Closure<dyn FnMut(ProgressEvent)>>,
    finished: bool,
}

impl Drop for Handlers {
    fn drop(&mut self) {
        self.xhr.set_onloadend(None);
        if let Ok(upload) = self.xhr.upload() {
            upload.set_onprogress(None);
        }
        if !self.finished {
            let _ = self.xhr.abort();
        }
    }
}

async fn send(
    token: Option<&str>,
    method: &str,
    url: &str,
    body: Option<&web_sys::File>,
    progress: Option<Rc<dyn Fn(f64, f64)>>,
    blob: bool,
    cancel: &Canceller,
) -> Result<(u16, Answer), UploadError> {
    if cancel.is_cancelled() {
        return Err(UploadError::Cancelled);
    }
    let network = || UploadError::Failed(Error::Network);
    let xhr = XmlHttpRequest::new().map_err(|_| network())?;
    xhr.open(method, url).map_err(|_| network())?;
    // As every request: the refresh cookie's rules (see `requests::send`).
    xhr.set_with_credentials(true);
    if let Some(token) = token {
        xhr.set_request_header("Authorization", &format!("Bearer {token}"))
            .map_err(|_| network())?;
    }
    if blob {
        xhr.set_response_type(XmlHttpRequestResponseType::Blob);
    } else {
        xhr.set_request_header("Accept", "application/json")
            .map_err(|_| network())?;
    }
    let (tx, rx) = oneshot::channel::<()>();
    let mut tx = Some(tx);
    // `loadend` comes once, after `load`, `error`, `abort` or `timeout`.
    let done = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = tx.take() {
            let _ = tx.send(());
        }
    });
    xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
    let progress = progress.map(|report| {
        Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() {
                report(e.loaded(), e.total());
            }
        })
    });
    if let (Some(progress), Ok(upload)) = (&progress, xhr.upload()) {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let mut handlers = Handlers {
        xhr: xhr.clone(),
        _done: done,
        _progress: progress,
        finished: false,
    };
    cancel.0.borrow_mut().xhr = Some(xhr.clone());
    let sent = match body {
        Some(file) => xhr.send_with_opt_blob(Some(file)),
        None => xhr.send(),
    };
    if sent.is_err() {
        return Err(network());
    }
    let _ = rx.await;
    handlers.finished = true;
    cancel.0.borrow_mut().xhr = None;
    if cancel.is_cancelled() {
        return Err(UploadError::Cancelled);
    }
    // Status 0: no answer (offline, refused connection, CORS, aborted).
    let status = xhr.status().unwrap_or(0);
    if status == 0 {
        return Err(network());
    }
    let answer = if blob {
        match xhr.response().ok().and_then(|r| r.dyn_into::<Blob>().ok()) {
            Some(blob) => Answer::Blob(blob),
            None => return Err(network()),
        }
    } else {
        Answer::Text(xhr.response_text().ok().flatten().unwrap_or_default())
    };
    Ok((status, answer))
}

/// Whether an upload's error is worth a retry as is (the network, a busy server) rather than
/// another file (a refused type, too large).
pub fn can_retry(error: &Error) -> bool {
    !matches!(
        error.code(),
        Some(ErrorCode::UnsupportedFileType | ErrorCode::FileTooLarge | ErrorCode::QuotaExceeded)
    )
}
