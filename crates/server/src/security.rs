//! Browser-facing defences computed once at start-up: the allowed origins (CORS and the
//! WebSocket's `Origin` check share one list) and the Content-Security-Policy, whose
//! `script-src` carries the hashes of the inline scripts of the served `index.html`.

use crate::config::{Config, TRUNK_DEV_ORIGINS};
use anyhow::Context;
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// What the browser defences need, shared by every request.
#[derive(Debug)]
pub struct Security {
    origins: Vec<String>,
    /// The proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The `Content-Security-Policy` header value.
    pub csp: HeaderValue,
    /// Production mode: cookies are always `Secure`.
    pub production: bool,
}

impl Security {
    /// Builds the allowlist and the CSP for a server bound to `bound`.
    pub fn new(config: &Config, bound: SocketAddr) -> anyhow::Result<Self> {
        let origins = allowed_origins(config, bound);
        let script_hashes = match &config.static_dir {
            Some(dir) => index_script_hashes(dir)?,
            None => Vec::new(),
        };
        let csp = content_security_policy(&script_hashes, &origins);
        Ok(Self {
            csp: HeaderValue::from_str(&csp).context("the CSP is not a valid header value")?,
            origins,
            trusted_proxies: config.trusted_proxies.clone(),
            production: config.production,
        })
    }

    /// True when the request reached the edge over TLS: a trusted proxy (the `peer`) says so
    /// with `X-Forwarded-Proto: https`. From an untrusted peer the claim means nothing.
    pub fn over_tls(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        peer.is_some_and(|peer| {
            let peer = peer.to_canonical();
            self.trusted_proxies.iter().any(|net| net.contains(&peer))
        }) && headers
            .get("x-forwarded-proto")
            .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"))
    }

    /// Whether cookies set in answer to this request must be `Secure`: always in production,
    /// and whenever the request came over TLS. (Over plain HTTP a browser would drop them.)
    pub fn secure_cookies(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        self.production || self.over_tls(peer, headers)
    }

    /// Every allowed origin, lowercase.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// True when a browser page of `origin` may use the API and the WebSocket.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        self.origins.contains(&origin)
    }
}

/// The server's own origins (as reached through its bind address), the configured ones, and
/// trunk's dev server outside production.
fn allowed_origins(config: &Config, bound: SocketAddr) -> Vec<String> {
    let port = bound.port();
    let mut origins: Vec<String> = match bound.ip() {
        ip if ip.is_unspecified() || ip.is_loopback() => vec![
            format!("http://127.0.0.1:{port}"),
            format!("http://localhost:{port}"),
            format!("http://[::1]:{port}"),
        ],
        IpAddr::V4(ip) => vec![format!("http://{ip}:{port}")],
        IpAddr::V6(ip) => vec![format!("http://[{ip}]:{port}")],
    };
    origins.extend(
        config
            .allowed_origins
            .iter()
            .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase()),
    );
    if !config.production {
        origins.extend(TRUNK_DEV_ORIGINS.iter().map(|origin| (*origin).to_owned()));
    }
    origins.sort();
    origins.dedup();
    origins
}

/// The hashes of the inline scripts of `<dir>/index.html` and of the second build's page,
/// `medecin.html` (none for a page that is not there).
fn index_script_hashes(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut hashes = Vec::new();
    for page in ["index.html", crate::http::static_files::DOCTOR_HTML] {
        let path = dir.join(page);
        match std::fs::read_to_string(&path) {
            Ok(html) => hashes.extend(inline_script_hashes(&html)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("failed to read {}", path.display()));
            }
        }
    }
    hashes.dedup();
    Ok(hashes)
}

/// `'sha256-…'` for the content of every inline `<script>` (one without `src`), in document
/// order. Trunk injects an inline module script that loads the wasm; hashing it lets the CSP
/// allow exactly that script and no other inline code.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut hashes = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<script").map(|at| at + from) {
        let Some(tag_end) = lower[start..].find('>').map(|at| at + start) else {
            break;
        };
        let tag = &lower[start..tag_end];
        let Some(close) = lower[tag_end..].find("</script").map(|at| at + tag_end) else {
            break;
        };
        if !has_src_attribute(tag) {
            // ASCII lowercasing keeps byte offsets, so they index the original text.
            let content = &html[tag_end + 1..close];
            let digest = Sha256::digest(content.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        from = close + "</script".len();
    }
    hashes
}

fn has_src_attribute(tag: &str) -> bool {
    tag.split(|c: char| c.is_ascii_whitespace())
        .any(|attribute| attribute == "src" || attribute.starts_with("src="))
}

/// The policy: only this origin's scripts (plus the hashed inline ones and wasm compilation),
/// styles and images; connections to this origin and the allowed ones (and their WebSocket
/// forms); no plugins, no `<base>`, no framing, forms only to this origin.
pub fn content_security_policy(script_hashes: &[String], origins: &[String]) -> String {
    let mut script_src = vec!["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()];
    script_src.extend(script_hashes.iter().cloned());
    let mut connect_src = vec!["'self'".to_owned()];
    for origin in origins {
        connect_src.push(origin.clone());
        if let Some(host) = origin.strip_prefix("https://") {
            connect_src.push(format!("wss://{host}"));
        } else if let Some(host) = origin.strip_prefix("http://") {
            connect_src.push(format!("ws://{host}"));
        }
    }
    format!(
        "default-src 'self'; script-src {}; style-src 'self'; connect-src {}; \
         img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self'",
        script_src.join(" "),
        connect_src.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = r#"<!doctype html><html><head>
<script src="/app.js"></script>
<SCRIPT type="module">import init from '/colloque.js';init();</SCRIPT>
<script>alert(1)</script>
</head></html>"#;
        let hashes = inline_script_hashes(html);
        let expected = |content: &str| {
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(content))
            )
        };
        assert_eq!(
            hashes,
            vec![
                expected("import init from '/colloque.js';init();"),
                expected("alert(1)")
            ]
        );
    }

    #[test]
    fn a_known_hash_matches_what_browsers_compute() {
        // The CSP spec's example: sha256 of `alert('Hello, world.');`.
        assert_eq!(
            inline_script_hashes("<script>alert('Hello, world.');</script>"),
            vec!["'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='".to_owned()]
        );
    }

    #[test]
    fn the_policy_never_allows_unsafe_inline() {
        let csp = content_security_policy(
            &["'sha256-abc'".to_owned()],
            &["https://colloque.example.fr".to_owned()],
        );
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc';"));
        assert!(csp.contains("wss://colloque.example.fr"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn production_does_not_allow_the_trunk_dev_origin() {
        let bound = SocketAddr::from(([127, 0, 0, 1], 8080));
        let mut config = Config::new(bound, "data".into());
        config.production = false;
        let dev = Security::new(&config, bound).unwrap();
        config.production = true;
        config.allowed_origins = vec!["https://Colloque.example.fr/".into()];
        let production = Security::new(&config, bound).unwrap();

        assert!(dev.origin_allowed("http://127.0.0.1:8081"));
        assert!(dev.origin_allowed("http://localhost:8080"));
        assert!(!production.origin_allowed("http://127.0.0.1:8081"));
        assert!(production.origin_allowed("https://colloque.example.fr"));
        assert!(!production.origin_allowed("https://evil.example"));
        assert!(!production.origin_allowed("null"));
    }
}
