//! Session lifetime: short tokens renewed while active, the idle limit, revocation pushed to
//! open sockets, re-authentication of a live socket.

use crate::helpers::*;
use colloque_protocol::{ClientFrame, ErrorCode, LoginResponse, ServerFrame};
use colloque_server::util::now_ms;
use serde_json::json;
use std::time::Duration;

/// How long a test waits for a pushed close: a wait limit, not a timing assertion (the server
/// closes within its 0.5 s revocation check).
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Waits (at most [`CLOSE_WAIT`]) for the socket to receive an `unauthorized` error frame then
/// a 1008 close, with nothing sent by the client.
async fn assert_pushed_unauthorized_close(socket: &mut Socket) {
    tokio::time::timeout(CLOSE_WAIT, async {
        assert_eq!(socket.next_error().await.0, ErrorCode::Unauthorized);
        assert_eq!(socket.closed_with().await, Some(1008));
    })
    .await
    .expect("the socket was closed in time");
}

#[tokio::test]
async fn access_tokens_live_fifteen_minutes_by_default() {
    let app = spawn_app().await;

    let response = app.post_login(EMMA, colloque_server::DEMO_PASSWORD).await;

    let body: LoginResponse = response.json().await.unwrap();
    let lifetime = body.expires_at.0 - now_ms().0;
    assert!(
        (14 * 60_000..=15 * 60_000).contains(&lifetime),
        "{lifetime} ms"
    );
}

#[tokio::test]
async fn a_refreshed_token_works_and_belongs_to_the_same_session() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;

    let response = app.refresh(&emma).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let renewed = session_from(response).await;
    assert_eq!(renewed.id, emma.id);
    assert_eq!(renewed.handle, emma.handle, "the same session");
    assert_eq!(app.get("/api/me", &renewed.token).await.status(), 200);
    // One session: logging out with the new token kills the old one too.
    app.post("/api/auth/logout", &renewed.token, &json!({}))
        .await;
    assert_eq!(app.get("/api/me", &emma.token).await.status(), 401);
    assert_eq!(app.refresh(&renewed).await.status(), 401);
}

#[tokio::test]
async fn a_session_idle_past_the_limit_cannot_be_refreshed_or_used() {
    let app =
        spawn_app_with(|config| config.limits.session_idle = Duration::from_millis(300)).await;
    let emma = app.login(EMMA).await;

    // Time passes with no activity (the idle limit is configured small for the test).
    tokio::time::sleep(Duration::from_millis(450)).await;

    let response = app.refresh(&emma).await;
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(&response.json().await.unwrap()), "unauthorized");
    assert_eq!(app.get("/api/me", &emma.token).await.status(), 401);
}

#[tokio::test]
async fn activity_keeps_a_session_alive_past_the_idle_limit() {
    let app =
        spawn_app_with(|config| config.limits.session_idle = Duration::from_millis(400)).await;
    let emma = app.login(EMMA).await;

    // Four times the idle limit in total, never more than half of it without a request.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(app.get("/api/me", &emma.token).await.status(), 200);
    }

    assert_eq!(app.refresh(&emma).await.status(), 200);
}

#[tokio::test]
async fn logout_pushes_an_unauthorized_frame_and_closes_the_sessions_sockets() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let mut first = app.socket(&lucas).await;
    let mut second = app.socket(&lucas).await;

    let response = app.post("/api/auth/logout", &lucas.token, &json!({})).await;

    assert_eq!(response.status(), 204);
    assert_pushed_unauthorized_close(&mut first).await;
    assert_pushed_unauthorized_close(&mut second).await;
    assert_eq!(
        app.get("/api/conversations", &lucas.token).await.status(),
        401
    );
}

#[tokio::test]
async fn disabling_an_account_closes_every_socket_of_every_session_within_a_second() {
    let app = spawn_app().await;
    let phone = app.login(HUGO).await;
    let laptop = app.login(HUGO).await;
    let mut phone_socket = app.socket(&phone).await;
    let mut laptop_socket = app.socket(&laptop).await;
    let mut laptop_second_tab = app.socket(&laptop).await;
    let emma = app.login(EMMA).await;
    let mut bystander = app.socket(&emma).await;

    // The admin CLI's code path, through its own connection (another process in real life).
    colloque_server::admin::set_disabled(&app.db().await, HUGO, true)
        .await
        .unwrap();

    assert_pushed_unauthorized_close(&mut phone_socket).await;
    assert_pushed_unauthorized_close(&mut laptop_socket).await;
    assert_pushed_unauthorized_close(&mut laptop_second_tab).await;
    assert_eq!(app.get("/api/me", &phone.token).await.status(), 401);
    assert_eq!(app.refresh(&laptop).await.status(), 401);
    bystander.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_socket_re_authenticates_with_a_renewed_token_and_keeps_working() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let mut socket = app.socket(&emma).await;
    let renewed = app.renew(&emma).await;

    socket
        .send(&ClientFrame::Auth {
            token: renewed.token.clone(),
        })
        .await;

    match socket.next_frame().await {
        ServerFrame::Ready { user } => assert_eq!(user.id, emma.id),
        other => panic!("expected ready, got {other:?}"),
    }
    let client_id = new_client_id();
    socket
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id,
            body: "toujours là".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    match socket.next_frame().await {
        ServerFrame::Ack {
            client_id: acked, ..
        } => assert_eq!(acked, client_id),
        other => panic!("expected an ack, got {other:?}"),
    }
    // The socket still receives what others send (its subscriptions were kept).
    let martin = app.login(MARTIN).await;
    let sent = app.send_ok(&martin, conversation.id, "bien reçu").await;
    match socket.next_frame().await {
        ServerFrame::Message { message } => assert_eq!(message.id, sent.id),
        other => panic!("expected the message, got {other:?}"),
    }
}

