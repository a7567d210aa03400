//! `POST /api/auth/login`, `POST /api/auth/refresh`, `POST /api/auth/logout`.

use super::ApiJson;
use crate::audit::{self, Action, Entry, Source};
use crate::auth::{self, AuthUser, HasherBusy};
use crate::domain::{Email, SessionId};
use crate::error::AppError;
use crate::state::AppState;
use crate::util::now_ms;
use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use colloque_protocol::{ApiError, LoginRequest, LoginResponse, Timestamp};
use secrecy::SecretString;

/// `Retry-After` when the hashing queue is full: about the time it takes to drain.
const HASH_QUEUE_RETRY_SECS: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
}

/// Exchanges email and password for an access token bound to a new session.
///
/// An unknown email, a wrong password and a disabled account give the same 401
/// `invalid_credentials`, and take the same time (an unknown email is verified against a
/// dummy hash). Failures are counted per (email, address), per email and per address, whether
/// or not the email has an account (`auth::throttle`, in the database: the limits hold over
/// every instance); past a limit the answer is 429 `rate_limited`, before any password is
/// checked, and it is the same for known and unknown emails. Successful logins are limited per
/// account too.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ApiError),
        (status = 401, description = "Invalid credentials", body = ApiError),
        (status = 429, description = "Too many failed logins for this email or address, or too many logins for this account", body = ApiError),
        (status = 503, description = "The password hashing queue is full, or the login could not be recorded in the audit trail (no session made); retry after Retry-After", body = ApiError),
    )
)]
#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    State(state): State<AppState>,
    source: Source,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let password = SecretString::from(request.password);
    let account_key = auth::account_key(&request.email);
    let address = source.ip.as_deref().and_then(|ip| ip.parse().ok());
    // Checked and counted in one step, over every instance: this attempt holds its place until
    // its check ends.
    let attempt = match state
        .throttles
        .logins
        .begin(account_key.clone(), auth::address_key(address))
        .await?
    {
        Ok(attempt) => attempt,
        Err(wait) => return Err(throttled(&state, &source, &account_key, wait)),
    };

    let account = match Email::parse(&request.email) {
        Ok(email) => state.store.credentials_by_email(&email).await?,
        Err(_) => None,
    };
    let stored = account
        .as_ref()
        .map(|account| account.password_hash.clone());
    let verified = match state.passwords.verify(&password, stored).await {
        Ok(verified) => verified,
        Err(error) if error.is::<HasherBusy>() => {
            // Not checked, so not a failure: the client is told when to come back.
            attempt.released().await;
            tracing::warn!("login refused: the password hashing queue is full");
            state.metrics.login("busy");
            return Err(AppError::Busy(HASH_QUEUE_RETRY_SECS));
        }
        Err(error) => return Err(error.into()),
    };
    let account = match account {
        Some(account) if verified && !account.disabled => account,
        refused => {
            tracing::info!("login refused");
            attempt.failed().await;
            state.metrics.login("failure");
            let entry = match refused {
                Some(account) => {
                    Entry::new(Action::LoginFailed, Some(account.id)).detail(if account.disabled {
                        "account_disabled"
                    } else {
                        "wrong_password"
                    })
                }
                None => Entry::new(Action::LoginFailed, None)
                    .email_hash(audit::email_hash(&account_key))
                    .detail("unknown_account"),
            };
            state.audit.refused(&source, &entry);
            return Err(AppError::InvalidCredentials);
        }
    };
    // Each login makes a session: a known password cannot be used to mint them by the thousand.
    if let Err(wait) = attempt.succeeded().await? {
        return Err(throttled(&state, &source, &account_key, wait));
    }

    let session = SessionId::generate();
    let now = now_ms();
    let max = i64::try_from(state.limits.session_max.as_millis()).unwrap_or(i64::MAX / 2);
    let session_end = Timestamp(now.0.saturating_add(max));
    let issued = state
        .tokens
        .issue(account.id, account.role, &session.0, session_end)
        .context("failed to sign a token")?;
    // The new session, the cap on live ones and their audit entries, in one transaction: past
    // the cap the oldest are revoked, and their sockets closed, here and (through the bus) on
    // the other instances. A login that cannot be recorded makes no session (503).
    let mut tx = state.store.begin_write().await?;
    tx.insert_session(&session, account.id, now, session_end)
        .await?;
    let revoked = tx
        .revoke_sessions_beyond(account.id, state.limits.sessions_per_user, now)
        .await?;
    let mut entries = vec![Entry::new(Action::Login, Some(account.id))];
    if revoked > 0 {
        entries.insert(
            0,
            Entry::new(Action::SessionRevoked, Some(account.id)).detail("session_cap"),
        );
    }
    for entry in &entries {
        if let Err(error) = tx.audit(&source, entry).await {
            return Err(AppError::unrecorded(entry.action, &error));
        }
    }
    tx.commit().await?;
    if revoked > 0 {
        tracing::info!(user = %account.id, revoked, "oldest sessions revoked past the cap");
        state.delivery.sessions_ended(account.id);
        if let Err(error) = state.delivery.recheck_sessions(Some(account.id)).await {
            tracing::warn!(%error, "failed to close the sockets of revoked sessions");
        }
    }
    let user = state
        .store
        .profile(account.id)
        .await?
        .context("the user vanished during login")?;
    tracing::info!(user = %account.id, "logged in");
    state.metrics.login("success");
    Ok(Json(LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        user,
    }))
}

