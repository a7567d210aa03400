//! Who may write to a doctor: `GET|PUT /api/me/intake`, `PUT|DELETE /api/patients/{id}/block`
//! (doctors) and `GET /api/care-team/intake` (patients).

use super::{ApiJson, ApiPath};
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::chat;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use colloque_protocol::{ApiError, IntakeSettings, IntakeStatus, UpdateIntakeRequest, UserId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/intake", get(settings).put(update))
        .route("/patients/{id}/block", put(block).delete(unblock))
        .route("/care-team/intake", get(statuses))
}

/// The caller's intake setting: who may start a conversation with them, and whom they blocked.
#[utoipa::path(
    get,
    path = "/api/me/intake",
    tag = "care",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The doctor's intake setting", body = IntakeSettings),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
    )
)]
#[tracing::instrument(name = "intake_settings", skip_all, fields(user = %user.id))]
pub async fn settings(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<IntakeSettings>, AppError> {
    Ok(Json(chat::intake_settings(&state, &user).await?))
}

/// Changes who may start a conversation with the caller. Open conversations stay answerable.
#[utoipa::path(
    put,
    path = "/api/me/intake",
    tag = "care",
    security(("bearer" = [])),
    request_body = UpdateIntakeRequest,
    responses(
        (status = 200, description = "The new setting", body = IntakeSettings),
        (status = 400, description = "Malformed body, unknown mode, months outside 1..=24", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
    )
)]
#[tracing::instrument(name = "update_intake", skip_all, fields(user = %user.id))]
pub async fn update(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<UpdateIntakeRequest>,
) -> Result<Json<IntakeSettings>, AppError> {
    Ok(Json(
        chat::update_intake(&state, &source, &user, &request).await?,
    ))
}

/// Blocks one of the caller's patients: they can no longer write to the caller.
#[utoipa::path(
    put,
    path = "/api/patients/{id}/block",
    tag = "care",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The patient's user id")),
    responses(
        (status = 200, description = "The doctor's setting, the patient among the blocked", body = IntakeSettings),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
        (status = 404, description = "Not a patient of the caller's", body = ApiError),
    )
)]
#[tracing::instrument(name = "block_patient", skip_all, fields(user = %user.id, patient = %id))]
pub async fn block(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<IntakeSettings>, AppError> {
    let result = chat::block_patient(&state, &source, &user, id, true).await;
    Ok(Json(refusal_counted(&state, &source, &user, result)?))
}

/// Lifts a block.
#[utoipa::path(
    delete,
    path = "/api/patients/{id}/block",
    tag = "care",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The patient's user id")),
    responses(
        (status = 200, description = "The doctor's setting, the patient no longer blocked", body = IntakeSettings),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
        (status = 404, description = "Not a patient of the caller's", body = ApiError),
    )
)]
#[tracing::instrument(name = "unblock_patient", skip_all, fields(user = %user.id, patient = %id))]
pub async fn unblock(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<IntakeSettings>, AppError> {
    let result = chat::block_patient(&state, &source, &user, id, false).await;
    Ok(Json(refusal_counted(&state, &source, &user, result)?))
}

/// Whether the caller (a patient) may start a request with each of their doctors, and why not:
/// what the app tells them before they type.
#[utoipa::path(
    get,
    path = "/api/care-team/intake",
    tag = "care",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One status per doctor of the care team", body = Vec<IntakeStatus>),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a patient", body = ApiError),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "intake_statuses", skip_all, fields(user = %user.id))]
pub async fn statuses(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
) -> Result<Json<Vec<IntakeStatus>>, AppError> {
    let statuses = chat::intake_statuses(&state, &user).await?;
    let entry = Entry::new(Action::IntakeRead, Some(user.id));
    state.audit.read(&source, entry).await?;
    Ok(Json(statuses))
}

/// Counts a refused access to a patient (404, 403) in the audit trail, then passes the result on.
fn refusal_counted<T>(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    result: Result<T, AppError>,
) -> Result<T, AppError> {
    if let Err(error) = &result
        && error.is_access_denial()
    {
        let entry =
            Entry::new(Action::AccessDenied, Some(user.id)).detail(format!("{:?}", error.code()));
        state.audit.refused(source, &entry);
    }
    result
}
