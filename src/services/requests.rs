//! One generic typed request function. Every REST call goes through [`request`]: it builds the
//! URL from the configured base, adds the bearer token, and turns any non-2xx status into an
//! [`ApiError`] parsed from the body (or derived from the status when the body is not ours).

use colloque_protocol::{API_PREFIX, ApiError, ErrorCode};
use gloo_net::http::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
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

/// Where to send requests and with which credentials. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Api {
    base: Rc<str>,
    token: Option<Rc<str>>,
}

impl Api {
    /// An API client for `base` ("" for the page's own origin).
    pub fn new(base: &str, token: Option<&str>) -> Self {
        Self {
            base: base.trim_end_matches('/').into(),
            token: token.map(Into::into),
        }
    }

    /// The bearer token, if logged in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
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
        500..=599 => ErrorCode::Internal,
        _ => ErrorCode::Unknown,
    }
}

/// Sends one request and decodes the answer. `body` is sent as JSON; `()` answers (204) decode
/// from an empty body.
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
    let mut builder = RequestBuilder::new(&api.url(path))
        .method(method)
        .header("Accept", "application/json");
    if !query.is_empty() {
        builder = builder.query(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    if let Some(token) = api.token() {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    }
    .map_err(|_| Error::Api(ApiError::new(ErrorCode::InvalidJson, "unserializable body")))?;
    let response = request.send().await.map_err(|_| Error::Network)?;
    let status = response.status();
    // Reading the body can fail if the connection drops half-way: that is a network failure.
    let text = response.text().await.map_err(|_| Error::Network)?;
    decode(status, &text)
}

/// Turns a status and body into the typed answer or an [`Error`].
pub fn decode<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, Error> {
    if (200..300).contains(&status) {
        let text = if text.trim().is_empty() { "null" } else { text };
        serde_json::from_str(text).map_err(|_| {
            Error::Api(ApiError::new(
                ErrorCode::Unknown,
                "unexpected response body",
            ))
        })
    } else {
        Err(Error::Api(
            serde_json::from_str::<ApiError>(text).unwrap_or_else(|_| {
                ApiError::new(code_for_status(status), format!("HTTP {status}"))
            }),
        ))
    }
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
    fn urls_join_the_base_and_the_api_prefix() {
        assert_eq!(Api::new("", None).url("/me"), "/api/me");
        assert_eq!(
            Api::new("https://x.example/", None).url("/me"),
            "https://x.example/api/me"
        );
    }
}
