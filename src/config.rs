//! Runtime configuration: where the API and the WebSocket live and when an idle session ends,
//! resolved from `config.json` (read by [`crate::services::config::load`]) and the page's
//! location, so one build serves every environment. A missing, empty or unreadable file means
//! "same origin".

use yew::prelude::*;

/// Automatic logoff after this much inactivity, unless `config.json` says otherwise.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u32 = 15 * 60;
/// How long before the automatic logoff the warning shows.
pub const IDLE_WARNING_SECS: u32 = 60;

/// Where the REST API and the WebSocket live, and when an idle session ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Prefix put before `/api/...`; empty for the page's own origin.
    pub api_base: String,
    /// The WebSocket URL (`ws://host/ws` or `wss://host/ws`).
    pub ws_url: String,
    /// Automatic logoff after this many milliseconds without activity (`idle_timeout_secs`).
    pub idle_timeout_ms: u32,
    /// The warning shows this many milliseconds before the logoff.
    pub idle_warning_ms: u32,
}

impl Config {
    /// Builds the configuration from the file's values (possibly blank) and the page location.
    pub fn resolve(api_base: &str, ws_url: &str, protocol: &str, host: &str) -> Self {
        let api_base = api_base.trim().trim_end_matches('/').to_owned();
        let ws_url = match ws_url.trim() {
            "" => derive_ws_url(protocol, host),
            url => url.to_owned(),
        };
        Self {
            api_base,
            ws_url,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_SECS * 1000,
            idle_warning_ms: IDLE_WARNING_SECS * 1000,
        }
    }

    /// Sets the inactivity limit; the warning comes a minute before it, or at half of it
    /// for limits under two minutes (end-to-end tests use a few seconds). 0 means the default.
    pub fn with_idle_timeout_secs(self, secs: u32) -> Self {
        let secs = if secs == 0 {
            DEFAULT_IDLE_TIMEOUT_SECS
        } else {
            secs
        };
        let timeout = secs.saturating_mul(1000);
        self.with_idle_timeout_ms(timeout, (timeout / 2).min(IDLE_WARNING_SECS * 1000))
    }

    /// Sets the inactivity limit and warning in milliseconds, unchecked (tests use tiny ones).
    pub fn with_idle_timeout_ms(mut self, timeout: u32, warning: u32) -> Self {
        self.idle_timeout_ms = timeout;
        self.idle_warning_ms = warning.min(timeout);
        self
    }
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
    fn the_idle_limit_defaults_to_fifteen_minutes_with_a_warning_a_minute_before() {
        let config = Config::resolve("", "", "https:", "x");
        assert_eq!(config.idle_timeout_ms, 900_000);
        assert_eq!(config.idle_warning_ms, 60_000);
        let short = config.clone().with_idle_timeout_secs(60);
        assert_eq!(
            (short.idle_timeout_ms, short.idle_warning_ms),
            (60_000, 30_000)
        );
        let tiny = config.clone().with_idle_timeout_secs(4);
        assert_eq!((tiny.idle_timeout_ms, tiny.idle_warning_ms), (4_000, 2_000));
        let zero = config.with_idle_timeout_secs(0);
        assert_eq!(zero.idle_timeout_ms, 900_000);
    }

    #[test]
    fn explicit_values_win_and_lose_their_trailing_slash() {
        let config = Config::resolve("https://api.example/", "wss://ws.example/ws", "http:", "x");
        assert_eq!(config.api_base, "https://api.example");
        assert_eq!(config.ws_url, "wss://ws.example/ws");
    }
}
