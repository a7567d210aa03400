//! The HTTP surface: errors as JSON, headers, health, OpenAPI, static files.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn malformed_json_is_a_400_with_an_api_error_body() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let path = app.url(&format!("/api/conversations/{}/messages", conversation.id));

    let cases = [
        "{not json",
        r#"{"body": "Bonjour"}"#,
        r#"{"client_id": "not-a-uuid", "body": "Bonjour"}"#,
        r#"{"client_id": "7c6c1f53-3e30-4b47-9d53-1f7d3d6c9e10", "body": 42}"#,
    ];
    for case in cases {
        let response = app
            .client
            .post(&path)
            .bearer_auth(&emma.token)
            .header("content-type", "application/json")
            .body(case)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "invalid_json", "{case}");
        assert!(body["message"].is_string());
    }
    assert_eq!(app.last_seq(&emma, conversation.id).await, 3);
}

#[tokio::test]
async fn a_request_body_over_128_kib_is_refused_with_413() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let body = format!(
        r#"{{"client_id": "7c6c1f53-3e30-4b47-9d53-1f7d3d6c9e10", "body": "{}"}}"#,
        "a".repeat(130 * 1024)
    );

    let response = app
        .client
        .post(app.url(&format!("/api/conversations/{}/messages", conversation.id)))
        .bearer_auth(&emma.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "payload_too_large");
}

#[tokio::test]
async fn unknown_api_routes_and_bad_ids_answer_with_json_errors() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;

    let unknown = app.get("/api/does-not-exist", &emma.token).await;
    let bad_id = app.get("/api/conversations/abc", &emma.token).await;
    let wrong_method = app
        .client
        .delete(app.url("/api/conversations"))
        .bearer_auth(&emma.token)
        .send()
        .await
        .unwrap();

    assert_eq!(unknown.status(), 404);
    assert_eq!(
        error_code(&unknown.json::<Value>().await.unwrap()),
        "not_found"
    );
    assert_eq!(bad_id.status(), 400);
    assert_eq!(
        error_code(&bad_id.json::<Value>().await.unwrap()),
        "invalid_input"
    );
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(
        error_code(&wrong_method.json::<Value>().await.unwrap()),
        "invalid_input"
    );
}

