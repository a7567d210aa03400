//! Office hours, the promised reply time and absences (doctors): `GET|PUT
//! /api/me/reply-settings`, `POST /api/me/absences`, `DELETE /api/me/absences/{id}`, `GET
//! /api/me/colleagues`. What patients read of them comes with `GET /api/care-team/intake` and
//! every `ConversationSummary` (docs/care.md).

use super::{ApiJson, ApiPath};
use crate::audit::Source;
use crate::auth::AuthUser;
use crate::chat;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use colloque_protocol::{
    AbsenceId, ApiError, NewAbsenceRequest, ReplySettings, UpdateReplySettingsRequest, UserProfile,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/reply-settings", get(settings).put(update))
        .route("/me/absences", post(add_absence))
        .route("/me/absences/{id}", delete(delete_absence))
        .route("/me/colleagues", get(colleagues))
}

/// The caller's office hours, reply-time promise and absences not yet over.
#[utoipa::path(
    get,
    path = "/api/me/reply-settings",
    tag = "care",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The doctor's hours, promise and absences", body = ReplySettings),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
    )
)]
#[tracing::instrument(name = "reply_settings", skip_all, fields(user = %user.id))]
pub async fn settings(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<ReplySettings>, AppError> {
    Ok(Json(chat::reply_settings(&state, &user).await?))
}

/// Replaces the caller's office hours and reply-time promise.
#[utoipa::path(
    put,
    path = "/api/me/reply-settings",
    tag = "care",
    security(("bearer" = [])),
    request_body = UpdateReplySettingsRequest,
    responses(
        (status = 200, description = "The new settings", body = ReplySettings),
        (status = 400, description = "Malformed body, not seven days, a time not HH:MM, a promise over 10 working days", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
    )
)]
#[tracing::instrument(name = "update_reply_settings", skip_all, fields(user = %user.id))]
pub async fn update(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<UpdateReplySettingsRequest>,
) -> Result<Json<ReplySettings>, AppError> {
    Ok(Json(
        chat::update_reply_settings(&state, &source, &user, &request).await?,
    ))
}

/// Records an absence of the caller, with a colleague who covers.
#[utoipa::path(
    post,
    path = "/api/me/absences",
    tag = "care",
    security(("bearer" = [])),
    request_body = NewAbsenceRequest,
    responses(
        (status = 200, description = "The doctor's settings, with the absence (unless it is already over)", body = ReplySettings),
        (status = 400, description = "Malformed body, a day not YYYY-MM-DD", body = ApiError),
        (status = 409, description = "1,000 absences to come already (`limit_reached`)", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
        (status = 422, description = "The covering doctor is not a colleague of the caller's (`unknown_reference`)", body = ApiError),
    )
)]
#[tracing::instrument(name = "add_absence", skip_all, fields(user = %user.id))]
pub async fn add_absence(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<NewAbsenceRequest>,
) -> Result<Json<ReplySettings>, AppError> {
    Ok(Json(
        chat::add_absence(&state, &source, &user, &request).await?,
    ))
}

/// Deletes one of the caller's absences.
#[utoipa::path(
    delete,
    path = "/api/me/absences/{id}",
    tag = "care",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The absence's id")),
    responses(
        (status = 200, description = "The doctor's settings, without the absence", body = ReplySettings),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
        (status = 404, description = "No absence of the caller's has this id", body = ApiError),
    )
)]
#[tracing::instrument(name = "delete_absence", skip_all, fields(user = %user.id, absence = %id))]
pub async fn delete_absence(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<AbsenceId>,
) -> Result<Json<ReplySettings>, AppError> {
    Ok(Json(
        chat::delete_absence(&state, &source, &user, id).await?,
    ))
}

/// The caller's colleagues (enabled doctors who share a patient with them): who may cover.
#[utoipa::path(
    get,
    path = "/api/me/colleagues",
    tag = "care",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The colleagues, by name", body = Vec<UserProfile>),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
    )
)]
#[tracing::instrument(name = "colleagues", skip_all, fields(user = %user.id))]
pub async fn colleagues(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<UserProfile>>, AppError> {
    Ok(Json(chat::colleagues(&state, &user).await?))
}