#[tokio::test]
async fn re_authenticating_a_socket_as_another_user_closes_it() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let lucas = app.login(LUCAS).await;
    let mut socket = app.socket(&emma).await;

    socket
        .send(&ClientFrame::Auth {
            token: lucas.token.clone(),
        })
        .await;

    assert_eq!(socket.next_error().await.0, ErrorCode::Unauthorized);
    assert_eq!(socket.closed_with().await, Some(1008));
}

#[tokio::test]
async fn re_authenticating_with_a_bad_token_closes_the_socket() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let mut socket = app.socket(&emma).await;

    socket
        .send(&ClientFrame::Auth {
            token: "not.a.token".into(),
        })
        .await;

    assert_eq!(socket.next_error().await.0, ErrorCode::Unauthorized);
    assert_eq!(socket.closed_with().await, Some(1008));
}

#[tokio::test]
async fn a_login_past_the_session_cap_revokes_the_oldest_session_and_closes_its_socket() {
    let app = spawn_app_with(|config| config.limits.sessions_per_user = 3).await;
    let oldest = app.login(LUCAS).await;
    let mut oldest_socket = app.socket(&oldest).await;
    let mut kept = Vec::new();
    for _ in 0..2 {
        kept.push(app.login(LUCAS).await);
    }
    assert_eq!(
        app.get("/api/conversations", &oldest.token).await.status(),
        200,
        "three sessions: within the cap"
    );

    kept.push(app.login(LUCAS).await);

    assert_pushed_unauthorized_close(&mut oldest_socket).await;
    assert_eq!(
        app.get("/api/conversations", &oldest.token).await.status(),
        401
    );
    for session in &kept {
        assert_eq!(
            app.get("/api/conversations", &session.token).await.status(),
            200
        );
    }
    let trail = app.audit_of(LUCAS).await;
    assert!(
        trail
            .iter()
            .any(|r| r.action == "session_revoked" && r.detail.as_deref() == Some("session_cap")),
        "the revocation is audited"
    );
}

#[tokio::test]
async fn ended_sessions_are_deleted_while_the_server_runs() {
    let app =
        spawn_app_with(|config| config.limits.session_sweep = Duration::from_millis(50)).await;
    let live = app.login(LUCAS).await;
    let db = app.db().await;
    let day = 24 * 60 * 60 * 1000;
    let now = now_ms().0;
    for (id, expires_at, revoked_at) in [
        ("ended-two-days-ago", now - 2 * day, None),
        ("revoked-two-days-ago", now + day, Some(now - 2 * day)),
    ] {
        // In one transaction: the running sweep must not delete the session between the two
        // inserts (it ended two days ago, so it is the sweep's to take).
        on_db!(&db, |pool| {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query(
                "INSERT INTO sessions (id, public_id, user_id, created_at, expires_at, last_seen_at,
                                       revoked_at)
                 VALUES ($1, $1, $2, $3, $4, $3, $5)",
            )
            .bind(id)
            .bind(live.id.0)
            .bind(now - 3 * day)
            .bind(expires_at)
            .bind(revoked_at)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $1, $2)",
            )
            .bind(id)
            .bind(now - 3 * day)
            .execute(&mut *tx)
            .await
            .unwrap();
            tx.commit().await.unwrap();
        });
    }

    let mut left = i64::MAX;
    for _ in 0..100 {
        left = on_db!(&db, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id LIKE '%-two-days-ago'")
                .fetch_one(pool)
                .await
                .unwrap()
        });
        if left == 0 {
            break;
        }
        // A bounded poll for the sweep (every 50 ms here), not a timing assertion.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "the sweep deleted the ended sessions");
    let credentials_left: i64 = on_db!(&db, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM refresh_tokens WHERE session_id LIKE '%-two-days-ago'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(
        credentials_left, 0,
        "and their refresh credentials with them"
    );
    assert_eq!(
        app.get("/api/conversations", &live.token).await.status(),
        200,
        "and kept the live one"
    );
}
