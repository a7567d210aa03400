//! Web Push: the server's VAPID key, `GET /api/push/key`, and the caller's browsers,
//! `GET|POST /api/me/push-subscriptions`, `DELETE /api/me/push-subscriptions/{id}`. The rules
//! are in [`crate::notify`] (`subscriptions.rs`, `push.rs`); docs/notifications.md.

use super::{ApiJson, ApiPath};
use crate::audit::Source;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::notify::subscriptions;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use colloque_protocol::{
    ApiError, MAX_PUSH_ENDPOINT_BYTES, PushKey, PushSubscription, PushSubscriptionId,
    PushSubscriptionRequest,
};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/push/key", get(key))
        .route("/me/push-subscriptions", get(list).post(subscribe))
        .route("/me/push-subscriptions/{id}", delete(unsubscribe))
}

/// The server's VAPID public key (RFC 8292), for `PushManager.subscribe`'s
/// `applicationServerKey`. Public: it is in every push the server sends.
#[utoipa::path(
    get,
    path = "/api/push/key",
    tag = "notifications",
    responses(
        (status = 200, description = "The uncompressed P-256 public key, base64url", body = PushKey),
    )
)]
pub async fn key(State(state): State<AppState>) -> Json<PushKey> {
    Json(PushKey {
        public_key: state.notifier.push.public_key().to_owned(),
    })
}

/// The caller's subscribed browsers (their push service only).
#[utoipa::path(
    get,
    path = "/api/me/push-subscriptions",
    tag = "notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's subscriptions, oldest first", body = Vec<PushSubscription>),
        (status = 401, description = "No valid session", body = ApiError),
    )
)]
#[tracing::instrument(name = "push_subscriptions", skip_all, fields(user = %user.id))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<PushSubscription>>, AppError> {
    Ok(Json(subscriptions::list(&state, &user).await?))
}

/// Stores this browser's subscription for the caller (or renews it: the same endpoint again);
/// audited.
#[utoipa::path(
    post,
    path = "/api/me/push-subscriptions",
    tag = "notifications",
    security(("bearer" = [])),
    request_body = PushSubscriptionRequest,
    responses(
        (status = 201, description = "Stored", body = PushSubscription),
        (status = 400, description = "Malformed body, an endpoint that is not https://, keys of the wrong length", body = ApiError),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 409, description = "10 browsers subscribed already (`limit_reached`)", body = ApiError),
    )
)]
#[tracing::instrument(name = "push_subscribe", skip_all, fields(user = %user.id))]
pub async fn subscribe(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiJson(request): ApiJson<PushSubscriptionRequest>,
) -> Result<(StatusCode, Json<PushSubscription>), AppError> {
    let stored = subscriptions::subscribe(&state, &source, &user, &request).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Deletes one of the caller's subscriptions; audited.
#[utoipa::path(
    delete,
    path = "/api/me/push-subscriptions/{id}",
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid session", body = ApiError),
        (status = 404, description = "No subscription of this id among the caller's", body = ApiError),
    )
)]
#[tracing::instrument(name = "push_unsubscribe", skip_all, fields(user = %user.id, subscription = %id))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    source: Source,
    user: AuthUser,
    ApiPath(id): ApiPath<PushSubscriptionId>,
) -> Result<StatusCode, AppError> {
    subscriptions::unsubscribe(&state, &source, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the OpenAPI document says a subscription holds (`super::openapi_contract`): an
/// `https://` URL of at most [`MAX_PUSH_ENDPOINT_BYTES`] (a host of letters, digits, dots and
/// hyphens, an optional port, a path of URL characters), a 65-byte point starting with `0x04`
/// and a 16-byte secret, both base64url (padding allowed; the last character's unused bits
/// zero, as the decoder requires). The point's being on the curve
/// cannot be said by a pattern: one that is not is accepted, and its subscription is deleted
/// at its first push.
pub(super) fn contract(document: &mut Value) {
    use super::openapi_contract::property_mut;
    if let Some(endpoint) = property_mut(document, "PushSubscriptionRequest", "endpoint") {
        endpoint.insert(
            "pattern".into(),
            json!(crate::notify::push::ENDPOINT_PATTERN),
        );
        endpoint.insert("maxLength".into(), json!(MAX_PUSH_ENDPOINT_BYTES));
    }
    if let Some(p256dh) = property_mut(document, "PushSubscriptionKeys", "p256dh") {
        p256dh.insert(
            "pattern".into(),
            json!("^B[A-P][A-Za-z0-9_-]{84}[AEIMQUYcgkosw048]=?$"),
        );
    }
    if let Some(auth) = property_mut(document, "PushSubscriptionKeys", "auth") {
        auth.insert("pattern".into(), json!("^[A-Za-z0-9_-]{21}[AQgw](==)?$"));
    }
}
