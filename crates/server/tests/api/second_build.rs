//! The second build (src/second_build.rs): each of `colloque_protocol::SECOND_BUILD_PATHS` and
//! every path below it gets `medecin.html`, every other page `index.html`, and the CSP allows
//! the inline loader of both, and nothing else inline.

use crate::helpers::*;

#[tokio::test]
async fn second_build_paths_get_medecin_html_and_the_csp_allows_both_loaders() {
    let dist = tempfile::tempdir().unwrap();
    let page = |title: &str, script: &str| {
        format!("<!doctype html><title>{title}</title><script type=\"module\">{script}</script>")
    };
    std::fs::write(
        dist.path().join("index.html"),
        page("first load", "import('/a.js')"),
    )
    .unwrap();
    std::fs::write(
        dist.path().join("medecin.html"),
        page("doctor", "import('/b.js')"),
    )
    .unwrap();
    let dist_path = dist.path().to_path_buf();
    let app = spawn_app_with(|config| config.static_dir = Some(dist_path)).await;

    for (path, title) in [
        ("/", "first load"),
        ("/login", "first load"),
        ("/patient/messages/3", "first load"),
        ("/medecins", "first load"),
        ("/medecin", "doctor"),
        ("/medecin/", "doctor"),
        ("/medecin/messages", "doctor"),
        ("/medecin/messages/3", "doctor"),
        ("/medecin/reglages", "doctor"),
        ("/patient/securite", "doctor"),
        ("/patient/documents", "doctor"),
        ("/patient/documents/", "doctor"),
        ("/patient/securites", "first load"),
        ("/patient", "first load"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(csp.matches("'sha256-").count(), 2, "{path}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
            "{csp}"
        );
        let body = response.text().await.unwrap();
        assert!(
            body.contains(&format!("<title>{title}</title>")),
            "{path}: {body}"
        );
    }
}
