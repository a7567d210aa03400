//! The files next to `index.html`: `config.json`, read once at start-up, and `en.json`, the
//! English words of the first-load build (crate::i18n), read when English is chosen.

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
    let raw: RawConfig = file_text("/config.json")
        .await
        .and_then(|text| super::json::from_str(&text).ok())
        .unwrap_or_default();
    let (protocol, host) = location();
    Config::resolve(&raw.api_base, &raw.ws_url, &protocol, &host)
        .with_idle_timeout_secs(raw.idle_timeout_secs.unwrap_or(DEFAULT_IDLE_TIMEOUT_SECS))
}

/// The words of `/en.json` (the first entry is their build's fingerprint), or `None` when they
/// cannot be had (offline and never kept by the service worker, or not a list of words).
pub async fn english_words() -> Option<Vec<String>> {
    super::json::from_str(&file_text("/en.json").await?).ok()
}

/// The text of a file next to `index.html`, or `None` (network, a status other than 2xx).
/// `path` is absolute: a deep link such as /patient/messages/3 must not look for
/// /patient/messages/config.json. The app is served from the root (trunk's public URL).
async fn file_text(path: &str) -> Option<String> {
    let resp = gloo_net::http::Request::get(path).send().await.ok()?;
    if !resp.ok() {
        return None;
    }
    resp.text().await.ok()
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
