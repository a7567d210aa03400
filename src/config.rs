//! Runtime configuration, read at start-up from `config.json` next to `index.html`, so one
//! build serves every environment. A missing, empty or unreadable file means "same origin".

use serde::Deserialize;
use yew::prelude::*;

/// Where the REST API and the WebSocket live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Prefix put before `/api/...`; empty for the page's own origin.
    pub api_base: String,
    /// The WebSocket URL (`ws://host/ws` or `wss://host/ws`).
    pub ws_url: String,
}

#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    #[serde(default)]
    api_base: String,
    #[serde(default)]
    ws_url: String,
}

impl Config {
    /// Builds the configuration from the file's values (possibly blank) and the page location.
    pub fn resolve(api_base: &str, ws_url: &str, protocol: &str, host: &str) -> Self {
        let api_base = api_base.trim().trim_end_matches('/').to_owned();
        let ws_url = match ws_url.trim() {
            "" => derive_ws_url(protocol, host),
            url => url.to_owned(),
        };
        Self { api_base, ws_url }
    }

    /// Loads `config.json`; any failure (404, bad JSON, network) falls back to same origin.
    pub async fn load() -> Self {
        // Absolute: a deep link such as /patient/messages/3 must not look for
        // /patient/messages/config.json. The app is served from the root (trunk's public URL).
        let raw = match gloo_net::http::Request::get("/config.json").send().await {
            Ok(resp) if resp.ok() => resp.json::<RawConfig>().await.unwrap_or_default(),
            _ => RawConfig::default(),
        };
        let location = gloo_utils_location();
        Self::resolve(&raw.api_base, &raw.ws_url, &location.0, &location.1)
    }
}

fn gloo_utils_location() -> (String, String) {
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

/// `wss://host/ws` for a page served over https, `ws://host/ws` otherwise.
pub fn derive_ws_url(protocol: &str, host: &str) -> String {
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{}", colloque_protocol::WS_PATH)
}

/// Reads the configuration provided by [`crate::app::App`].
#[hook]
pub fn use_config() -> std::rc::Rc<Config> {
    use_context::<std::rc::Rc<Config>>().expect("Config is provided by App")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_mean_the_pages_own_origin() {
        let config = Config::resolve("", " ", "https:", "colloque.example:8443");
        assert_eq!(config.api_base, "");
        assert_eq!(config.ws_url, "wss://colloque.example:8443/ws");
    }

    #[test]
    fn a_plain_http_page_gets_a_plain_ws_url() {
        assert_eq!(
            derive_ws_url("http:", "localhost:8080"),
            "ws://localhost:8080/ws"
        );
    }

    #[test]
    fn explicit_values_win_and_lose_their_trailing_slash() {
        let config = Config::resolve("https://api.example/", "wss://ws.example/ws", "http:", "x");
        assert_eq!(config.api_base, "https://api.example");
        assert_eq!(config.ws_url, "wss://ws.example/ws");
    }
}
