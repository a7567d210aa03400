//! The security headers on every response, static files included: the Content-Security-Policy
//! computed at start ([`Security`]), no MIME sniffing, no referrer, no framing, no shared
//! browsing context or embedding by other sites, no powerful features, and HSTS behind a TLS
//! proxy.

use crate::security::Security;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Request, header};
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// `router` with every security header added where the answer has not set it already.
pub(crate) fn add<S>(router: Router<S>, security: &Arc<Security>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            security.csp.clone(),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // No other window keeps a handle on the app's, and no other site embeds its files.
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        // The app uses none of these; a script injected anyway could not either.
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=(), \
                 interest-cohort=()",
            ),
        ))
        .layer(axum::middleware::from_fn_with_state(
            security.clone(),
            strict_transport_security,
        ))
}

/// HSTS (two years, subdomains included) on answers to requests that reached the proxy over
/// TLS: a trusted proxy says so with `X-Forwarded-Proto: https`. Over plain HTTP the header
/// would be ignored by browsers, and from an untrusted peer the claim means nothing.
async fn strict_transport_security(
    State(security): State<Arc<Security>>,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let over_tls = security.over_tls(peer, request.headers());
    let mut response = next.run(request).await;
    if over_tls {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}
