//! `POST /api/auth/login`, `POST /api/auth/login/mfa`, `POST /api/auth/refresh/{session}`,
//! `POST /api/auth/logout`.

use super::{ApiJson, ApiPath, SecureCookies};
use crate::audit::{self, Action, Entry, Source};
use crate::auth::cookie::{clear_refresh_cookie, refresh_credential, set_refresh_cookie};
use crate::auth::mfa::{self, Spent};
use crate::auth::refresh::{self, Refresh, RefreshRules};
use crate::auth::{self, EnrollingUser, HasherBusy, outbox_key};
use crate::domain::{Email, SessionId, device_label, parse_session_handle};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{NewSession, Tx};
use crate::util::now_ms;
use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use colloque_protocol::{
    ApiError, LoginRequest, LoginResponse, MfaChallenge, MfaLoginRequest, Role, SessionHandle,
    Timestamp, UserId,
};
use secrecy::SecretString;

/// `Retry-After` when the hashing queue is full: about the time it takes to drain.
const HASH_QUEUE_RETRY_SECS: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/login/mfa", post(login_mfa))
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
///
/// When the account has multi-factor authentication, the right password makes no session: the
/// answer is `202` with a short-lived challenge for `POST /api/auth/login/mfa`.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in, with the user's outbox key; `Set-Cookie` carries the session's refresh credential (HttpOnly, SameSite=Strict, Path=/api/auth/refresh/{session})", body = LoginResponse),
        (status = 202, description = "The password is right and the account has multi-factor authentication: no session yet; send a code with this challenge to /api/auth/login/mfa", body = MfaChallenge),
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

    if mfa::enabled(&state.store, account.id).await? {
        let challenge = state
            .tokens
            .issue_challenge(account.id, mfa::CHALLENGE_TTL_SECS)
            .context("failed to sign an MFA challenge")?;
        tracing::info!(user = %account.id, "password accepted; MFA challenge given");
        state
            .audit
            .note(&source, Entry::new(Action::MfaChallenged, Some(account.id)))
            .await;
        let body = MfaChallenge {
            challenge: challenge.token,
            expires_at: challenge.expires_at,
        };
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    let enrolment_required = state.limits.require_mfa_for_doctors && account.role == Role::Doctor;
    let tx = state.store.begin_write().await?;
    let opened = Opened {
        user: account.id,
        role: account.role,
        enrolment_required,
        detail: None,
    };
    open_session(&state, &source, secure, tx, Vec::new(), opened).await
}

/// The second step of a login to an account with multi-factor authentication: the challenge
/// the password gave, and a code of the authenticator app or one of the recovery codes. The
/// answer is a login's: a new session, its token and refresh cookie.
///
/// A code is accepted once: a TOTP code for a time step later than the last one accepted, a
/// recovery code while unused (it is then used up). Wrong codes are counted like failed logins,
/// in the database, per (account, address), per account and per address — in windows of their
/// own, which a right password does not clear — and past them the answer is 429.
#[utoipa::path(
    post,
    path = "/api/auth/login/mfa",
    tag = "auth",
    request_body = MfaLoginRequest,
    responses(
        (status = 200, description = "Logged in; `Set-Cookie` carries the session's refresh credential", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ApiError),
        (status = 401, description = "`invalid_mfa_code`: the code is wrong, already used or late; `unauthorized`: the challenge is invalid or expired (log in again)", body = ApiError),
        (status = 429, description = "Too many wrong codes for this account or address", body = ApiError),
        (status = 503, description = "The login could not be recorded in the audit trail (no session made, the code not spent)", body = ApiError),
    )
)]
#[tracing::instrument(name = "login_mfa", skip_all)]
pub async fn login_mfa(
    State(state): State<AppState>,
    source: Source,
    SecureCookies(secure): SecureCookies,
    ApiJson(request): ApiJson<MfaLoginRequest>,
) -> Result<Response, AppError> {
    let user = state
        .tokens
        .verify_challenge(&request.challenge)
        .ok_or(AppError::Unauthorized)?;
    let Some((account, email)) = state
        .store
        .credentials_by_id(user)
        .await?
        .filter(|(account, _)| !account.disabled)
    else {
        return Err(AppError::Unauthorized);
    };
    let attempt = match begin_code_attempt(&state, &source, &email).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            let entry = Entry::new(Action::MfaFailed, Some(user)).detail("throttled");
            state.audit.refused(&source, &entry);
            return Err(AppError::rate_limited(wait));
        }
    };
    let Some(proof) = mfa::judge(&state.store, &state.mfa, user, &request.code).await? else {
        attempt.failed().await;
        tracing::info!(%user, "MFA code refused");
        state.metrics.login("failure");
        let entry = Entry::new(Action::MfaFailed, Some(user)).detail("login");
        state.audit.refused(&source, &entry);
        return Err(AppError::InvalidMfaCode);
    };
    // Each login makes a session: limited per account, as after a password.
    if let Err(wait) = attempt.succeeded().await? {
        return Err(throttled(&state, &source, &auth::account_key(&email), wait));
    }
    let mut tx = state.store.begin_write().await?;
    // Spent here, with the session: a request that spent it in between wins, this one fails.
    let Some(spent) = mfa::spend(&mut tx, user, &proof).await? else {
        return Err(AppError::InvalidMfaCode);
    };
    let mut entries = Vec::new();
    if spent == Spent::RecoveryCode {
        entries.push(Entry::new(Action::MfaRecoveryCodeUsed, Some(user)).detail("login"));
    }
    let opened = Opened {
        user,
        role: account.role,
        enrolment_required: false,
        detail: Some(spent.as_str()),
    };
    open_session(&state, &source, secure, tx, entries, opened).await
}

