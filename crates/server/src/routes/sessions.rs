//! The caller's sessions and password: `GET /api/sessions`, `POST /api/sessions/{id}/end`,
//! `POST /api/me/password`.

use super::auth::end_session;
use super::{ApiJson, ApiPath};
use crate::audit::{Action, Entry, Source};
use crate::auth::{self, AuthUser, HasherBusy};
use crate::domain::{DomainError, Password, parse_session_handle};
use crate::error::AppError;
use crate::state::AppState;
use crate::util::now_ms;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use colloque_protocol::{ApiError, ChangePasswordRequest, SessionInfo};
use secrecy::SecretString;

/// `Retry-After` when the hashing queue is full (as at login).
const HASH_QUEUE_RETRY_SECS: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", get(list))
        .route("/sessions/{id}/end", post(end))
        .route("/me/password", post(change_password))
}

/// The caller's live sessions — each browser or device logged in to the account — most
/// recently active first, the caller's own marked `current`.
#[utoipa::path(
    get,
    path = "/api/sessions",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's live sessions", body = Vec<SessionInfo>),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "sessions", skip_all, fields(user = %user.id))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<SessionInfo>>, AppError> {
    let now = now_ms();
    let cutoff = auth::idle_cutoff(state.limits.session_idle, now);
    let rows = state.store.live_sessions(user.id, now, cutoff).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| SessionInfo {
                current: row.id == user.session,
                id: row.handle,
                device: row.device,
                address: row.ip,
                created_at: row.created_at,
                last_seen_at: row.last_seen_at,
            })
            .collect(),
    ))
}

/// Ends one of the caller's sessions (the caller's own too: that is a logout): it is revoked,
/// its tokens and refresh credential stop working, and its sockets get an `unauthorized`
/// error frame and close (1008) at once, on every instance.
#[utoipa::path(
    post,
    path = "/api/sessions/{id}/end",
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's public name (`SessionInfo::id`)")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 404, description = "No live session of the caller's by that name", body = ApiError),
    )
)]
#[tracing::instrument(name = "end_session", skip_all, fields(user = %user.id))]
pub async fn end(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    let handle = parse_session_handle(&id).ok_or(AppError::NotFound)?;
    let session = state
        .store
        .revoke_session_by_handle(user.id, &handle, now_ms())
        .await?
        .ok_or(AppError::NotFound)?;
    // Revoked already; this closes its sockets here and on the other instances.
    end_session(&state, user.id, &session).await?;
    let mut entry = Entry::new(Action::SessionEnded, Some(user.id));
    if session == user.session {
        entry = entry.detail("this_session");
    }
    // The session has ended whether or not this can be recorded (a failure is logged).
    state.audit.note(&source, entry).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password, given the current one; every *other* session of the
/// account ends (their sockets close at once, on every instance), the caller's goes on.
///
/// The new password follows the account policy (8 characters at least, 1 KiB at most):
/// 400 `weak_password`. A wrong current password is 403 `wrong_password` (not 401: the
/// session is fine), and counts as a failed login of the account from this address, so the
/// login throttle's limits (429) hold here too: a stolen access token cannot be used to guess
/// the password. A change that cannot be recorded in the audit trail does not happen (503).
#[utoipa::path(
    post,
    path = "/api/me/password",
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; the other sessions ended"),
        (status = 400, description = "Malformed body, or a new password the policy refuses (`weak_password`)", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The current password is wrong (`wrong_password`)", body = ApiError),
        (status = 429, description = "Too many wrong passwords for this account or address", body = ApiError),
        (status = 503, description = "The password hashing queue is full, or the change could not be recorded in the audit trail (nothing changed); retry after Retry-After", body = ApiError),
    )
)]
#[tracing::instrument(name = "change_password", skip_all, fields(user = %user.id))]
pub async fn change_password(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, AppError> {
    let current = SecretString::from(request.current_password);
    let new = Password::parse(SecretString::from(request.new_password)).map_err(|error| {
        AppError::WeakPassword(match error {
            DomainError::Invalid(why) => why,
            _ => "the new password is not acceptable",
        })
    })?;
    let (email, stored) = state
        .store
        .email_and_password_hash(user.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let account_key = auth::account_key(&email);
    let address = source.ip.as_deref().and_then(|ip| ip.parse().ok());
    let refused = |detail: &'static str| {
        Entry::new(Action::PasswordChangeFailed, Some(user.id)).detail(detail)
    };
    let attempt = match state
        .throttles
        .logins
        .begin(account_key, auth::address_key(address))
        .await?
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            state.audit.refused(&source, &refused("throttled"));
            return Err(AppError::rate_limited(wait));
        }
    };
    match state.passwords.verify(&current, Some(stored)).await {
        Ok(true) => {}
        Ok(false) => {
            attempt.failed().await;
            state.audit.refused(&source, &refused("wrong_password"));
            return Err(AppError::WrongPassword);
        }
        Err(error) if error.is::<HasherBusy>() => {
            attempt.released().await;
            return Err(AppError::Busy(HASH_QUEUE_RETRY_SECS));
        }
        Err(error) => return Err(error.into()),
    }
    // The right password: its (account, address) failures stop counting, as at a login.
    if let Err(wait) = attempt.succeeded().await? {
        return Err(AppError::rate_limited(wait));
    }
    let hash = match state.passwords.hash(&new).await {
        Ok(hash) => hash,
        Err(error) if error.is::<HasherBusy>() => {
            return Err(AppError::Busy(HASH_QUEUE_RETRY_SECS));
        }
        Err(error) => return Err(error.into()),
    };
    // The new hash, the other sessions' end and its audit entry, in one transaction: a change
    // that cannot be recorded does not happen (503).
    let mut tx = state.store.begin_write().await?;
    tx.set_password_hash(user.id, &hash).await?;
    let ended = tx
        .revoke_other_sessions(user.id, &user.session, now_ms())
        .await?;
    let entry = Entry::new(Action::PasswordChanged, Some(user.id))
        .detail(format!("other_sessions_ended={ended}"));
    if let Err(error) = tx.audit(&source, &entry).await {
        return Err(AppError::unrecorded(entry.action, &error));
    }
    tx.commit().await?;
    // Their sockets close here now, and on the other instances through the bus.
    state.delivery.sessions_ended(user.id);
    if let Err(error) = state.delivery.recheck_sessions(Some(user.id)).await {
        tracing::warn!(%error, "failed to close the sockets of the ended sessions");
    }
    tracing::info!(ended, "password changed");
    Ok(StatusCode::NO_CONTENT)
}