/// A login refused by a throttle: counted in the audit trail (with the pseudonymised email),
/// then 429.
fn throttled(
    state: &AppState,
    source: &Source,
    account_key: &str,
    wait: std::time::Duration,
) -> AppError {
    tracing::info!("login throttled");
    state.metrics.login("throttled");
    let entry = Entry::new(Action::LoginThrottled, None).email_hash(audit::email_hash(account_key));
    state.audit.refused(source, &entry);
    AppError::rate_limited(wait)
}

/// Renews the access token of a live session: a new token for the same session (so logout and
/// revocation still cover it), living the usual lifetime but never past the session's absolute
/// end. A session idle for longer than the idle limit, revoked or ended cannot be refreshed:
/// 401, and the user logs in again.
#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A renewed token for the same session", body = LoginResponse),
        (status = 401, description = "No live session (expired token, idle, revoked, ended)", body = ApiError),
        (status = 503, description = "The refresh could not be recorded in the audit trail (`server_busy`); no token returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "refresh", skip_all, fields(user = %user.id))]
pub async fn refresh(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
) -> Result<Json<LoginResponse>, AppError> {
    let issued = state
        .tokens
        .issue(user.id, user.role, &user.session.0, user.session_end)
        .map_err(|_| AppError::Unauthorized)?;
    state.store.touch_session(&user.session, now_ms()).await?;
    let profile = state
        .store
        .profile(user.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    state
        .audit
        .read(&source, Entry::new(Action::Refresh, Some(user.id)))
        .await?;
    Ok(Json(LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        user: profile,
    }))
}

/// Revokes the caller's session: its token stops working at once, on every route, and its
/// sockets get an `unauthorized` error frame and close (1008) right away.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "logout", skip_all, fields(user = %user.id))]
pub async fn logout(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
) -> Result<StatusCode, AppError> {
    state.store.revoke_session(&user.session, now_ms()).await?;
    // Its sockets here close at once; the other instances are told through the bus.
    state.delivery.registry().close_session(&user.session);
    state.delivery.sessions_ended(user.id);
    // The session ends whether or not this can be recorded (a failure is logged).
    state
        .audit
        .note(&source, Entry::new(Action::Logout, Some(user.id)))
        .await;
    Ok(StatusCode::NO_CONTENT)
}