/// Holds a place for one code attempt of the account of `email` from the caller's address, in
/// the login throttle's windows (in the database, over every instance), keyed apart from the
/// password's (`mfa:<account>`): a right password forgives its own failures, never the codes'.
pub(super) async fn begin_code_attempt(
    state: &AppState,
    source: &Source,
    email: &str,
) -> Result<Result<auth::Attempt, std::time::Duration>, AppError> {
    let address = source.ip.as_deref().and_then(|ip| ip.parse().ok());
    let key = format!("mfa:{}", auth::account_key(email));
    Ok(state
        .throttles
        .logins
        .begin(key, auth::address_key(address))
        .await?)
}

/// Who a new session is for, and what its answer says.
struct Opened {
    user: UserId,
    role: Role,
    /// [`LoginResponse::mfa_enrolment_required`].
    enrolment_required: bool,
    /// The login's audit detail: which second factor, if any.
    detail: Option<&'static str>,
}

/// Opens a session for a login whose checks have passed, in `tx` (which may already hold a
/// spent code, whose audit `entries` come first): the session, its first refresh credential,
/// the cap on live ones and the audit entries commit together — a login that cannot be
/// recorded makes no session (503), and spends no code.
async fn open_session(
    state: &AppState,
    source: &Source,
    secure: bool,
    mut tx: Tx,
    mut entries: Vec<Entry>,
    opened: Opened,
) -> Result<Response, AppError> {
    let user = opened.user;
    let session = SessionId::generate();
    let now = now_ms();
    let max = i64::try_from(state.limits.session_max.as_millis()).unwrap_or(i64::MAX / 2);
    let session_end = Timestamp(now.0.saturating_add(max));
    let issued = state
        .tokens
        .issue(user, opened.role, &session.0, 0, session_end)
        .context("failed to sign a token")?;
    let device = device_label(source.user_agent.as_deref());
    let new_session = NewSession {
        id: &session,
        user,
        expires_at: session_end,
        device: &device,
        ip: source.ip.as_deref(),
    };
    // Past the cap the oldest sessions are revoked, and their sockets closed, here and
    // (through the bus) on the other instances.
    let (handle, credential) = refresh::open(&mut tx, &new_session, now).await?;
    let outbox_key = outbox_key::for_user(&mut tx, user, now).await?;
    let revoked = tx
        .revoke_sessions_beyond(user, state.limits.sessions_per_user, now)
        .await?;
    if revoked > 0 {
        entries.push(Entry::new(Action::SessionRevoked, Some(user)).detail("session_cap"));
    }
    let mut login = Entry::new(Action::Login, Some(user));
    if let Some(detail) = opened.detail {
        login = login.detail(detail);
    }
    entries.push(login);
    for entry in &entries {
        if let Err(error) = tx.audit(source, entry).await {
            return Err(AppError::unrecorded(entry.action, &error));
        }
    }
    tx.commit().await?;
    if revoked > 0 {
        tracing::info!(%user, revoked, "oldest sessions revoked past the cap");
        state.delivery.sessions_ended(user);
        if let Err(error) = state.delivery.recheck_sessions(Some(user)).await {
            tracing::warn!(%error, "failed to close the sockets of revoked sessions");
        }
    }
    let profile = state
        .store
        .profile(user)
        .await?
        .context("the user vanished during login")?;
    tracing::info!(%user, "logged in");
    state.metrics.login("success");
    let cookie = set_refresh_cookie(&handle, &credential, seconds_until(session_end), secure);
    let body = LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        user: profile,
        session: handle,
        outbox_key,
        mfa_enrolment_required: opened.enrolment_required,
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
    let enrolment_required = state.limits.require_mfa_for_doctors
        && renewed.role == Role::Doctor
        && !mfa::enabled(&state.store, renewed.user).await?;
    let body = LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        user: profile,
        session: renewed.handle,
        outbox_key: renewed.outbox_key,
        mfa_enrolment_required: enrolment_required,
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
    EnrollingUser(user): EnrollingUser,
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
