//! The caller's multi-factor authentication: `GET /api/me/mfa`, `POST /api/me/mfa/enrol`,
//! `POST /api/me/mfa/confirm`, `POST /api/me/mfa/disable`. Each takes an [`EnrollingUser`]: a
//! doctor whom the deployment requires to enrol may use them (and nothing else).

use super::ApiJson;
use super::auth::begin_code_attempt;
use crate::audit::{Action, Entry, Source};
use crate::auth::mfa::{self, Spent};
use crate::auth::{self, EnrollingUser, HasherBusy};
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use colloque_protocol::{
    ApiError, MfaCodeRequest, MfaDisableRequest, MfaEnrolment, MfaStatus, RecoveryCodes, Role,
};
use secrecy::SecretString;

/// `Retry-After` when the hashing queue is full (as at login).
const HASH_QUEUE_RETRY_SECS: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/mfa", get(status))
        .route("/me/mfa/enrol", post(enrol))
        .route("/me/mfa/confirm", post(confirm))
        .route("/me/mfa/disable", post(disable))
}

/// Whether the caller's logins need a code, whether the deployment requires it of them, and
/// how many recovery codes they have left.
#[utoipa::path(
    get,
    path = "/api/me/mfa",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's multi-factor authentication", body = MfaStatus),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "mfa_status", skip_all, fields(user = %user.id))]
