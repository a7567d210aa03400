//! The audit trail: what is recorded, what never is, append-only, export, retention.

use crate::helpers::*;
use colloque_protocol::{ClientFrame, Timestamp};
use colloque_server::audit::{Row, Verification};
use colloque_server::util::{DAY_MS, now_ms};
use serde_json::json;

fn actions(trail: &[colloque_server::audit::Record]) -> Vec<&str> {
    trail.iter().map(|record| record.action.as_str()).collect()
}

#[tokio::test]
async fn logins_reads_refreshes_and_logouts_are_recorded_with_their_source() {
    let mut app = spawn_app().await;
    app.post_login(EMMA, "wrong password").await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let id = conversation.id;
    app.get(&format!("/api/conversations/{id}"), &emma.token)
        .await;
    app.history(&emma, id, "?after=0").await;
    let emma = app.renew(&emma).await;
    app.post("/api/auth/logout", &emma.token, &json!({})).await;
    // The failed login is a refusal: counted, and written when its minute closes or, here,
    // when the server stops.
    app.stop().await;

    let trail = app.audit_of(EMMA).await;

    assert_eq!(
        actions(&trail),
        [
            "login_failed",
            "login",
            "conversations_listed",
            "conversation_opened",
            "history_read",
            "refresh",
            "logout",
        ]
    );
    assert_eq!(trail[0].detail.as_deref(), Some("wrong_password"));
    assert!(trail.iter().all(|record| record.occurrences == 1));
    let history = &trail[4];
    assert_eq!(history.user_id, Some(emma.id.0));
    assert_eq!(history.conversation_id, Some(id.0));
    assert_eq!(history.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(history.transport, "rest");
    assert!(history.at > 0);
}

#[tokio::test]
async fn reads_of_appointments_care_teams_and_patient_lists_are_recorded() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let martin = app.login(MARTIN).await;
    assert_eq!(
        app.get("/api/appointments", &lucas.token).await.status(),
        200
    );
    assert_eq!(app.get("/api/care-team", &lucas.token).await.status(), 200);
    assert_eq!(app.get("/api/patients", &martin.token).await.status(), 200);

    assert_eq!(
        actions(&app.audit_of(LUCAS).await),
        ["login", "appointments_listed", "care_team_listed"]
    );
    assert_eq!(
        actions(&app.audit_of(MARTIN).await),
        ["login", "patients_listed"]
    );
}

#[tokio::test]
async fn refused_accesses_over_rest_and_websocket_are_recorded() {
    let mut app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let hugo = app.login(HUGO).await;
    let mut socket = app.socket(&hugo).await;

    app.get(
        &format!("/api/conversations/{}/messages", conversation.id),
        &hugo.token,
    )
    .await;
    socket
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id: new_client_id(),
            body: "intrusion".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    socket.next_error().await;
    drop(socket);
    app.stop().await;

    let trail = app.audit_of(HUGO).await;
    let denied: Vec<_> = trail
        .iter()
        .filter(|record| matches!(record.action.as_str(), "access_denied" | "ws_frame_refused"))
        .collect();
    assert_eq!(denied.len(), 2);
    assert_eq!(denied[0].action, "access_denied");
    assert_eq!(denied[0].transport, "rest");
    assert_eq!(denied[1].action, "ws_frame_refused");
    assert_eq!(denied[1].transport, "ws");
    for record in denied {
        assert_eq!(record.conversation_id, Some(conversation.id.0));
        assert_eq!(record.detail.as_deref(), Some("NotFound"));
        assert_eq!(record.occurrences, 1);
    }
}

