//! One generic typed request function. Every REST call goes through [`request`]: it builds the
//! URL from the configured base, adds the bearer token, and turns any non-2xx status into an
//! [`ApiError`] parsed from the body (or derived from the status when the body is not ours).
//! A 401 on a request that carried a token gets one renewal through the session's
//! [`Renewer`] and one retry; if that fails too the session is over.

use colloque_protocol::{API_PREFIX, ApiError, ErrorCode};
use futures_util::future::LocalBoxFuture;
use gloo_net::http::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::rc::Rc;

/// What a REST call can fail with. `Clone + PartialEq` so it can be a prop or live in state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The server answered with an error body (or an error status).
    #[error("{0}")]
    Api(ApiError),
    /// The server could not be reached (offline, DNS, CORS, connection reset).
    #[error("the server could not be reached")]
    Network,
}

impl Error {
    /// The error code to show a message for; a network failure reads as a transient one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api(e) => Some(e.code),
            Error::Network => None,
        }
    }

    /// True when retrying the same request cannot succeed.
    pub fn is_permanent(&self) -> bool {
        self.code().is_some_and(ErrorCode::is_permanent)
    }
}

/// What a request does when the server refuses its token: the session implements it.
pub trait Renewer {
    /// A token to retry with instead of `stale` (renewed once, however many requests ask at
    /// the same time), or `None` when the session is over (the renewer has ended it).
    fn renew(&self, stale: &str) -> LocalBoxFuture<'static, Option<Rc<str>>>;
    /// A freshly renewed token was refused too: the session is over.
    fn rejected(&self, token: &str);
}

/// A shared [`Renewer`]; compares by identity.
#[derive(Clone)]
pub struct RenewerRef(pub Rc<dyn Renewer>);

impl PartialEq for RenewerRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RenewerRef {}

impl fmt::Debug for RenewerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RenewerRef")
    }
}

/// Where to send requests and with which credentials. Cheap to clone.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Api {
    base: Rc<str>,
    token: Option<Rc<str>>,
    renewer: Option<RenewerRef>,
}

// Never print the token, even in a debug dump.
impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Api {
    /// An API client for `base` ("" for the page's own origin).
    pub fn new(base: &str, token: Option<&str>) -> Self {
        Self {
            base: base.trim_end_matches('/').into(),
            token: token.map(Into::into),
            renewer: None,
        }
    }

    /// The same client, renewing its token through `renewer` when the server refuses it.
    pub fn with_renewer(mut self, renewer: RenewerRef) -> Self {
        self.renewer = Some(renewer);
        self
    }

    /// The same client without renewal: for the renewal and logout calls themselves.
    pub fn without_renewer(mut self) -> Self {
        self.renewer = None;
        self
    }

    /// The bearer token, if logged in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// What renews its token, if anything (the attachments' XMLHttpRequests renew through it
    /// as [`request`] does).
    pub(crate) fn renewer(&self) -> Option<&RenewerRef> {
        self.renewer.as_ref()
    }

    /// The full URL of an API path such as `/conversations`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base)
    }
}

/// The error code a bare HTTP status stands for, when the body is not an [`ApiError`]
/// (a proxy's 502 page, for instance).
pub fn code_for_status(status: u16) -> ErrorCode {
    match status {
        400 | 422 => ErrorCode::InvalidInput,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::ConversationClosed,
        413 => ErrorCode::PayloadTooLarge,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::ServerBusy,
        500..=599 => ErrorCode::Internal,
        _ => ErrorCode::Unknown,
    }
}

/// Sends one request and decodes the answer. `body` is sent as JSON; `()` answers (204) decode
/// from an empty body. A 401 is retried once with a renewed token when the client has a
/// [`Renewer`].
///
/// Only the (de)serialization is generic: the exchange itself ([`exchange`]) is compiled once,
/// not once per request and answer type, which keeps the wasm bundle small.
pub async fn request<B, T>(
    api: &Api,
    method: Method,
    path: &str,
    query: &[(&str, String)],
    body: Option<&B>,
) -> Result<T, Error>
where
    B: Serialize + ?Sized,
    T: DeserializeOwned,
{
    let body = match body {
        Some(body) => Some(serde_json::to_string(body).map_err(|_| {
            Error::Api(ApiError::new(ErrorCode::InvalidJson, "unserializable body"))
        })?),
        None => None,
    };
    let (status, text) = exchange(api, method, path, query, body).await?;
    decode(status, &text)
}

/// Sends one request and returns its status and body as they are, for the answers whose type
/// depends on the status (a login: 200 with a session, 202 with an MFA challenge).
pub async fn request_raw<B: Serialize + ?Sized>(
    api: &Api,
    method: Method,
    path: &str,
    body: Option<&B>,
) -> Result<(u16, String), Error> {
    let body = match body {
        Some(body) => Some(serde_json::to_string(body).map_err(|_| {
            Error::Api(ApiError::new(ErrorCode::InvalidJson, "unserializable body"))
        })?),
        None => None,
    };
    exchange(api, method, path, &[], body).await
}

