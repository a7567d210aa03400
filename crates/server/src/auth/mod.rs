//! Authentication: argon2id password hashes, HS256 access tokens bound to a server-side
//! session, and the [`AuthUser`] extractor that checks both on every request.

pub mod cookie;
mod extractor;
mod jwt;
pub mod mfa;
pub mod outbox_key;
mod password;
pub mod refresh;
mod secret;
mod throttle;
mod touches;

pub use extractor::EnrollingUser;
pub use jwt::{AUDIENCE, Claims, ISSUER, IssuedToken, MFA_AUDIENCE, TokenService};
pub use password::{HasherBusy, PasswordHasher};
pub use secret::load_or_create_secret;
pub(crate) use secret::write_new_secret;
pub use throttle::{Attempt, LoginThrottle, account_key, address_key};
pub use touches::{SessionTouches, write_periodically as write_touches_periodically};

use crate::domain::SessionId;
use crate::error::AppError;
use crate::store::{ActiveUser, Store};
use crate::util::now_ms;
use colloque_protocol::{Role, SessionHandle, Timestamp, UserId};
use std::time::Duration;

/// What makes a session live besides its row: how long it may go unused, and how long an
/// access token of the generation before a refresh still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRules {
    /// A session unused for this long is over.
    pub idle: Duration,
    /// [`crate::Limits::refresh_grace`].
    pub grace: Duration,
    /// [`crate::Limits::require_mfa_for_doctors`].
    pub require_mfa_for_doctors: bool,
}

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
    /// The session's public name.
    pub handle: SessionHandle,
    /// The session generation the token was issued for.
    pub generation: i64,
    /// When the token expires.
    pub expires_at: Timestamp,
    /// When the session ends, whatever the activity (renewed tokens never go past it).
    pub session_end: Timestamp,
    /// A doctor without MFA where the deployment requires it: the session may only enrol
    /// (the [`EnrollingUser`] routes); everywhere else it is refused (403
    /// `mfa_enrolment_required`). Re-read with the session on every request, so a confirmed
    /// enrolment lifts it at once.
    pub enrolment_only: bool,
}

/// Checks a token and its session: signature, algorithm, `typ`, issuer, audience, time
/// claims, then that the session is live (not revoked, not past its end, not idle, not moved
/// on by a refresh: see [`check_session`]) and the user enabled, and records the activity.
/// Every failure is the same [`AppError::Unauthorized`]: the client learns nothing more.
#[tracing::instrument(name = "authenticate", skip_all)]
pub async fn authenticate(
    tokens: &TokenService,
    store: &Store,
    touches: &SessionTouches,
    rules: SessionRules,
    token: &str,
) -> Result<AuthUser, AppError> {
    let claims = tokens.verify(token).map_err(|error| {
        tracing::debug!(%error, "token rejected");
        AppError::Unauthorized
    })?;
    let user_id = claims.user_id().ok_or(AppError::Unauthorized)?;
    let session = SessionId(claims.sid.clone());
    let user = check_session(store, touches, rules, &session, user_id, claims.r#gen)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if user.role != claims.role {
        return Err(AppError::Unauthorized);
    }
    Ok(AuthUser {
        id: user_id,
        role: user.role,
        session,
        handle: user.handle,
        generation: claims.r#gen,
        expires_at: claims.expires_at(),
        session_end: user.expires_at,
        enrolment_only: rules.require_mfa_for_doctors && user.role == Role::Doctor && !user.mfa,
    })
}

/// The live session's user, or `None`: the session must be live and the token's
/// `generation` still good for it ([`refresh::generation_live`]: a token issued before the
/// session's latest refresh works only for the grace after it). Records the activity (at most
/// every few seconds, so a busy client does not turn every read into a write, and written in
/// batches: see [`SessionTouches`]).
pub async fn check_session(
    store: &Store,
    touches: &SessionTouches,
    rules: SessionRules,
    session: &SessionId,
    user: UserId,
    generation: i64,
) -> Result<Option<ActiveUser>, AppError> {
    let now = now_ms();
    let active = store
        .active_user(session, user, now, idle_cutoff(rules.idle, now))
        .await?
        .filter(|active| {
            refresh::generation_live(
                generation,
                active.generation,
                active.rotated_at,
                now,
                rules.grace,
            )
        });
    if let Some(active) = &active
        && now.0 - active.last_seen_at.0 >= touch_every(rules.idle)
    {
        touches.record(session, now);
    }
    Ok(active)
}

/// Sessions last used before this are idle.
pub fn idle_cutoff(session_idle: Duration, now: Timestamp) -> Timestamp {
    let idle = i64::try_from(session_idle.as_millis()).unwrap_or(i64::MAX);
    Timestamp(now.0.saturating_sub(idle))
}

/// How stale `last_seen_at` may get before it is written again: a tenth of the idle limit, at
/// most 10 s.
fn touch_every(session_idle: Duration) -> i64 {
    let idle = i64::try_from(session_idle.as_millis()).unwrap_or(i64::MAX);
    (idle / 10).min(10_000)
}