#[tokio::test]
async fn api_responses_are_never_cached() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;

    for response in [
        app.get("/api/conversations", &emma.token).await,
        app.get("/api/nope", &emma.token).await,
        app.client.get(app.url("/api/me")).send().await.unwrap(),
    ] {
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn health_reports_ok_with_the_version_the_database_and_no_bus_for_one_instance() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/api/health")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["bus"], "local");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_openapi_document_is_served_and_lists_every_route() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/auth/login", "post"),
        ("/api/auth/refresh/{session}", "post"),
        ("/api/auth/logout", "post"),
        ("/api/me", "get"),
        ("/api/me/password", "post"),
        ("/api/sessions", "get"),
        ("/api/sessions/{id}/end", "post"),
        ("/api/conversations", "get"),
        ("/api/conversations", "post"),
        ("/api/conversations/{id}", "get"),
        ("/api/conversations/{id}/messages", "get"),
        ("/api/conversations/{id}/messages", "post"),
        ("/api/conversations/{id}/read", "post"),
        ("/api/conversations/{id}/close", "post"),
        ("/api/conversations/{id}/reopen", "post"),
        ("/api/conversations/{id}/triage", "post"),
        ("/api/me/intake", "get"),
        ("/api/me/intake", "put"),
        ("/api/patients/{id}/block", "put"),
        ("/api/patients/{id}/block", "delete"),
        ("/api/care-team/intake", "get"),
        ("/api/appointments", "get"),
        ("/api/care-team", "get"),
        ("/api/patients", "get"),
        ("/api/health", "get"),
        ("/api/openapi.json", "get"),
        ("/api/push/key", "get"),
        ("/api/me/push-subscriptions", "get"),
        ("/api/me/push-subscriptions", "post"),
        ("/api/me/push-subscriptions/{id}", "delete"),
    ] {
        assert!(paths[path].get(method).is_some(), "{method} {path} missing");
    }
    let history_params = paths["/api/conversations/{id}/messages"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let before = history_params
        .iter()
        .find(|p| p["name"] == "before")
        .unwrap();
    assert_eq!(before["in"], "query");
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for schema in [
        "ApiError",
        "ServerFrame",
        "ClientFrame",
        "ConversationSummary",
        "SessionInfo",
        "ChangePasswordRequest",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
}

#[tokio::test]
async fn the_web_app_is_served_with_index_html_for_deep_links() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>Colloque</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("colloque_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let dist_path = dist.path().to_path_buf();
    let app = spawn_app_with(|config| config.static_dir = Some(dist_path)).await;

    let deep_link = app
        .client
        .get(app.url("/medecin/messages/3"))
        .send()
        .await
        .unwrap();
    let root = app.client.get(app.url("/")).send().await.unwrap();
    let wasm = app
        .client
        .get(app.url("/colloque_bg.wasm"))
        .send()
        .await
        .unwrap();
    let api = app
        .client
        .get(app.url("/api/nothing-here"))
        .send()
        .await
        .unwrap();

    assert_eq!(deep_link.status(), 200);
    assert!(
        deep_link
            .text()
            .await
            .unwrap()
            .contains("<title>Colloque</title>")
    );
    assert_eq!(root.status(), 200);
    assert!(
        root.text()
            .await
            .unwrap()
            .contains("<title>Colloque</title>")
    );
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(api.status(), 404);
    assert_eq!(error_code(&api.json::<Value>().await.unwrap()), "not_found");
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_precompressed_and_index_is_revalidated() {
    let dist = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| std::fs::write(dist.path().join(name), bytes).unwrap();
    write("index.html", b"<!doctype html><title>Colloque</title>");
    write("config.json", b"{}");
    let wasm = "colloque-0123456789abcdef_bg.wasm";
    write(wasm, b"\0asm\x01\0\0\0 raw");
    write(&format!("{wasm}.br"), b"pretend-brotli");
    write(&format!("{wasm}.gz"), b"pretend-gzip");
    let dist_path = dist.path().to_path_buf();
    let app = spawn_app_with(|config| config.static_dir = Some(dist_path)).await;
    let get = |path: String, encoding: Option<&'static str>| {
        let mut request = app.client.get(app.url(&path));
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };

    let brotli = get(format!("/{wasm}"), Some("gzip, br")).await.unwrap();
    let last_modified = brotli.headers()["last-modified"].clone();
    assert_eq!(brotli.status(), 200);
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(brotli.headers()["content-type"], "application/wasm");
    // A cache in front of the server must not hand the brotli copy to another browser.
    let vary: Vec<_> = brotli.headers().get_all("vary").iter().collect();
    assert!(
        vary.iter()
            .any(|v| v.to_str().unwrap().contains("accept-encoding")),
        "{vary:?}"
    );
    assert_eq!(
        brotli.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(brotli.bytes().await.unwrap().as_ref(), b"pretend-brotli");

    // Revalidation keeps the year: a cache copies a 304's headers onto its stored copy.
    let not_modified = app
        .client
        .get(app.url(&format!("/{wasm}")))
        .header("if-modified-since", last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(
        not_modified.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    let gzip = get(format!("/{wasm}"), Some("gzip")).await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.bytes().await.unwrap().as_ref(), b"pretend-gzip");

    let plain = get(format!("/{wasm}"), None).await.unwrap();
    assert!(!plain.headers().contains_key("content-encoding"));
    assert_eq!(
        plain.bytes().await.unwrap().as_ref(),
        b"\0asm\x01\0\0\0 raw"
    );

    // The entry points keep their names: revalidated on every load.
    for path in ["/", "/index.html", "/config.json", "/medecin/messages/3"] {
        let response = get(path.to_owned(), Some("br")).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
    }
    // A hashed name that is not there (an old build) gets index.html, never cached for a year.
    let missing = get("/colloque-ffffffffffffffff_bg.wasm".into(), None)
        .await
        .unwrap();
    assert_eq!(missing.headers()["cache-control"], "no-cache");
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("<title>Colloque</title>")
    );
    // The API's own rule is untouched.
    let api = get("/api/health".into(), None).await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn only_configured_origins_pass_cors() {
    let app = spawn_app_with(|config| {
        config.allowed_origins = vec!["https://app.colloque.test".into()];
    })
    .await;

    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/conversations"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.colloque.test").await.unwrap();
    let refused = preflight("https://evil.test").await.unwrap();

    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.colloque.test"
    );
    // An app on another origin (a CDN) sends its login, refresh and logout with credentials,
    // for the refresh cookie: only the allowed origins may read those answers.
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    // Without its origin echoed back, a foreign page reads nothing, credentials or not.
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_csp_with_the_inline_script_hash() {
    use base64::Engine;
    use sha2::Digest;
    let dist = tempfile::tempdir().unwrap();
    let inline = "import init, * as bindings from '/colloque-1a2b.js';\nwindow.wasmBindings = bindings;\ninit();";
    std::fs::write(
        dist.path().join("index.html"),
        format!(
            "<!doctype html><html><head><title>Colloque</title>\
             <script type=\"module\">{inline}</script></head><body></body></html>"
        ),
    )
    .unwrap();
    std::fs::write(dist.path().join("colloque_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let dist_path = dist.path().to_path_buf();
    let app = spawn_app_with(|config| {
        config.static_dir = Some(dist_path);
        config.allowed_origins = vec!["https://app.colloque.test".into()];
    })
    .await;
    let expected_hash = format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(inline.as_bytes()))
    );

    for path in [
        "/",
        "/medecin/messages/3",
        "/colloque_bg.wasm",
        "/api/health",
        "/api/nothing-here",
        "/api/me",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' {expected_hash};"
            )),
            "{path}: {csp}"
        );
        for directive in [
            "default-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} missing");
        }
        assert!(csp.contains("connect-src 'self'"), "{path}");
        assert!(
            csp.contains("https://app.colloque.test wss://app.colloque.test"),
            "{path}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            headers["cross-origin-opener-policy"], "same-origin",
            "{path}"
        );
        assert_eq!(
            headers["cross-origin-resource-policy"], "same-origin",
            "{path}"
        );
        let permissions = headers["permissions-policy"].to_str().unwrap();
        assert!(permissions.contains("camera=()"), "{path}: {permissions}");
        assert!(
            !headers.contains_key("strict-transport-security"),
            "{path}: no HSTS over plain HTTP"
        );
        if path.starts_with("/api") {
            assert_eq!(headers["cache-control"], "no-store", "{path}");
        }
    }
}

