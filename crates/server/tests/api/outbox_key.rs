//! The outbox key (issue 10, "Nothing readable is left in the browser"): the app encrypts its
//! unsent messages with it before keeping them in the browser, and gets it only from the
//! answer to a login or a refresh of a live session. One key per user, the same for every one
//! of their sessions until an administrator rotates it.

use crate::helpers::*;
use base64::Engine;
use colloque_protocol::LoginResponse;
use serde_json::{Value, json};

/// The key a login or refresh answer carries, checked to be 256 bits of URL-safe base64.
async fn key_of(response: reqwest::Response) -> (String, Session) {
    assert_eq!(response.status(), 200, "a login or refresh");
    let (refresh, _) = refresh_cookie(&response).expect("a refresh cookie");
    let body: LoginResponse = response.json().await.unwrap();
    let key = body.outbox_key.0;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&key)
        .expect("URL-safe base64");
    assert_eq!(bytes.len(), 32, "256 bits");
    let session = Session {
        token: body.token,
        id: body.user.id,
        handle: body.session.0,
        refresh,
    };
    (key, session)
}

/// A refused answer: no key anywhere in it (body or headers).
async fn assert_refused_without_a_key(response: reqwest::Response, keys: &[&str]) {
    assert_eq!(response.status(), 401);
    let headers = format!("{:?}", response.headers());
    let body: Value = response.json().await.unwrap();
    assert!(body.get("outbox_key").is_none(), "{body}");
    for key in keys {
        assert!(!headers.contains(key) && !body.to_string().contains(key));
    }
}

#[tokio::test]
async fn the_outbox_key_comes_with_every_login_and_refresh_and_is_the_same_for_every_session_of_a_user()
 {
    let app = spawn_app().await;
    let (key, laptop) = key_of(app.post_login(EMMA, colloque_server::DEMO_PASSWORD).await).await;
    let (again, phone) = key_of(app.post_login(EMMA, colloque_server::DEMO_PASSWORD).await).await;
    assert_ne!(laptop.handle, phone.handle, "two sessions");
    assert_eq!(key, again, "one key per user, whatever the session");

    // A reload gets it back through the refresh, as often as it reloads.
    let (renewed, laptop) = key_of(app.refresh(&laptop).await).await;
    assert_eq!(renewed, key);
    let (renewed, _) = key_of(app.refresh(&laptop).await).await;
    assert_eq!(renewed, key);

    // Another user has another key.
    let (lucas_key, _) = key_of(app.post_login(LUCAS, colloque_server::DEMO_PASSWORD).await).await;
    assert_ne!(lucas_key, key);

    // And no other answer carries it.
    let me = app.get("/api/me", &phone.token).await.text().await.unwrap();
    assert!(!me.contains(&key), "{me}");
}

#[tokio::test]
async fn a_logged_out_session_a_disabled_account_or_a_wrong_password_cannot_get_the_outbox_key() {
    let app = spawn_app().await;
    let (key, session) = key_of(app.post_login(HUGO, colloque_server::DEMO_PASSWORD).await).await;

    // A wrong password: 401, and nothing in it.
    let wrong = app.post_login(HUGO, "not-the-password").await;
    assert_refused_without_a_key(wrong, &[&key]).await;

    // Logged out: its refresh credential no longer gets anything.
    let (_, other) = key_of(app.refresh(&session).await).await;
    let logout = app.post("/api/auth/logout", &other.token, &json!({})).await;
    assert_eq!(logout.status(), 204);
    assert_refused_without_a_key(app.refresh(&other).await, &[&key]).await;

    // Disabled: neither a live session's refresh nor a login with the right password.
    let (_, live) = key_of(app.post_login(HUGO, colloque_server::DEMO_PASSWORD).await).await;
    colloque_server::admin::set_disabled(&app.db().await, HUGO, true)
        .await
        .unwrap();
    assert_refused_without_a_key(app.refresh(&live).await, &[&key]).await;
    let login = app.post_login(HUGO, colloque_server::DEMO_PASSWORD).await;
    assert_refused_without_a_key(login, &[&key]).await;
}

#[tokio::test]
async fn a_rotated_outbox_key_reaches_live_sessions_at_their_next_refresh_and_is_audited() {
    let app = spawn_app().await;
    let (old, session) = key_of(app.post_login(LUCAS, colloque_server::DEMO_PASSWORD).await).await;
    let (emma_key, _) = key_of(app.post_login(EMMA, colloque_server::DEMO_PASSWORD).await).await;

    let output = app
        .admin_command(&["rotate-outbox-key", "--email", LUCAS])
        .await;
    assert!(output.status.success(), "{output:?}");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(!printed.contains(&old), "the command prints no key");

    let (new, session) = key_of(app.refresh(&session).await).await;
    assert_ne!(new, old, "a new key");
    let (again, _) = key_of(app.refresh(&session).await).await;
    assert_eq!(again, new, "and it stays");
    let (emma_again, _) = key_of(app.post_login(EMMA, colloque_server::DEMO_PASSWORD).await).await;
    assert_eq!(emma_again, emma_key, "nobody else's changes");
    let trail = app.audit_of(LUCAS).await;
    assert!(
        trail.iter().any(|r| r.action == "outbox_key_rotated"),
        "{trail:?}"
    );

    let unknown = app
        .admin_command(&["rotate-outbox-key", "--email", "nobody@colloque.test"])
        .await;
    assert!(!unknown.status.success());
}
