//! Logging set-up (zero2prod style): `RUST_LOG` filters, human-readable output by default,
//! one JSON object per line with `COLLOQUE_LOG_FORMAT=json` (for log shippers).
//!
//! What is never logged: message bodies, passwords, tokens. Handlers and queries skip those
//! arguments in `#[tracing::instrument]`, domain types holding them have redacting `Debug`
//! impls, and request logging records method, path and status only (no headers, no bodies).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// The filter used when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,tower_http=info,sqlx=warn";

/// Installs the global subscriber. Safe to call twice (the second call does nothing), which
/// matters for tests that build several applications in one process.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("COLLOQUE_LOG_FORMAT").is_ok_and(|format| format == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr.with_max_level(tracing::Level::TRACE));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
