//! `GET /api/appointments`.

use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use colloque_protocol::{ApiError, Appointment};

pub fn router() -> Router<AppState> {
    Router::new().route("/appointments", get(list))
}

/// The caller's appointments (as patient or as doctor), earliest first, past ones included.
#[utoipa::path(
    get,
    path = "/api/appointments",
    tag = "appointments",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Appointments in ascending start order", body = Vec<Appointment>),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 503, description = "The read could not be recorded in the audit trail (`server_busy`); nothing returned", body = ApiError),
    )
)]
#[tracing::instrument(name = "appointments", skip_all, fields(user = %user.id))]
pub async fn list(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
) -> Result<Json<Vec<Appointment>>, AppError> {
    let appointments = state.store.appointments_for(user.id, user.role).await?;
    let entry = Entry::new(Action::AppointmentsListed, Some(user.id));
    state.audit.read(&source, entry).await?;
    Ok(Json(appointments))
}
