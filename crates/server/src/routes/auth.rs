//! `POST /api/auth/login`, `POST /api/auth/logout`.

use super::ApiJson;
use crate::auth::{AuthUser, SessionId};
use crate::db;
use crate::domain::Email;
use crate::error::AppError;
use crate::state::AppState;
use crate::util::now_ms;
use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use colloque_protocol::{ApiError, LoginRequest, LoginResponse};
use secrecy::SecretString;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
}

/// Exchanges email and password for an access token bound to a new session.
///
/// An unknown email, a wrong password and a disabled account give the same 401
/// `invalid_credentials`, and take the same time (an unknown email is verified against a
/// dummy hash).
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ApiError),
        (status = 401, description = "Invalid credentials", body = ApiError),
    )
)]
#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let password = SecretString::from(request.password);
    let account = match Email::parse(&request.email) {
        Ok(email) => db::users::credentials_by_email(&state.db, &email).await?,
        Err(_) => None,
    };
    let stored = account
        .as_ref()
        .map(|account| account.password_hash.clone());
    let verified = state.passwords.verify(&password, stored).await?;
    let account = match account {
        Some(account) if verified && !account.disabled => account,
        _ => {
            tracing::info!("login refused");
            return Err(AppError::InvalidCredentials);
        }
    };

    let session = SessionId::generate();
    let issued = state
        .tokens
        .issue(account.id, account.role, &session.0)
        .context("failed to sign a token")?;
    db::sessions::insert(&state.db, &session, account.id, now_ms(), issued.expires_at).await?;
    let user = db::users::profile(&state.db, account.id)
        .await?
        .context("the user vanished during login")?;
    tracing::info!(user = %account.id, "logged in");
    Ok(Json(LoginResponse {
        token: issued.token,
        expires_at: issued.expires_at,
        user,
    }))
}

/// Revokes the caller's session: its token stops working at once, on every route and socket.
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
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, AppError> {
    db::sessions::revoke(&state.db, &user.session, now_ms()).await?;
    state.hub.close_session(&user.session);
    Ok(StatusCode::NO_CONTENT)
}