#[tokio::test]
async fn the_trail_never_holds_bodies_tokens_passwords_or_unknown_emails() {
    let mut app = spawn_app().await;
    app.post_login("nobody@colloque.test", "hunter2-password")
        .await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    app.send_ok(
        &emma,
        conversation.id,
        "mon traitement me donne des nausées",
    )
    .await;
    app.history(&emma, conversation.id, "").await;
    let renewed = app.renew(&emma).await;
    app.post(
        "/api/me/password",
        &renewed.token,
        &serde_json::json!({"current_password": "wrong-current-1", "new_password": "new-secret-22"}),
    )
    .await;
    app.stop().await;

    let unknown = app.audit_of("nobody@colloque.test").await;
    // Every column of every row, as text, on either backend.
    let everything: Vec<String> = on_db!(app.db().await, |pool| {
        sqlx::query_scalar(
            "SELECT CAST(at AS TEXT) || '|' || COALESCE(CAST(user_id AS TEXT), '') || '|'
                    || COALESCE(email_hash, '') || '|' || action || '|'
                    || COALESCE(CAST(conversation_id AS TEXT), '') || '|'
                    || COALESCE(detail, '') || '|' || COALESCE(ip, '') || '|'
                    || COALESCE(user_agent, '') || '|' || transport || '|'
                    || COALESCE(prev_hash, '') || '|' || COALESCE(hash, '')
             FROM audit_log",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    });

    assert_eq!(unknown[0].action, "login_failed");
    assert_eq!(unknown[0].user_id, None);
    assert_eq!(unknown[0].email_hash.as_ref().map(String::len), Some(64));
    let dump = everything.join("\n");
    for secret in [
        "nausées",
        "hunter2",
        "nobody@colloque.test",
        emma.token.as_str(),
        &emma.token[..20],
        emma.refresh.as_str(),
        renewed.refresh.as_str(),
        "wrong-current-1",
        "new-secret-22",
    ] {
        assert!(!dump.contains(secret), "the trail contains {secret:?}");
    }
}

#[tokio::test]
async fn the_trail_cannot_be_changed_and_only_old_entries_are_purged() {
    let app = spawn_app().await;
    let db = app.db().await;
    // The trail goes from its oldest end: the old entries come first, as they would have.
    let old = |days: i64| Row {
        at: now_ms().0 - days * DAY_MS,
        user_id: None,
        email_hash: None,
        action: "login".into(),
        conversation_id: None,
        detail: Some(format!("{days} days ago")),
        ip: None,
        user_agent: None,
        transport: "rest".into(),
        occurrences: 1,
    };
    db.append_audit(&[old(400), old(370), old(200)])
        .await
        .unwrap();
    app.login(EMMA).await;

    let update = on_db!(&db, |pool| {
        sqlx::query("UPDATE audit_log SET action = 'nothing'")
            .execute(pool)
            .await
            .map(drop)
    });
    let delete = on_db!(&db, |pool| {
        sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .map(drop)
    });
    let cut_off = Timestamp(now_ms().0 - 365 * DAY_MS);
    let purged = db.purge_audit(cut_off).await.unwrap();

    assert!(update.unwrap_err().to_string().contains("append-only"));
    assert!(delete.is_err());
    assert_eq!(purged, 2);
    let left: Vec<String> = on_db!(&db, |pool| {
        sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert_eq!(
        left,
        ["login", "login"],
        "the 200-day-old entry and the new login stay"
    );
    // The purge window is closed again.
    let again = on_db!(&db, |pool| {
        sqlx::query("DELETE FROM audit_log")
            .execute(pool)
            .await
            .map(drop)
    });
    assert!(again.is_err());
    // The anchor moved with the purge: the rest of the chain still verifies.
    assert!(matches!(
        db.verify_audit().await.unwrap(),
        Verification::Intact { rows: 2, .. }
    ));
}

#[tokio::test]
async fn disabling_an_account_is_recorded_with_the_revoked_sessions() {
    let app = spawn_app().await;
    app.login(HUGO).await;

    colloque_server::admin::set_disabled(&app.db().await, HUGO, true)
        .await
        .unwrap();

    let trail = app.audit_of(HUGO).await;
    let disabled = trail
        .iter()
        .find(|record| record.action == "account_disabled")
        .expect("recorded");
    assert_eq!(disabled.transport, "cli");
    assert_eq!(disabled.detail.as_deref(), Some("1 sessions revoked"));
}

#[tokio::test]
async fn the_export_starts_at_since() {
    let app = spawn_app().await;
    app.login(EMMA).await;
    let db = app.db().await;

    let future = Timestamp(now_ms().0 + DAY_MS);
    let nothing = colloque_server::admin::audit_export(&db, EMMA, future)
        .await
        .unwrap();

    assert!(nothing.is_empty());
}
