//! Refresh credentials (issue 10, RFC 9700 §4.14): apart from the access token, in an
//! HttpOnly cookie scoped to the session's refresh route, stored hashed, rotated at every
//! use; a rotated-out credential that comes back revokes the session; an access token issued
//! before a refresh stops working within the grace.

use crate::helpers::*;
use colloque_protocol::{ClientFrame, ErrorCode, ServerFrame};
use serde_json::json;
use std::time::Duration;

/// How long a test waits for something the server does on its own (a bound, not a timing
/// assertion).
const WAIT: Duration = Duration::from_secs(5);

/// A grace short enough to wait out in a test.
const SHORT_GRACE: Duration = Duration::from_millis(200);

async fn wait_past_the_grace() {
    tokio::time::sleep(SHORT_GRACE + Duration::from_millis(150)).await;
}

async fn assert_closed_as_unauthorized(socket: &mut Socket) {
    tokio::time::timeout(WAIT, async {
        assert_eq!(socket.next_error().await.0, ErrorCode::Unauthorized);
        assert_eq!(socket.closed_with().await, Some(1008));
    })
    .await
    .expect("the socket was closed in time");
}

async fn assert_session_revoked(app: &TestApp, sessions: &[&Session]) {
    for session in sessions {
        assert_eq!(app.get("/api/me", &session.token).await.status(), 401);
        assert_eq!(app.refresh(session).await.status(), 401);
    }
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_session() {
    let app = spawn_app_with(|config| config.limits.refresh_grace = SHORT_GRACE).await;
    let emma = app.login(EMMA).await;
    let stolen = emma.clone();
    let mut socket = app.socket(&emma).await;
    let emma = app.renew(&emma).await;
    socket
        .send(&ClientFrame::Auth {
            token: emma.token.clone(),
        })
        .await;
    assert!(matches!(
        socket.next_frame().await,
        ServerFrame::Ready { .. }
    ));
    wait_past_the_grace().await;

    // The thief presents the credential that the owner's refresh replaced.
    let response = app.refresh(&stolen).await;

    assert_eq!(response.status(), 401);
    assert_eq!(
        refresh_cookie(&response),
        None,
        "no credential for the thief"
    );
    let cleared = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_closed_as_unauthorized(&mut socket).await;
    assert_session_revoked(&app, &[&emma, &stolen]).await;
    let trail = app.audit_of(EMMA).await;
    let reuse = trail
        .iter()
        .find(|r| r.action == "refresh_reused")
        .expect("the reuse is audited");
    assert_eq!(reuse.user_id, Some(emma.id.0));
    assert_eq!(reuse.detail.as_deref(), Some("session_revoked"));
}

#[tokio::test]
async fn a_stolen_refresh_token_used_first_is_caught_when_its_owner_comes_back() {
    let app = spawn_app_with(|config| config.limits.refresh_grace = SHORT_GRACE).await;
    let owner = app.login(LUCAS).await;
    let thief = app.renew(&owner).await;
    assert_eq!(app.get("/api/me", &thief.token).await.status(), 200);
    wait_past_the_grace().await;

    // The owner's tab renews with the credential it holds, which the thief's use replaced.
    assert_eq!(app.refresh(&owner).await.status(), 401);

    assert_session_revoked(&app, &[&thief, &owner]).await;
    let trail = app.audit_of(LUCAS).await;
    assert!(trail.iter().any(|r| r.action == "refresh_reused"));
}

#[tokio::test]
async fn an_access_token_stops_working_after_its_session_is_refreshed() {
    let app = spawn_app_with(|config| {
        config.limits.refresh_grace = SHORT_GRACE;
        config.limits.revocation_check = Duration::from_millis(100);
    })
    .await;
    let emma = app.login(EMMA).await;
    let mut left_behind = app.socket(&emma).await;
    let mut re_authenticated = app.socket(&emma).await;

    let renewed = app.renew(&emma).await;
    re_authenticated
        .send(&ClientFrame::Auth {
            token: renewed.token.clone(),
        })
        .await;
    assert!(matches!(
        re_authenticated.next_frame().await,
        ServerFrame::Ready { .. }
    ));

    // The old token is refused once the grace has passed: seconds, not its quarter of an hour.
    let mut status = 0;
    for _ in 0..50 {
        status = app.get("/api/me", &emma.token).await.status().as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 401,
        "the token issued before the refresh is refused"
    );
    // So is a socket still on it, without a frame from its client; not the one that moved on.
    assert_closed_as_unauthorized(&mut left_behind).await;
    re_authenticated.assert_nothing_pending().await;
    assert_eq!(app.get("/api/me", &renewed.token).await.status(), 200);
    let reopened = app.raw_socket().await;
    let mut reopened = reopened;
    reopened
        .send(&ClientFrame::Auth {
            token: emma.token.clone(),
        })
        .await;
    assert_eq!(reopened.next_error().await.0, ErrorCode::Unauthorized);
}

#[tokio::test]
async fn two_tabs_refreshing_at_once_keep_their_session() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;

    // Two tabs of one session (a duplicated tab shares its cookie) renew at the same moment.
    let (first, second) = tokio::join!(app.refresh(&emma), app.refresh(&emma));

    let (first, second) = (session_from(first).await, session_from(second).await);
    assert_ne!(
        first.refresh, second.refresh,
        "each answer has its own credential"
    );
    for tab in [&first, &second] {
        assert_eq!(app.get("/api/me", &tab.token).await.status(), 200);
    }
    // Whichever cookie the browser kept goes on working.
    let next = app.renew(&second).await;
    assert_eq!(app.get("/api/me", &next.token).await.status(), 200);
    let trail = app.audit_of(EMMA).await;
    assert!(
        !trail.iter().any(|r| r.action == "refresh_reused"),
        "no alarm"
    );
    assert_eq!(
        trail
            .iter()
            .filter(|r| r.action == "refresh" && r.detail.as_deref() == Some("concurrent"))
            .count(),
        1,
        "one of the two was the concurrent one"
    );
}