#[tokio::test]
async fn hsts_is_sent_when_a_trusted_proxy_says_the_request_came_over_tls() {
    let behind = spawn_app_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let direct = spawn_app().await;
    let over_tls = |app: &TestApp| {
        app.client
            .get(app.url("/api/health"))
            .header("x-forwarded-proto", "https")
            .send()
    };

    let trusted = over_tls(&behind).await.unwrap();
    let untrusted = over_tls(&direct).await.unwrap();

    assert_eq!(
        trusted.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    assert!(
        !untrusted
            .headers()
            .contains_key("strict-transport-security"),
        "a claim from a peer that is not a trusted proxy means nothing"
    );
}

#[tokio::test]
async fn the_demo_data_is_refused_on_an_address_other_than_loopback() {
    let data_dir = tempfile::tempdir().unwrap();
    let config = colloque_server::Config {
        demo: true,
        jwt_secret: Some(secrecy::SecretString::from(TEST_SECRET)),
        bind: "0.0.0.0:0".parse().unwrap(),
        ..colloque_server::Config::for_tests(data_dir.path().to_path_buf())
    };
    let refused = colloque_server::Application::build(config).await;
    let error = refused.err().expect("refused").to_string();
    assert!(error.contains("loopback"), "{error}");
}

#[tokio::test]
async fn the_sqlite_database_its_log_and_its_index_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    // About SQLite's own files, whichever backend the rest of this run uses.
    let app = spawn_app_with(|config| config.database_url = None).await;
    app.login(LUCAS).await;
    for name in ["colloque.db", "colloque.db-wal", "colloque.db-shm"] {
        let mode = std::fs::metadata(app.data_dir.path().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {:o}", mode & 0o777);
    }
}

#[tokio::test]
async fn production_refuses_a_data_directory_open_to_others() {
    use std::os::unix::fs::PermissionsExt;
    let data_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(data_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = colloque_server::Config {
        production: true,
        jwt_secret: Some(secrecy::SecretString::from(TEST_SECRET)),
        allowed_origins: vec!["https://colloque.example.fr".into()],
        ..colloque_server::Config::for_tests(data_dir.path().to_path_buf())
    };
    let refused = colloque_server::Application::build(config).await;
    let error = refused.err().expect("refused").to_string();
    assert!(error.contains("chmod 700"), "{error}");
}

#[tokio::test]
async fn the_servers_own_origin_passes_cors_like_the_configured_ones() {
    let app = spawn_app().await;

    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/conversations"))
        .header("origin", format!("http://localhost:{}", app.port))
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();

    assert_eq!(
        response.headers()["access-control-allow-origin"],
        format!("http://localhost:{}", app.port).as_str()
    );
}

#[tokio::test]
async fn production_refuses_to_build_without_an_explicit_secret_and_origins() {
    use std::os::unix::fs::PermissionsExt;
    let data_dir = tempfile::tempdir().unwrap();
    // Owner-only, as production requires (a temporary directory follows the umask).
    std::fs::set_permissions(data_dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let bare = colloque_server::Config {
        production: true,
        ..colloque_server::Config::for_tests(data_dir.path().to_path_buf())
    };
    let with_secret = colloque_server::Config {
        jwt_secret: Some(secrecy::SecretString::from(TEST_SECRET)),
        ..bare.clone()
    };
    let complete = colloque_server::Config {
        allowed_origins: vec!["https://colloque.example.fr".into()],
        ..with_secret.clone()
    };

    let no_secret = colloque_server::Application::build(bare).await;
    let no_origins = colloque_server::Application::build(with_secret).await;
    let started = colloque_server::Application::build(complete).await;

    assert!(
        no_secret
            .err()
            .unwrap()
            .to_string()
            .contains("COLLOQUE_JWT_SECRET")
    );
    assert!(
        no_origins
            .err()
            .unwrap()
            .to_string()
            .contains("COLLOQUE_ALLOWED_ORIGINS")
    );
    assert!(started.is_ok(), "{:?}", started.err());
    // Nothing was generated: production never writes a secret of its own.
    assert!(!data_dir.path().join("jwt_secret").exists());
}
