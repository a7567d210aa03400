//! `POST /api/auth/login`, `POST /api/auth/refresh/{session}`, `POST /api/auth/logout`.

use super::{ApiJson, ApiPath, SecureCookies};
use crate::audit::{self, Action, Entry, Source};
use crate::auth::cookie::{clear_refresh_cookie, refresh_credential, set_refresh_cookie};
use crate::auth::refresh::{self, Refresh, RefreshRules};
use crate::auth::{self, AuthUser, HasherBusy, outbox_key};
use crate::domain::{Email, SessionId, device_label, parse_session_handle};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::NewSession;
use crate::util::now_ms;
use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use colloque_protocol::{ApiError, LoginRequest, LoginResponse, SessionHandle, Timestamp};
use secrecy::SecretString;

/// `Retry-After` when the hashing queue is full: about the time it takes to drain.
const HASH_QUEUE_RETRY_SECS: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/refresh/{session}", post(refresh))
        .route("/auth/logout", post(logout))
}

/// Exchanges email and password for an access token bound to a new session, and the session's
/// refresh credential in an HttpOnly cookie scoped to its refresh route.
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
        (status = 200, description = "Logged in, with the user's outbox key; `Set-Cookie` carries the session's refresh credential (HttpOnly, SameSite=Strict, Path=/api/auth/refresh/{session})", body = LoginResponse),
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
    SecureCookies(secure): SecureCookies,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
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
        .issue(account.id, account.role, &session.0, 0, session_end)
        .context("failed to sign a token")?;
    let device = device_label(source.user_agent.as_deref());
    let new_session = NewSession {
        id: &session,
        user: account.id,
        expires_at: session_end,
        device: &device,
        ip: source.ip.as_deref(),
    };
    // The new session, its first refresh credential, the cap on live ones and their audit
    // entries, in one transaction: past the cap the oldest are revoked, and their sockets
    // closed, here and (through the bus) on the other instances. A login that cannot be
    // recorded makes no session (503).
    let mut tx = state.store.begin_write().await?;
    let (handle, credential) = refresh::open(&mut tx, &new_session, now).await?;
    let outbox_key = outbox_key::for_user(&mut tx, account.id, now).await?;
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
    let cookie = set_refresh_cookie(&handle, &credential, seconds_until(session_end), secure);
    let body = LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        user,
        session: handle,
        outbox_key,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
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

/// Renews session `{session}` from its refresh credential (the cookie its login set; no
/// access token needed): a new access token, of the session's next generation — the tokens
/// issued before stop working within the grace (10 s) — and a new credential in the cookie.
/// The credential presented is replaced: presented again later, it revokes the session (a
/// reuse: someone holds a copy). Presented again within the grace (two tabs renewing at once,
/// a retry whose answer was lost), it gets a sibling credential and a token of the current
/// generation instead.
///
/// 401 (and the cookie cleared) when the credential is missing, unknown or not this session's,
/// or the session is revoked, idle past its limit or over; 403 from a page of an origin that
/// is not allowed; 503 when the refresh cannot be recorded in the audit trail (nothing is
/// rotated then: the same cookie works again).
#[utoipa::path(
    post,
    path = "/api/auth/refresh/{session}",
    tag = "auth",
    params(("session" = String, Path, description = "The session's public name (`LoginResponse::session`)")),
    responses(
        (status = 200, description = "A new token for the same session, with the user's outbox key; `Set-Cookie` carries the next refresh credential", body = LoginResponse),
        (status = 401, description = "No refresh credential of this live session (missing, unknown, reused: the session is then revoked)", body = ApiError),
        (status = 403, description = "A page of a foreign origin", body = ApiError),
        (status = 503, description = "The refresh could not be recorded in the audit trail (`server_busy`); nothing was rotated, no token returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "refresh", skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    source: Source,
    SecureCookies(secure): SecureCookies,
    headers: HeaderMap,
    ApiPath(session): ApiPath<String>,
) -> Result<Response, AppError> {
    // The one route that a cookie authenticates: a page of a foreign origin may not even try
    // (SameSite already keeps other sites' pages from sending it).
    if let Some(origin) = headers.get(header::ORIGIN)
        && !state.security.origin_allowed(origin.to_str().unwrap_or(""))
    {
        return Err(AppError::Forbidden("this origin may not refresh a session"));
    }
    let Some(handle) = parse_session_handle(&session) else {
        return Err(AppError::Unauthorized);
    };
    let refused = |handle: &SessionHandle| {
        let cookie = clear_refresh_cookie(handle, secure);
        ([(header::SET_COOKIE, cookie)], AppError::Unauthorized).into_response()
    };
    let Some(credential) = refresh_credential(&headers) else {
        return Ok(refused(&handle));
    };
    let now = now_ms();
    let rules = RefreshRules {
        now,
        idle_cutoff: auth::idle_cutoff(state.limits.session_idle, now),
        grace: state.limits.refresh_grace,
    };
    let renewed = match refresh::refresh(&state.store, credential, &handle, &source, rules).await? {
        Refresh::Renewed(renewed) => renewed,
        Refresh::Refused => return Ok(refused(&handle)),
        Refresh::Reused { user, session } => {
            tracing::warn!(%user, "a replaced refresh credential came back: session revoked");
            state.delivery.registry().close_session(&session);
            state.delivery.sessions_ended(user);
            // The session is revoked whether or not this can be recorded (a failure is logged).
            let entry = Entry::new(Action::RefreshReused, Some(user)).detail("session_revoked");
            state.audit.note(&source, entry).await;
            return Ok(refused(&handle));
        }
    };
    let issued = state
        .tokens
        .issue(
            renewed.user,
            renewed.role,
            &renewed.session.0,
            renewed.generation,
            renewed.session_end,
        )
        .map_err(|_| AppError::Unauthorized)?;
    let profile = state
        .store
        .profile(renewed.user)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let cookie = set_refresh_cookie(
        &renewed.handle,
        &renewed.credential,
        seconds_until(renewed.session_end),
        secure,
    );
    let body = LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        user: profile,
        session: renewed.handle,
        outbox_key: renewed.outbox_key,
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Revokes the caller's session: its token stops working at once, on every route, its
/// sockets get an `unauthorized` error frame and close (1008) right away, and its refresh
/// cookie is cleared.
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
    SecureCookies(secure): SecureCookies,
    user: AuthUser,
) -> Result<Response, AppError> {
    end_session(&state, user.id, &user.session).await?;
    // The session ends whether or not this can be recorded (a failure is logged).
    state
        .audit
        .note(&source, Entry::new(Action::Logout, Some(user.id)))
        .await;
    let cookie = clear_refresh_cookie(&user.handle, secure);
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

/// Revokes a session (if it was not already) and closes its sockets: at once on this
/// instance, and through the bus on the others (logout, and a session ended from the sessions
/// page).
pub(super) async fn end_session(
    state: &AppState,
    user: colloque_protocol::UserId,
    session: &SessionId,
) -> Result<(), AppError> {
    state.store.revoke_session(session, now_ms()).await?;
    state.delivery.registry().close_session(session);
    state.delivery.sessions_ended(user);
    Ok(())
}

/// Whole seconds from now until `end` (a cookie's `Max-Age`).
fn seconds_until(end: Timestamp) -> i64 {
    (end.0 - now_ms().0) / 1000
}
