use crate::domain::SessionId;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use colloque_protocol::{Role, Timestamp, UserId};

/// The authenticated caller. Extracting it verifies the bearer token *and* the session row
/// (not revoked, not expired, user not disabled), so a handler taking an `AuthUser` cannot run
/// for anybody else.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// Who.
    pub id: UserId,
    /// Patient or doctor.
    pub role: Role,
    /// The session the token belongs to.
    pub session: SessionId,
    /// When the token expires.
    pub expires_at: Timestamp,
    /// When the session ends, whatever the activity (renewed tokens never go past it).
    pub session_end: Timestamp,
}

impl<S> FromRequestParts<S> for AuthUser
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
            state.limits.session_idle,
            token,
        )
        .await?;
        // Every authenticated request counts against its user's budget, whatever it asks.
        state
            .throttles
            .requests
            .take(&user.id)
            .map_err(AppError::rate_limited)?;
        Ok(user)
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
