//! `GET /api/me`, `GET /api/care-team`, `GET /api/patients`.

use crate::audit::{Action, Entry, Source};
use crate::auth::{AuthUser, EnrollingUser};
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use colloque_protocol::{ApiError, Role, UserProfile};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/care-team", get(care_team))
        .route("/patients", get(patients))
}

/// The caller's profile.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "people",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = UserProfile),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "me", skip_all, fields(user = %user.id))]
pub async fn me(
    State(state): State<AppState>,
    EnrollingUser(user): EnrollingUser,
) -> Result<Json<UserProfile>, AppError> {
    let profile = state
        .store
        .profile(user.id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok(Json(profile))
}

/// A patient's doctors (the people they can start a conversation with).
#[utoipa::path(
    get,
    path = "/api/care-team",
    tag = "people",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The patient's doctors, by name", body = Vec<UserProfile>),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a patient", body = ApiError),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "care_team", skip_all, fields(user = %user.id))]
pub async fn care_team(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
) -> Result<Json<Vec<UserProfile>>, AppError> {
    if user.role != Role::Patient {
        return Err(AppError::Forbidden("only patients have a care team"));
    }
    let doctors = state.store.doctors_of(user.id).await?;
    let entry = Entry::new(Action::CareTeamListed, Some(user.id));
    state.audit.read(&source, entry).await?;
    Ok(Json(doctors))
}

/// A doctor's patients.
#[utoipa::path(
    get,
    path = "/api/patients",
    tag = "people",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The doctor's patients, by name", body = Vec<UserProfile>),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "patients", skip_all, fields(user = %user.id))]
pub async fn patients(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
) -> Result<Json<Vec<UserProfile>>, AppError> {
    if user.role != Role::Doctor {
        return Err(AppError::Forbidden("only doctors have patients"));
    }
    let patients = state.store.patients_of(user.id).await?;
    let entry = Entry::new(Action::PatientsListed, Some(user.id));
    state.audit.read(&source, entry).await?;
    Ok(Json(patients))
}
