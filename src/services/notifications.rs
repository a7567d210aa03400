//! The user's notification choices (docs/notifications.md).

use super::requests::request;
use super::{Api, Error};
use colloque_protocol::NotificationSettings;
use gloo_net::http::Method;

/// `GET /api/me/notifications`.
pub async fn settings(api: &Api) -> Result<NotificationSettings, Error> {
    request::<(), _>(api, Method::GET, "/me/notifications", &[], None).await
}

/// `PUT /api/me/notifications`: the choices as saved.
pub async fn save(
    api: &Api,
    settings: &NotificationSettings,
) -> Result<NotificationSettings, Error> {
    request(api, Method::PUT, "/me/notifications", &[], Some(settings)).await
}
