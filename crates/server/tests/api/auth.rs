use crate::helpers::*;
use colloque_protocol::{ClientFrame, ErrorCode, LoginResponse, Role, ServerFrame};
use colloque_server::DEMO_PASSWORD;
use serde_json::{Value, json};

#[tokio::test]
async fn login_with_good_credentials_returns_a_token_and_the_profile() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .post_login("  Dr.Martin@Colloque.test ", DEMO_PASSWORD)
        .await;

    // Assert
    assert_eq!(response.status(), 200);
    let body: LoginResponse = response.json().await.unwrap();
    assert!(!body.token.is_empty());
    assert_eq!(body.user.display_name, "Dr Claire Martin");
    assert_eq!(body.user.role, Role::Doctor);
    assert_eq!(body.user.speciality.as_deref(), Some("Médecin généraliste"));
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_401() {
    let app = spawn_app().await;

    let wrong_password = app.post_login(EMMA, "not-the-password").await;
    let unknown_email = app.post_login("nobody@colloque.test", DEMO_PASSWORD).await;
    let not_an_email = app.post_login("nobody", DEMO_PASSWORD).await;

    let mut bodies = Vec::new();
    for response in [wrong_password, unknown_email, not_an_email] {
        assert_eq!(response.status(), 401);
        bodies.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(error_code(&bodies[0]), "invalid_credentials");
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0], bodies[2]);
}

#[tokio::test]
async fn a_request_without_a_token_is_unauthorized() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/api/me")).send().await.unwrap();

    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "unauthorized");
}

#[tokio::test]
async fn me_returns_the_callers_profile() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;

    let response = app.get("/api/me", &emma.token).await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["display_name"], "Emma Petit");
    assert_eq!(body["role"], "patient");
}

#[tokio::test]
async fn logout_revokes_the_token_and_closes_its_sockets() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let other_session = app.login(LUCAS).await;
    let mut socket = app.socket(&lucas).await;
    let mut other_socket = app.socket(&other_session).await;

    let response = app.post("/api/auth/logout", &lucas.token, &json!({})).await;

    assert_eq!(response.status(), 204);
    assert_eq!(app.get("/api/me", &lucas.token).await.status(), 401);
    assert_eq!(socket.closed_with().await, Some(1008));
    // Other sessions of the same user are untouched.
    assert_eq!(app.get("/api/me", &other_session.token).await.status(), 200);
    other_socket.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_revoked_token_cannot_open_a_socket() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    app.post("/api/auth/logout", &lucas.token, &json!({})).await;
    let mut socket = app.raw_socket().await;

    socket
        .send(&ClientFrame::Auth {
            token: lucas.token.clone(),
        })
        .await;

    match socket.next_frame().await {
        ServerFrame::Error { error, .. } => assert_eq!(error.code, ErrorCode::Unauthorized),
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(socket.closed_with().await, Some(1008));
}

#[tokio::test]
async fn a_disabled_account_can_no_longer_log_in_or_use_its_token() {
    let app = spawn_app().await;
    let hugo = app.login(HUGO).await;
    let mut socket = app.socket(&hugo).await;
    let pool = app.db().await;

    colloque_server::admin::set_disabled(&pool, HUGO, true)
        .await
        .unwrap();

    assert_eq!(app.get("/api/me", &hugo.token).await.status(), 401);
    assert_eq!(app.post_login(HUGO, DEMO_PASSWORD).await.status(), 401);
    // The open socket is closed without sending anything: the server notices the revocation
    // made by another process (the admin CLI) within its revocation-check interval.
    match socket.next_frame().await {
        ServerFrame::Error { error, .. } => assert_eq!(error.code, ErrorCode::Unauthorized),
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(socket.closed_with().await, Some(1008));
}

#[tokio::test]
async fn the_jwt_secret_file_is_created_owner_only_and_reused_on_restart() {
    // Arrange: no configured secret.
    let app = spawn_app_with(|config| config.jwt_secret = None).await;
    let secret_path = app.data_dir.path().join("jwt_secret");
    let lucas = app.login(LUCAS).await;

    // Assert: the file exists, 0600.
    let secret = std::fs::read_to_string(&secret_path).unwrap();
    assert_eq!(secret.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Act: a second server on the same data directory.
    let config = colloque_server::Config {
        database_url: Some(app.database_url.clone()),
        ..colloque_server::Config::for_tests(app.data_dir.path().to_path_buf())
    };
    let restarted = colloque_server::Application::build(config).await.unwrap();
    let port = restarted.port();
    tokio::spawn(restarted.run_until_stopped());

    // Assert: same secret, so the first server's token is still valid.
    assert_eq!(std::fs::read_to_string(&secret_path).unwrap(), secret);
    let response = app
        .client
        .get(format!("http://127.0.0.1:{port}/api/me"))
        .bearer_auth(&lucas.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
