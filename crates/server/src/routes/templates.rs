//! Reply templates (doctors): `GET|POST /api/me/templates`, `PUT|DELETE /api/templates/{id}`.
//! The rules are in [`crate::chat`] (`templates.rs`); docs/protocol.md, "Reply templates".

use super::conversations::audited;
use super::{ApiJson, ApiPath};
use crate::audit::Source;
use crate::auth::AuthUser;
use crate::chat;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use colloque_protocol::{
    ApiError, MAX_TEMPLATE_BODY_CHARS, MAX_TEMPLATE_TITLE_CHARS, ReplyTemplate, TemplateId,
    TemplateRequest,
};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/templates", get(list).post(create))
        .route("/templates/{id}", put(update).delete(delete))
}

/// The caller's reply templates and every doctor's shared ones, by title.
#[utoipa::path(
    get,
    path = "/api/me/templates",
    tag = "care",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's templates and the shared ones", body = Vec<ReplyTemplate>),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
    )
)]
#[tracing::instrument(name = "templates", skip_all, fields(user = %user.id))]
pub async fn list(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
) -> Result<Json<Vec<ReplyTemplate>>, AppError> {
    let result = chat::templates(&state, &user).await;
    Ok(Json(
        audited(&state, &source, &user, None, None, result).await?,
    ))
}

/// Writes a reply template of the caller's, personal or shared.
#[utoipa::path(
    post,
    path = "/api/me/templates",
    tag = "care",
    security(("bearer" = [])),
    request_body = TemplateRequest,
    responses(
        (status = 201, description = "Stored", body = ReplyTemplate),
        (status = 400, description = "Malformed body, an empty or too long title or text, or a title with a control character", body = ApiError),
        (status = 409, description = "100 templates already (`limit_reached`)", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor", body = ApiError),
    )
)]
#[tracing::instrument(name = "create_template", skip_all, fields(user = %user.id))]
pub async fn create(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<TemplateRequest>,
) -> Result<(StatusCode, Json<ReplyTemplate>), AppError> {
    let result = chat::create_template(&state, &source, &user, &request).await;
    let template = audited(&state, &source, &user, None, None, result).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

/// Replaces one of the caller's templates (title, text, shared).
#[utoipa::path(
    put,
    path = "/api/templates/{id}",
    tag = "care",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The template's id")),
    request_body = TemplateRequest,
    responses(
        (status = 200, description = "The template as stored", body = ReplyTemplate),
        (status = 400, description = "Malformed body, an empty or too long title or text, a title with a control character", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor, or the template is another doctor's shared one (`forbidden`)", body = ApiError),
        (status = 404, description = "No template of this id that the caller can see", body = ApiError),
    )
)]
#[tracing::instrument(name = "update_template", skip_all, fields(user = %user.id, template = %id))]
pub async fn update(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<TemplateId>,
    ApiJson(request): ApiJson<TemplateRequest>,
) -> Result<Json<ReplyTemplate>, AppError> {
    let result = chat::update_template(&state, &source, &user, id, &request).await;
    Ok(Json(
        audited(&state, &source, &user, None, None, result).await?,
    ))
}

/// Deletes one of the caller's templates (messages sent from it keep its id).
#[utoipa::path(
    delete,
    path = "/api/templates/{id}",
    tag = "care",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The template's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 403, description = "The caller is not a doctor, or the template is another doctor's shared one (`forbidden`)", body = ApiError),
        (status = 404, description = "No template of this id that the caller can see", body = ApiError),
    )
)]
#[tracing::instrument(name = "delete_template", skip_all, fields(user = %user.id, template = %id))]
pub async fn delete(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<TemplateId>,
) -> Result<StatusCode, AppError> {
    let result = chat::delete_template(&state, &source, &user, id).await;
    audited(&state, &source, &user, None, None, result).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the OpenAPI document says a template request holds (`super::openapi_contract`): a
/// title of 1 to [`MAX_TEMPLATE_TITLE_CHARS`] characters once trimmed, without control
/// characters (`domain::TemplateTitle`), and a text of 1 to [`MAX_TEMPLATE_BODY_CHARS`]
/// without NUL (`domain::TemplateBody`).
pub(super) fn contract(document: &mut Value) {
    use super::openapi_contract::{BODY_CHARACTERS, CONTROL, property_mut, trimmed_pattern};
    if let Some(title) = property_mut(document, "TemplateRequest", "title") {
        let characters = format!("^{CONTROL}");
        title.insert(
            "pattern".into(),
            json!(trimmed_pattern(1, MAX_TEMPLATE_TITLE_CHARS, &characters)),
        );
    }
    if let Some(body) = property_mut(document, "TemplateRequest", "body") {
        body.insert(
            "pattern".into(),
            json!(trimmed_pattern(1, MAX_TEMPLATE_BODY_CHARS, BODY_CHARACTERS)),
        );
    }
}
