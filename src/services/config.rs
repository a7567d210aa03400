//! `config.json`, next to `index.html`: read once at start-up.

use crate::config::{Config, DEFAULT_IDLE_TIMEOUT_SECS};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    #[serde(default)]
    api_base: String,
    #[serde(default)]
    ws_url: String,
    #[serde(default)]
    idle_timeout_secs: Option<u32>,
}

/// Loads `config.json`; any failure (404, bad JSON, network) falls back to same origin.
pub async fn load() -> Config {
    // Absolute: a deep link such as /patient/messages/3 must not look for
    // /patient/messages/config.json. The app is served from the root (trunk's public URL).
    let raw = match gloo_net::http::Request::get("/config.json").send().await {
        Ok(resp) if resp.ok() => resp
            .text()
            .await
            .ok()
            .and_then(|text| super::json::from_str(&text).ok())
            .unwrap_or_default(),
        _ => RawConfig::default(),
    };
    let (protocol, host) = location();
    Config::resolve(&raw.api_base, &raw.ws_url, &protocol, &host)
        .with_idle_timeout_secs(raw.idle_timeout_secs.unwrap_or(DEFAULT_IDLE_TIMEOUT_SECS))
}

/// The page's protocol and host.
fn location() -> (String, String) {
    web_sys::window()
        .map(|w| w.location())
        .map(|l| {
            (
                l.protocol().unwrap_or_default(),
                l.host().unwrap_or_default(),
            )
        })
        .unwrap_or_default()
}
