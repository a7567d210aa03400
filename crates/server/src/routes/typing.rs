//! The typing indicator's choice, `GET|PUT /api/me/typing`. The indicator itself travels on
//! the WebSocket (`typing` frames, docs/protocol.md).

use super::ApiJson;
use crate::audit::Source;
use crate::auth::AuthUser;
use crate::chat;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use colloque_protocol::{ApiError, TypingSettings};

pub fn router() -> Router<AppState> {
    Router::new().route("/me/typing", get(read).put(update))
}

/// Whether the caller's writing is shown to the other participant (yes, until they say no).
#[utoipa::path(
    get,
    path = "/api/me/typing",
    tag = "conversations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's choice", body = TypingSettings),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "typing_settings", skip_all, fields(user = %user.id))]
pub async fn read(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<TypingSettings>, AppError> {
    Ok(Json(chat::typing_settings(&state, &user).await?))
}

/// Replaces the caller's choice (audited).
#[utoipa::path(
    put,
    path = "/api/me/typing",
    tag = "conversations",
    security(("bearer" = [])),
    request_body = TypingSettings,
    responses(
        (status = 200, description = "The new choice", body = TypingSettings),
        (status = 400, description = "Malformed body", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "update_typing_settings", skip_all, fields(user = %user.id))]
pub async fn update(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<TypingSettings>,
) -> Result<Json<TypingSettings>, AppError> {
    Ok(Json(
        chat::update_typing_settings(&state, &source, &user, request).await?,
    ))
}
