//! axum's extractors, with their rejections turned into [`AppError`] so that every failure,
//! including a malformed body or path, answers with a protocol `ApiError` JSON body; and the
//! request's audit [`Source`], which needs the [`AppState`].

use crate::audit::{Source, Transport};
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{FromRef, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;

/// `Json<T>` whose rejection is an [`AppError`] (400 `invalid_json`, 413 `payload_too_large`).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

/// `Path<T>` whose rejection is an [`AppError`] (400 `invalid_input`).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// `Query<T>` whose rejection is an [`AppError`] (400 `invalid_input`).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// Where a REST request (or a WebSocket upgrade) comes from, as the trusted proxies tell it.
/// Here rather than in `audit`, so that the audit trail (and the store that writes it) do not
/// depend on the application state.
impl<S> FromRequestParts<S> for Source
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(Source::from_parts(
            parts,
            &state.security.trusted_proxies,
            Transport::Rest,
        ))
    }
}

/// Whether the cookies of this request's answer must be `Secure` (see
/// [`crate::security::Security::secure_cookies`]).
#[derive(Debug, Clone, Copy)]
pub struct SecureCookies(pub bool);

impl<S> FromRequestParts<S> for SecureCookies
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(SecureCookies(
            state.security.secure_cookies(peer, &parts.headers),
        ))
    }
}

#[cfg(test)]
mod float_tests {
    /// A whole number written as a float reads as that integer, however large (JSON Schema's
    /// `integer` admits `3.0`; `crate::ids::integral` accepts it only if it is exact).
    #[test]
    fn a_large_whole_float_reads_exactly() {
        let body = r#"{"with_user_id": -4498346408194846.0, "topic": "certificate"}"#;
        let request: colloque_protocol::StartConversationRequest =
            serde_json::from_str(body).expect("a whole number");
        assert_eq!(request.with_user_id.0, -4_498_346_408_194_846);
    }
}
