//! `GET /api/health`.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use colloque_protocol::HealthResponse;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// Liveness and readiness: answers 200 `ok` when the database answers, 503 otherwise.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "health",
    responses(
        (status = 200, description = "Healthy", body = HealthResponse),
        (status = 503, description = "The database is unreachable", body = HealthResponse),
    )
)]
#[tracing::instrument(name = "health", skip_all)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthResponse>) {
    let healthy = state
        .store
        .ping()
        .await
        .inspect_err(|error| tracing::error!(%error, "health check failed"))
        .is_ok();
    let (status, text) = if healthy {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (
        status,
        Json(HealthResponse {
            status: text.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }),
    )
}
