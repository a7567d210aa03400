//! The refresh cookie: where a browser keeps its session's refresh credential.
//!
//! - `HttpOnly`: no script of the page can read it, so an injected one cannot carry it away
//!   (it could only use it while the page is open, from the page's own origin).
//! - `Path=/api/auth/refresh/<session>`: sent with that one request and nothing else — not with
//!   the API's other routes, not with the WebSocket, and not with another tab's session
//!   (sessions live per tab: each tab's credential has its own path, so a browser holding
//!   several sessions sends each refresh only its own).
//! - `SameSite=Strict`: a page of another site never makes the browser send it.
//! - `Secure` in production and over TLS, so it never crosses the network in clear. (Outside
//!   production over plain HTTP, a `Secure` cookie would not be stored at all.)
//! - `Max-Age`: until the session's absolute end.
//!
//! The app on another origin of the same site (a CDN) sends its requests with
//! `credentials: "include"`, and CORS answers its allowed origins with
//! `Access-Control-Allow-Credentials: true` (`http::cors`).

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use colloque_protocol::{API_PREFIX, SessionHandle};

/// The cookie's name.
pub const REFRESH_COOKIE: &str = "colloque_refresh";

/// The path of a session's refresh route, relative to `/api`.
pub fn refresh_path(handle: &SessionHandle) -> String {
    format!("/auth/refresh/{handle}")
}

/// `Set-Cookie` for `credential`, the refresh credential of session `handle`, valid
/// `max_age_secs`.
pub fn set_refresh_cookie(
    handle: &SessionHandle,
    credential: &str,
    max_age_secs: i64,
    secure: bool,
) -> HeaderValue {
    cookie(handle, credential, max_age_secs.max(0), secure)
}

/// `Set-Cookie` that removes session `handle`'s refresh cookie (logout, a refused refresh).
pub fn clear_refresh_cookie(handle: &SessionHandle, secure: bool) -> HeaderValue {
    cookie(handle, "", 0, secure)
}

fn cookie(handle: &SessionHandle, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{REFRESH_COOKIE}={value}; Path={API_PREFIX}{}; Max-Age={max_age}; HttpOnly; \
         SameSite=Strict{secure}",
        refresh_path(handle)
    );
    // The handle is hex and the credential URL-safe base64: always a valid header value.
    HeaderValue::from_str(&text).expect("a refresh cookie is a valid header value")
}

/// The refresh credential a request carries, if any. Only this route's path receives the
/// cookie, so there is at most one; a value that is not URL-safe base64 is nobody's.
pub fn refresh_credential(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value)
        .filter(|value| {
            !value.is_empty()
                && value.len() <= 64
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle() -> SessionHandle {
        SessionHandle("0123abcd".into())
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped_to_its_sessions_refresh_route() {
        let value = set_refresh_cookie(&handle(), "c3VwZXI", 3600, false);
        assert_eq!(
            value.to_str().unwrap(),
            "colloque_refresh=c3VwZXI; Path=/api/auth/refresh/0123abcd; Max-Age=3600; \
             HttpOnly; SameSite=Strict"
        );
        let secure = set_refresh_cookie(&handle(), "c3VwZXI", 3600, true);
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
        let cleared = clear_refresh_cookie(&handle(), false);
        assert!(cleared.to_str().unwrap().starts_with("colloque_refresh=; "));
        assert!(cleared.to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn the_credential_is_read_among_other_cookies_and_junk_is_nobodys() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("lang=fr; colloque_refresh=abc-_09; other=1"),
        );
        assert_eq!(refresh_credential(&headers), Some("abc-_09"));
        for junk in [
            "colloque_refresh=",
            "colloque_refresh=a b",
            "colloque_refresh=%27",
            "xcolloque_refresh=abc",
        ] {
            headers.insert(COOKIE, HeaderValue::from_static(junk));
            assert_eq!(refresh_credential(&headers), None, "{junk}");
        }
        assert_eq!(refresh_credential(&HeaderMap::new()), None);
    }
}
