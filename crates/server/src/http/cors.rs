//! CORS: which other origins' pages may call the API.

use anyhow::Context;
use axum::http::{HeaderName, HeaderValue, Method, header};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Cross-origin calls from the allowed origins only (the same list as the WebSocket's), with
/// credentials: an app served from another origin of the same site (a CDN) sends its login,
/// refresh and logout with `credentials: "include"`, so that the browser stores and sends the
/// refresh cookie (`auth::cookie`), and may read the answers only if this says so. Safe with
/// an explicit list (never `*`, which browsers refuse with credentials anyway): the cookie is
/// only ever sent to the refresh route, which also checks `Origin` itself.
pub(crate) fn layer(origins: &[String]) -> anyhow::Result<CorsLayer> {
    let origins = origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin.trim())
                .with_context(|| format!("invalid allowed origin {origin:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .allow_credentials(true)
        .expose_headers([HeaderName::from_static("www-authenticate")])
        .max_age(Duration::from_secs(3600)))
}
