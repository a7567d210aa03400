//! `GET /api/health`.

use crate::bus::BusState;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use colloque_protocol::HealthResponse;

/// How long the health check waits for the database.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

/// Liveness and readiness, for a load balancer and an operator: 200 `ok`; 200 `degraded` when
/// the bus is down (this instance still stores and delivers; its users' messages reach the
/// other instances within the sweep interval); 503 `failing` when the database does not answer.
#[utoipa::path(
    get,
    path = "/api/health",
    tag = "health",
    responses(
        (status = 200, description = "Serving: ok, or degraded (bus down)", body = HealthResponse),
        (status = 503, description = "The database is unreachable", body = HealthResponse),
    )
)]
#[tracing::instrument(name = "health", skip_all)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<HealthResponse>) {
    // A probe answers quickly, whatever the database does (the pool waits up to 10 s).
    let database = match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::error!(%error, "health check: the database does not answer");
            false
        }
        Err(_) => {
            tracing::error!("health check: the database did not answer in time");
            false
        }
    };
    let bus = state.delivery.bus().state();
    let (code, status) = match (database, bus) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "failing"),
        (true, BusState::Down) => (StatusCode::OK, "degraded"),
        (true, BusState::Up | BusState::Local) => (StatusCode::OK, "ok"),
    };
    let bus = match bus {
        BusState::Local => "local",
        BusState::Up => "up",
        BusState::Down => "down",
    };
    (
        code,
        Json(HealthResponse {
            status: status.to_owned(),
            database: if database { "ok" } else { "unreachable" }.to_owned(),
            bus: bus.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }),
    )
}
