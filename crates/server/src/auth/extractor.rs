//! [`AuthUser`] (and [`EnrollingUser`]) as axum extractors: the one part of `auth` that reads
//! the [`AppState`].

use super::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

impl<S> FromRequestParts<S> for AuthUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = EnrollingUser::from_request_parts(parts, state).await?.0;
        if user.enrolment_only {
            return Err(AppError::MfaEnrolmentRequired);
        }
        Ok(user)
    }
}

/// A caller whose session may be restricted to enrolling in MFA
/// ([`AuthUser::enrolment_only`]): the extractor of the routes such a session may use (MFA
/// enrolment, `/api/me`, logout). Every other route takes an [`AuthUser`], which refuses it.
#[derive(Debug, Clone)]
pub struct EnrollingUser(pub AuthUser);

impl<S> FromRequestParts<S> for EnrollingUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let token = bearer_token(parts).ok_or(AppError::Unauthorized)?;
        let user = super::authenticate(
            &state.tokens,
            &state.store,
            &state.touches,
            state.limits.session_rules(),
            token,
        )
        .await?;
        // Every authenticated request counts against its user's budget, whatever it asks.
        state
            .throttles
            .requests
            .take(&user.id)
            .map_err(AppError::rate_limited)?;
        Ok(EnrollingUser(user))
    }
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}
