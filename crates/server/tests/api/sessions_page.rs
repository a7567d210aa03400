//! The sessions page (issue 10): a person sees their live sessions and ends any of them, and a
//! password change ends the others.

use crate::helpers::*;
use colloque_protocol::{ErrorCode, SessionInfo};
use colloque_server::DEMO_PASSWORD;
use serde_json::json;
use std::time::Duration;

/// How long a test waits for a pushed close (a bound, not a timing assertion: the server
/// closes at once).
const CLOSE_WAIT: Duration = Duration::from_secs(2);

const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like \
                     Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
const LAPTOP: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0";

/// Logs in as a browser with this `User-Agent`, through the test's trusted proxy from
/// `address`.
async fn login_from(app: &TestApp, email: &str, agent: &str, address: &str) -> Session {
    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .header("user-agent", agent)
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    session_from(response).await
}

async fn sessions_of(app: &TestApp, session: &Session) -> Vec<SessionInfo> {
    let response = app.get("/api/sessions", &session.token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn end(app: &TestApp, by: &Session, handle: &str) -> reqwest::Response {
    app.post(
        &format!("/api/sessions/{handle}/end"),
        &by.token,
        &json!({}),
    )
    .await
}

async fn change_password(
    app: &TestApp,
    session: &Session,
    current: &str,
    new: &str,
) -> reqwest::Response {
    app.post(
        "/api/me/password",
        &session.token,
        &json!({"current_password": current, "new_password": new}),
    )
    .await
}

async fn assert_closed_as_unauthorized(socket: &mut Socket) {
    tokio::time::timeout(CLOSE_WAIT, async {
        assert_eq!(socket.next_error().await.0, ErrorCode::Unauthorized);
        assert_eq!(socket.closed_with().await, Some(1008));
    })
    .await
    .expect("the socket was closed in time");
}

async fn spawn_behind_a_proxy() -> TestApp {
    spawn_app_with(|config| config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await
}

#[tokio::test]
async fn the_sessions_page_lists_each_device_with_its_address_and_marks_this_one() {
    let app = spawn_behind_a_proxy().await;
    let phone = login_from(&app, HUGO, PHONE, "203.0.113.7").await;
    let laptop = login_from(&app, HUGO, LAPTOP, "198.51.100.20").await;
    let ended = login_from(&app, HUGO, LAPTOP, "198.51.100.21").await;
    app.post("/api/auth/logout", &ended.token, &json!({})).await;
    let _someone_else = login_from(&app, EMMA, PHONE, "203.0.113.7").await;

    let listed = sessions_of(&app, &laptop).await;

    assert_eq!(
        listed.len(),
        2,
        "the live sessions of this account only: {listed:?}"
    );
    let this = listed
        .iter()
        .find(|s| s.current)
        .expect("this session is marked");
    assert_eq!(this.id.0, laptop.handle);
    assert_eq!(this.device, "Firefox · macOS");
    assert_eq!(this.address.as_deref(), Some("198.51.100.20"));
    let other = listed.iter().find(|s| !s.current).expect("the other one");
    assert_eq!(other.id.0, phone.handle);
    assert_eq!(other.device, "Chrome · Android");
    assert_eq!(other.address.as_deref(), Some("203.0.113.7"));
    assert!(other.created_at.0 > 0 && other.last_seen_at >= other.created_at);
    assert_eq!(listed.iter().filter(|s| s.current).count(), 1);
}

#[tokio::test]
async fn ending_a_session_from_the_sessions_page_closes_its_sockets() {
    let app = spawn_behind_a_proxy().await;
    let phone = login_from(&app, HUGO, PHONE, "203.0.113.7").await;
    let laptop = login_from(&app, HUGO, LAPTOP, "198.51.100.20").await;
    let mut phone_socket = app.socket(&phone).await;
    let mut phone_second_tab = app.socket(&phone).await;
    let mut laptop_socket = app.socket(&laptop).await;

    let response = app
        .client
        .post(app.url(&format!("/api/sessions/{}/end", phone.handle)))
        .bearer_auth(&laptop.token)
        .header("x-forwarded-for", "198.51.100.20")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 204);
    assert_closed_as_unauthorized(&mut phone_socket).await;
    assert_closed_as_unauthorized(&mut phone_second_tab).await;
    assert_eq!(app.get("/api/me", &phone.token).await.status(), 401);
    assert_eq!(
        app.refresh(&phone).await.status(),
        401,
        "nor can it be renewed"
    );
    laptop_socket.assert_nothing_pending().await;
    let listed = sessions_of(&app, &laptop).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].current);
    let trail = app.audit_of(HUGO).await;
    let ended = trail
        .iter()
        .find(|r| r.action == "session_ended")
        .expect("audited");
    assert_eq!(
        ended.ip.as_deref(),
        Some("198.51.100.20"),
        "by whom, from where"
    );
    // Ending it again: it is not a live session any more.
    assert_eq!(end(&app, &laptop, &phone.handle).await.status(), 404);
}

