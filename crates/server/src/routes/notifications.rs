//! Notification choices, `GET|PUT /api/me/notifications`, and the one-click unsubscribe link
//! of every e-mail (RFC 8058): `POST /api/unsubscribe/{token}` turns e-mail off without a
//! session; `GET` on the same address (a click in the e-mail) shows a page whose button makes
//! that POST, and changes nothing itself (mail scanners follow links).

use super::{ApiJson, ApiPath};
use crate::audit::Source;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::notify::settings;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use colloque_protocol::{ApiError, NotificationSettings};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me/notifications", get(read).put(update))
        .route("/unsubscribe/{token}", get(confirm_page).post(unsubscribe))
}

/// The caller's notification choices (the defaults until they change them).
#[utoipa::path(
    get,
    path = "/api/me/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "E-mail and push on or off, quiet hours", body = NotificationSettings),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "notification_settings", skip_all, fields(user = %user.id))]
pub async fn read(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<NotificationSettings>, AppError> {
    Ok(Json(settings::settings(&state, &user).await?))
}

/// Replaces the caller's notification choices (audited).
#[utoipa::path(
    put,
    path = "/api/me/notifications",
    tag = "notifications",
    security(("bearer" = [])),
    request_body = NotificationSettings,
    responses(
        (status = 200, description = "The new choices", body = NotificationSettings),
        (status = 400, description = "Malformed body, or a time not HH:MM", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "update_notification_settings", skip_all, fields(user = %user.id))]
pub async fn update(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<NotificationSettings>,
) -> Result<Json<NotificationSettings>, AppError> {
    Ok(Json(
        settings::update(&state, &source, &user, &request).await?,
    ))
}

/// One-click unsubscribe (RFC 8058): turns e-mail off for the user the token names. No
/// session: the token is the proof. The body a mail client sends
/// (`List-Unsubscribe=One-Click`) is not needed.
#[utoipa::path(
    post,
    path = "/api/unsubscribe/{token}",
    tag = "notifications",
    params(("token" = String, Path, description = "The token of the e-mail's link")),
    responses(
        (status = 204, description = "E-mail is off for this user"),
        (status = 404, description = "Not a token of this server", body = ApiError),
    )
)]
#[tracing::instrument(name = "unsubscribe", skip_all)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    source: Source,
    ApiPath(token): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    settings::unsubscribe(&state, &source, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The page a click on the e-mail's link opens: a button that confirms (a POST to the same
/// address). Nothing changes until it is pressed. The token is not checked here: the page
/// says nothing about anybody.
#[utoipa::path(
    get,
    path = "/api/unsubscribe/{token}",
    tag = "notifications",
    params(("token" = String, Path, description = "The token of the e-mail's link")),
    responses(
        (status = 200, description = "An HTML page with a confirm button", content_type = "text/html"),
    )
)]
pub async fn confirm_page(ApiPath(token): ApiPath<String>) -> Html<String> {
    // The token goes back into the form's address: only URL-safe characters are kept.
    let token: String = token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    Html(format!(
        "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Colloque — e-mails</title></head><body>\
         <h1>Ne plus recevoir d'e-mails de Colloque</h1>\
         <p>Vous ne serez plus prévenu par e-mail d'un nouveau message. Vous pourrez les \
         réactiver dans les réglages de l'application.</p>\
         <p lang=\"en\">You will no longer be told by e-mail of a new message. You can turn \
         them on again in the app's settings.</p>\
         <form method=\"post\" action=\"/api/unsubscribe/{token}\">\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Confirmer / Confirm</button></form></body></html>\n"
    ))
}