/// One request with an already serialized JSON body: the status and the body's text, after
/// at most one renewal of the token.
async fn exchange(
    api: &Api,
    method: Method,
    path: &str,
    query: &[(&str, String)],
    body: Option<String>,
) -> Result<(u16, String), Error> {
    let body = body.as_deref();
    let (status, text) = send(api, api.token(), method.clone(), path, query, body).await?;
    if status == 401
        && let (Some(stale), Some(renewer)) = (api.token(), api.renewer.as_ref())
    {
        let Some(fresh) = renewer.0.renew(stale).await else {
            return Ok((status, text));
        };
        let (status, text) = send(api, Some(&fresh), method, path, query, body).await?;
        if status == 401 {
            renewer.0.rejected(&fresh);
        }
        return Ok((status, text));
    }
    Ok((status, text))
}

async fn send(
    api: &Api,
    token: Option<&str>,
    method: Method,
    path: &str,
    query: &[(&str, String)],
    body: Option<&str>,
) -> Result<(u16, String), Error> {
    // With credentials, always: the refresh cookie must be stored from the login's answer and
    // sent with the refresh even when the app is served from another origin than the API (a
    // CDN). The cookie's path keeps it off every other request, and the server's CORS lets
    // only its allowed origins read a credentialed answer.
    // A fetch has no time limit of its own: one that hangs (a proxy whose instance died
    // mid-answer, a phone between networks) would hold up what waits on it, such as a
    // conversation's next catch-up. Past the limit it is aborted, and fails as the network.
    // (AbortController and a timer rather than `AbortSignal.timeout`, which Safari before 16
    // lacks: calling it there would throw.) Dropping the timer at the end cancels it.
    let controller = web_sys::AbortController::new().ok();
    let signal = controller.as_ref().map(web_sys::AbortController::signal);
    let _deadline = controller.map(|controller| {
        gloo_timers::callback::Timeout::new(REQUEST_TIMEOUT_MS, move || controller.abort())
    });
    let mut builder = RequestBuilder::new(&api.url(path))
        .method(method)
        .credentials(web_sys::RequestCredentials::Include)
        .header("Accept", "application/json")
        .abort_signal(signal.as_ref());
    if !query.is_empty() {
        builder = builder.query(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body),
        None => builder.build(),
    }
    .map_err(|_| Error::Api(ApiError::new(ErrorCode::InvalidJson, "unserializable body")))?;
    let response = request.send().await.map_err(|_| Error::Network)?;
    let status = response.status();
    // Reading the body can fail if the connection drops half-way: that is a network failure.
    let text = response.text().await.map_err(|_| Error::Network)?;
    Ok((status, text))
}

/// How long a request may take, answer included, before it is given up.
const REQUEST_TIMEOUT_MS: u32 = 30_000;

/// Turns a status and body into the typed answer or an [`Error`].
pub fn decode<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, Error> {
    if !(200..300).contains(&status) {
        return Err(error_body(status, text));
    }
    let text = if text.trim().is_empty() { "null" } else { text };
    super::json::from_str(text).map_err(|_| unexpected_body())
}

fn unexpected_body() -> Error {
    Error::Api(ApiError::new(
        ErrorCode::Unknown,
        "unexpected response body",
    ))
}

/// The error of a non-2xx answer: its [`ApiError`] body, or one derived from the status.
fn error_body(status: u16, text: &str) -> Error {
    Error::Api(
        super::json::from_str::<ApiError>(text)
            .unwrap_or_else(|_| ApiError::new(code_for_status(status), format!("HTTP {status}"))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_is_parsed_into_its_code() {
        let err = decode::<()>(413, r#"{"code":"body_too_long","message":"m"}"#).unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::BodyTooLong));
        assert!(err.is_permanent());
    }

    #[test]
    fn a_foreign_error_page_falls_back_to_the_status() {
        let err = decode::<()>(502, "<html>Bad gateway</html>").unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::Internal));
        assert!(!err.is_permanent());
    }

    #[test]
    fn an_empty_204_decodes_as_unit() {
        decode::<()>(204, "").unwrap();
    }

    #[test]
    fn a_debug_dump_never_shows_the_token() {
        let dump = format!("{:?}", Api::new("", Some("secret.jwt.value")));
        assert!(!dump.contains("secret"), "{dump}");
    }

    #[test]
    fn urls_join_the_base_and_the_api_prefix() {
        assert_eq!(Api::new("", None).url("/me"), "/api/me");
        assert_eq!(
            Api::new("https://x.example/", None).url("/me"),
            "https://x.example/api/me"
        );
    }
}