pub async fn status(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<Json<MfaStatus>, AppError> {
    let enabled = mfa::enabled(&state.store, user.id).await?;
    let left = if enabled {
        state.store.recovery_codes_left(user.id).await?
    } else {
        0
    };
    Ok(Json(MfaStatus {
        enabled,
        required: state.limits.require_mfa_for_doctors && user.role == Role::Doctor,
        recovery_codes_left: u32::try_from(left).unwrap_or(0),
    }))
}

/// Starts an enrolment: a new secret for an authenticator app, as an otpauth URI, in base32
/// (to type by hand) and as a QR code. Nothing changes for the logins until the enrolment is
/// confirmed with a first code; starting again replaces the secret.
#[utoipa::path(
    post,
    path = "/api/me/mfa/enrol",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A new, pending secret", body = MfaEnrolment),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 409, description = "MFA is already on (`mfa_already_enabled`): disable it first", body = ApiError),
    )
)]
#[tracing::instrument(name = "mfa_enrol", skip_all, fields(user = %user.id))]
pub async fn enrol(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<Json<MfaEnrolment>, AppError> {
    let (_, email) = state
        .store
        .credentials_by_id(user.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    mfa::start(&state.store, &state.mfa, user.id, &email)
        .await?
        .map(Json)
        .ok_or(AppError::MfaAlreadyEnabled)
}

/// Confirms the enrolment with the first code the app shows: MFA is on from now on, and the
/// answer carries ten recovery codes, shown this once (the server keeps only their keyed
/// hashes). Audited (`mfa_enabled`) in the same transaction: an enrolment that cannot be
/// recorded does not happen (503).
#[utoipa::path(
    post,
    path = "/api/me/mfa/confirm",
    tag = "auth",
    security(("bearer" = [])),
    request_body = MfaCodeRequest,
    responses(
        (status = 200, description = "MFA is on; the recovery codes, shown once", body = RecoveryCodes),
        (status = 400, description = "Malformed body", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The code is not the app's current one (`invalid_mfa_code`)", body = ApiError),
        (status = 404, description = "No enrolment under way (start one first)", body = ApiError),
        (status = 503, description = "The enrolment could not be recorded in the audit trail; nothing changed", body = ApiError),
    )
)]
#[tracing::instrument(name = "mfa_confirm", skip_all, fields(user = %user.id))]
pub async fn confirm(
    State(state): State<AppState>,
    source: Source,
    EnrollingUser(user): EnrollingUser,
    ApiJson(request): ApiJson<MfaCodeRequest>,
) -> Result<Json<RecoveryCodes>, AppError> {
    let pending = state.store.mfa_totp(user.id).await?;
    // None pending: never started, or enabled already.
    if pending.is_none_or(|totp| totp.enabled) {
        return Err(AppError::NotFound);
    }
    let mut tx = state.store.begin_write().await?;
    let Some(codes) = mfa::confirm(&mut tx, &state.mfa, user.id, &request.code).await? else {
        tx.rollback().await?;
        return Err(AppError::WrongMfaCode);
    };
    let entry = Entry::new(Action::MfaEnabled, Some(user.id));
    if let Err(error) = tx.audit(&source, &entry).await {
        return Err(AppError::unrecorded(entry.action, &error));
    }
    tx.commit().await?;
    tracing::info!("MFA enabled");
    Ok(Json(RecoveryCodes { codes }))
}

/// Turns MFA off, given the password and a current code (or a recovery code). A wrong
/// password is 403 `wrong_password` and a wrong code 403 `invalid_mfa_code`; both count like
/// failed logins of the account from this address (the login throttle's limits, 429, hold
/// here too: a stolen session cannot be used to guess either). Audited (`mfa_disabled`) in the
/// same transaction as the change, or nothing changes (503).
#[utoipa::path(
    post,
    path = "/api/me/mfa/disable",
    tag = "auth",
    security(("bearer" = [])),
    request_body = MfaDisableRequest,
    responses(
        (status = 204, description = "MFA is off; the recovery codes are deleted"),
        (status = 400, description = "Malformed body", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "Wrong password (`wrong_password`) or code (`invalid_mfa_code`)", body = ApiError),
        (status = 404, description = "MFA is not on", body = ApiError),
        (status = 429, description = "Too many wrong passwords or codes for this account or address", body = ApiError),
        (status = 503, description = "The password hashing queue is full, or the change could not be recorded in the audit trail (nothing changed)", body = ApiError),
    )
)]
#[tracing::instrument(name = "mfa_disable", skip_all, fields(user = %user.id))]
pub async fn disable(
    State(state): State<AppState>,
    source: Source,
    EnrollingUser(user): EnrollingUser,
    ApiJson(request): ApiJson<MfaDisableRequest>,
) -> Result<StatusCode, AppError> {
    if !mfa::enabled(&state.store, user.id).await? {
        return Err(AppError::NotFound);
    }
    let (email, stored) = state
        .store
        .email_and_password_hash(user.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let refused =
        |detail: &'static str| Entry::new(Action::MfaFailed, Some(user.id)).detail(detail);

    // The password, counted like a login's.
    let address = source.ip.as_deref().and_then(|ip| ip.parse().ok());
    let attempt = match state
        .throttles
        .logins
        .begin(auth::account_key(&email), auth::address_key(address))
        .await?
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            state.audit.refused(&source, &refused("throttled"));
            return Err(AppError::rate_limited(wait));
        }
    };
    let password = SecretString::from(request.password);
    match state.passwords.verify(&password, Some(stored)).await {
        Ok(true) => {}
        Ok(false) => {
            attempt.failed().await;
            state
                .audit
                .refused(&source, &refused("disable_wrong_password"));
            return Err(AppError::WrongPassword);
        }
        Err(error) if error.is::<HasherBusy>() => {
            attempt.released().await;
            return Err(AppError::Busy(HASH_QUEUE_RETRY_SECS));
        }
        Err(error) => return Err(error.into()),
    }
    if let Err(wait) = attempt.succeeded().await? {
        return Err(AppError::rate_limited(wait));
    }

    // The code, counted like a login's second step.
    let attempt = match begin_code_attempt(&state, &source, &email).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            state.audit.refused(&source, &refused("throttled"));
            return Err(AppError::rate_limited(wait));
        }
    };
    let Some(proof) = mfa::judge(&state.store, &state.mfa, user.id, &request.code).await? else {
        attempt.failed().await;
        state.audit.refused(&source, &refused("disable"));
        return Err(AppError::WrongMfaCode);
    };
    if let Err(wait) = attempt.succeeded().await? {
        return Err(AppError::rate_limited(wait));
    }
    let mut tx = state.store.begin_write().await?;
    let Some(spent) = mfa::spend(&mut tx, user.id, &proof).await? else {
        return Err(AppError::WrongMfaCode);
    };
    mfa::disable(&mut tx, user.id).await?;
    let mut entries = Vec::new();
    if spent == Spent::RecoveryCode {
        entries.push(Entry::new(Action::MfaRecoveryCodeUsed, Some(user.id)).detail("disable"));
    }
    entries.push(Entry::new(Action::MfaDisabled, Some(user.id)).detail(spent.as_str()));
    for entry in &entries {
        if let Err(error) = tx.audit(&source, entry).await {
            return Err(AppError::unrecorded(entry.action, &error));
        }
    }
    tx.commit().await?;
    tracing::info!("MFA disabled");
    Ok(StatusCode::NO_CONTENT)
}