#[tokio::test]
async fn ending_this_sessions_own_entry_logs_it_out() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;

    assert_eq!(end(&app, &emma, &emma.handle).await.status(), 204);

    assert_eq!(app.get("/api/me", &emma.token).await.status(), 401);
    let trail = app.audit_of(EMMA).await;
    assert!(
        trail
            .iter()
            .any(|r| r.action == "session_ended" && r.detail.as_deref() == Some("this_session"))
    );
}

#[tokio::test]
async fn someone_elses_session_cannot_be_ended_or_even_found() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let lucas = app.login(LUCAS).await;

    for handle in [lucas.handle.as_str(), "0000", "NOT-A-HANDLE"] {
        let response = end(&app, &emma, handle).await;
        assert_eq!(response.status(), 404, "{handle}");
        assert_eq!(error_code(&response.json().await.unwrap()), "not_found");
    }

    assert_eq!(app.get("/api/me", &lucas.token).await.status(), 200);
    assert!(
        sessions_of(&app, &emma)
            .await
            .iter()
            .all(|s| s.id.0 != lucas.handle)
    );
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let app = spawn_app().await;
    let here = app.login(HUGO).await;
    let phone = app.login(HUGO).await;
    let tablet = app.login(HUGO).await;
    let mut here_socket = app.socket(&here).await;
    let mut phone_socket = app.socket(&phone).await;
    let mut tablet_socket = app.socket(&tablet).await;

    let response = change_password(&app, &here, DEMO_PASSWORD, "un nouveau mot de passe").await;

    assert_eq!(response.status(), 204);
    assert_closed_as_unauthorized(&mut phone_socket).await;
    assert_closed_as_unauthorized(&mut tablet_socket).await;
    for other in [&phone, &tablet] {
        assert_eq!(app.get("/api/me", &other.token).await.status(), 401);
        assert_eq!(app.refresh(other).await.status(), 401);
    }
    here_socket.assert_nothing_pending().await;
    assert_eq!(
        app.get("/api/me", &here.token).await.status(),
        200,
        "this one goes on"
    );
    assert_eq!(app.refresh(&here).await.status(), 200);
    assert_eq!(app.post_login(HUGO, DEMO_PASSWORD).await.status(), 401);
    assert_eq!(
        app.post_login(HUGO, "un nouveau mot de passe")
            .await
            .status(),
        200
    );
    let trail = app.audit_of(HUGO).await;
    let changed = trail
        .iter()
        .find(|r| r.action == "password_changed")
        .expect("audited");
    assert_eq!(changed.detail.as_deref(), Some("other_sessions_ended=2"));
    let text = serde_json::to_string(&trail.iter().map(|r| &r.detail).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains("nouveau"), "never the password");
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_and_counts_against_the_login_limit() {
    let mut app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let other = app.login(EMMA).await;

    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = change_password(&app, &emma, "not my password", "a brand new one").await;
        statuses.push(response.status().as_u16());
        if response.status() == 403 {
            assert_eq!(
                error_code(&response.json().await.unwrap()),
                "wrong_password"
            );
        }
    }

    // Five guesses from this address, as at the login form; then no more checks.
    assert_eq!(statuses, [403, 403, 403, 403, 403, 429]);
    assert_eq!(
        app.get("/api/me", &emma.token).await.status(),
        200,
        "not a 401"
    );
    assert_eq!(
        app.get("/api/me", &other.token).await.status(),
        200,
        "nothing ended"
    );
    assert_eq!(app.post_login(EMMA, "a brand new one").await.status(), 429);
    // Counted like failed logins (a row per address and minute, with its number), and written
    // by the time the server has stopped.
    app.stop().await;
    let counted = app.audit_counts("password_change_failed").await;
    assert_eq!(
        counted.iter().map(|(_, _, n)| n).sum::<i64>(),
        6,
        "{counted:?}"
    );
    assert!(
        counted.iter().all(|(_, user, _)| *user == Some(emma.id.0)),
        "{counted:?}"
    );
}

#[tokio::test]
async fn a_new_password_outside_the_policy_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let other = app.login(EMMA).await;

    let short = change_password(&app, &emma, DEMO_PASSWORD, "court").await;
    let huge = change_password(&app, &emma, DEMO_PASSWORD, &"p".repeat(2000)).await;
    let missing = app
        .post(
            "/api/me/password",
            &emma.token,
            &json!({"new_password": "assez long"}),
        )
        .await;

    for (what, response, code) in [
        ("too short", short, "weak_password"),
        ("too long", huge, "weak_password"),
        ("no current password", missing, "invalid_json"),
    ] {
        assert_eq!(response.status(), 400, "{what}");
        assert_eq!(error_code(&response.json().await.unwrap()), code, "{what}");
    }
    assert_eq!(app.get("/api/me", &other.token).await.status(), 200);
    assert_eq!(app.post_login(EMMA, DEMO_PASSWORD).await.status(), 200);
}
