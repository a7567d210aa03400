//! The typing indicator's choice (docs/protocol.md, "Typing indicator").

use super::requests::request;
use super::{Api, Error};
use colloque_protocol::TypingSettings;
use gloo_net::http::Method;

/// `GET /api/me/typing`.
pub async fn settings(api: &Api) -> Result<TypingSettings, Error> {
    request::<(), _>(api, Method::GET, "/me/typing", &[], None).await
}

/// `PUT /api/me/typing`: the choice as saved.
pub async fn save(api: &Api, settings: TypingSettings) -> Result<TypingSettings, Error> {
    request(api, Method::PUT, "/me/typing", &[], Some(&settings)).await
}
