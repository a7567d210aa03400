//! The built web app, with its cache headers.

use axum::Router;
use axum::http::{HeaderValue, Request, StatusCode, header};
use std::path::Path;
use tower_http::services::{ServeDir, ServeFile};

/// The built web app. Deep links (`/patient/messages/3`) are app routes, not files: every
/// other path gets index.html and the app's router takes over. The doctor's screens and the
/// account and documents pages are a second build (src/second_build.rs): each of
/// [`colloque_protocol::SECOND_BUILD_PATHS`] and every path below it get its page,
/// `medecin.html`, when the directory has one (a first-load build alone serves them all). The brotli or gzip copy that
/// `cargo xtask build` writes next to a file is sent when the browser accepts it.
///
/// Caching: trunk names every asset after a hash of its content (`colloque-<16 hex>_bg.wasm`),
/// so such a file never changes and a browser may keep it for a year; index.html,
/// config.json and en.json keep their names, so they are revalidated on every load and a new
/// deployment is picked up at once.
/// The second build's page (written by `cargo xtask build`).
pub(crate) const DOCTOR_HTML: &str = "medecin.html";

pub(crate) fn router(dir: &Path) -> Router {
    let index = dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(path = %index.display(), "the static directory has no index.html");
    }
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(
            ServeFile::new(index)
                .precompressed_br()
                .precompressed_gzip(),
        );
    let mut router = Router::new();
    let doctor = dir.join(DOCTOR_HTML);
    if doctor.is_file() {
        let page = ServeFile::new(doctor)
            .precompressed_br()
            .precompressed_gzip();
        for path in colloque_protocol::SECOND_BUILD_PATHS {
            // `{*rest}` needs a segment: the trailing slash is a route of its own.
            router = router
                .route_service(path, page.clone())
                .route_service(&format!("{path}/"), page.clone())
                .route_service(&format!("{path}/{{*rest}}"), page.clone());
        }
    }
    router
        .fallback_service(files)
        .layer(axum::middleware::from_fn(static_cache_control))
}

async fn static_cache_control(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let hashed = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    // index.html answers for missing files too: only a real hashed asset is immutable.
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    // A 304 carries the headers a cache copies onto its stored copy: keep the year there too.
    let fresh = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let value = if hashed && fresh && !is_html {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    // The answer depends on Accept-Encoding (a brotli or gzip copy): a cache in front of the
    // server must not hand one browser's encoding to another.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether a path names a content-hashed file: `…/name-<hex>.ext` or `…/name-<hex>_bg.wasm`,
/// with 8 to 16 hex digits (trunk does not pad its hashes; `cargo xtask build` renames the
/// wasm and JS after the hash of their final bytes, 16 digits). Works on bytes: a path may
/// hold any UTF-8.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default().as_bytes();
    let Some(dot) = name.iter().position(|&b| b == b'.') else {
        return false;
    };
    let stem = &name[..dot];
    let Some(dash) = stem.iter().rposition(|&b| b == b'-') else {
        return false;
    };
    let tail = &stem[dash + 1..];
    let digits = tail.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let rest = &tail[digits..];
    (8..=16).contains(&digits) && (rest.is_empty() || rest.starts_with(b"_"))
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn only_trunks_content_hashed_names_count_as_immutable() {
        for hashed in [
            "/colloque-e52948a2040c9c43_bg.wasm",
            "/colloque-e52948a2040c9c43.js",
            "/favicon-faecd9f2a6510f8f.svg",
            // trunk does not pad: a 15-digit hash is still a hash.
            "/colloque-e52948a2040c9c4.js",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in [
            "/",
            "/index.html",
            "/config.json",
            "/en.json",
            "/medecin/messages/3",
            "/colloque_bg.wasm",
            "/colloque-e529.js",
            "/colloque-e52948a2040c9c43x.js",
            "/colloque-e52948a2040c9c43a0.js",
            "/a-xééééééééé.js",
            "/é-é.é",
            "/-",
            "/colloque-zz52948a2040c9c43.js",
            "/patient/messages/e52948a2040c9c43",
            "/a-e52948a2040c9c43",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }
}