#[tokio::test]
async fn a_refresh_needs_this_sessions_own_credential_and_an_access_token_is_not_one() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let other = app.login(EMMA).await;

    let without_cookie = app
        .client
        .post(app.url(&format!("/api/auth/refresh/{}", emma.handle)))
        .bearer_auth(&emma.token)
        .send()
        .await
        .unwrap();
    let forged = app
        .refresh_with(&emma.handle, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    let other_sessions = app.refresh_with(&emma.handle, &other.refresh).await;
    let bad_handle = app.refresh_with("Not;A-Handle", &emma.refresh).await;
    let old_route = app.post("/api/auth/refresh", &emma.token, &json!({})).await;

    for (what, response) in [
        ("an access token alone", without_cookie),
        ("a forged credential", forged),
        ("another session's credential", other_sessions),
        ("a malformed session name", bad_handle),
    ] {
        assert_eq!(response.status(), 401, "{what}");
        let body = response.json().await.unwrap();
        assert_eq!(error_code(&body), "unauthorized", "{what}");
    }
    assert_eq!(old_route.status(), 404, "the bearer-only refresh is gone");
    // None of that was a reuse: both sessions go on.
    for session in [&emma, &other] {
        assert_eq!(app.refresh(session).await.status(), 200);
    }
}

#[tokio::test]
async fn a_page_of_a_foreign_origin_cannot_refresh() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;

    let response = app
        .client
        .post(app.url(&format!("/api/auth/refresh/{}", emma.handle)))
        .header("origin", "https://evil.test")
        .header("cookie", format!("colloque_refresh={}", emma.refresh))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 403);
    assert_eq!(app.refresh(&emma).await.status(), 200, "nothing was spent");
}

#[tokio::test]
async fn the_refresh_cookie_is_http_only_strict_scoped_to_its_session_and_secure_over_tls() {
    let app = spawn_app_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let response = app.post_login(EMMA, colloque_server::DEMO_PASSWORD).await;
    let (_, attributes) = refresh_cookie(&response).expect("a refresh cookie");
    let emma = session_from(response).await;
    let tls = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": LUCAS, "password": colloque_server::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    let (_, tls_attributes) = refresh_cookie(&tls).expect("a refresh cookie");

    let attributes: Vec<&str> = attributes.split("; ").collect();
    assert!(attributes.contains(&"HttpOnly"), "{attributes:?}");
    assert!(attributes.contains(&"SameSite=Strict"), "{attributes:?}");
    let path = format!("Path=/api/auth/refresh/{}", emma.handle);
    assert!(attributes.contains(&path.as_str()), "{attributes:?}");
    let max_age: i64 = attributes
        .iter()
        .find_map(|a| a.strip_prefix("Max-Age="))
        .expect("a Max-Age")
        .parse()
        .unwrap();
    assert!(
        (11 * 3600..=12 * 3600).contains(&max_age),
        "until the session's end: {max_age}"
    );
    assert!(
        !attributes.contains(&"Secure"),
        "plain HTTP outside production"
    );
    assert!(
        tls_attributes.split("; ").any(|a| a == "Secure"),
        "{tls_attributes}"
    );
    // The credential is stored as a hash only.
    let db = app.db().await;
    let stored: Vec<String> = on_db!(&db, |pool| {
        sqlx::query_scalar("SELECT hash FROM refresh_tokens")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert!(!stored.is_empty());
    assert!(
        !stored.contains(&emma.refresh),
        "never the credential itself"
    );
    // Logging out clears it.
    let logout = app.post("/api/auth/logout", &emma.token, &json!({})).await;
    let cleared = logout.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("colloque_refresh=;") && cleared.contains("Max-Age=0"));
    assert!(cleared.contains(&path), "{cleared}");
}
