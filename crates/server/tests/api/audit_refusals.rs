//! The audit trail under attack: a flood of refusals writes a bounded number of rows with the
//! right total count, and a read whose audit row cannot be written is refused instead of going
//! unrecorded.

use crate::helpers::*;
use colloque_server::RateLimit;
use colloque_server::audit::Verification;
use colloque_server::store::Store;
use serde_json::Value;

/// The most rows one (address, action) may take for a burst that lasts seconds: one per
/// minute, two when the burst straddles a minute's end.
const ROWS_PER_BURST: usize = 2;

#[tokio::test]
async fn a_flood_of_refusals_writes_one_row_per_address_action_and_minute() {
    let mut app = spawn_app_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        config.limits.requests = RateLimit::per_minute(1_000_000);
    })
    .await;
    let hugo = app.login(HUGO).await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let addresses = ["203.0.113.1", "203.0.113.2", "2001:db8:1:2::7"];

    // Without any valid token: 120 logins per address for emails that have no account (each
    // one new), 50 sockets from a foreign origin.
    for address in addresses {
        for n in 0..120 {
            let email = format!("nobody-{n}@colloque.test");
            app.post_login_via(address, &email, "guess").await;
        }
    }
    for _ in 0..50 {
        assert_eq!(
            app.socket_from_origin("https://evil.example").await.err(),
            Some(403)
        );
    }
    // With a valid token: 50 reads of another patient's conversation.
    for _ in 0..50 {
        let path = format!("/api/conversations/{}/messages", conversation.id);
        assert_eq!(app.get(&path, &hugo.token).await.status(), 404);
    }
    app.stop().await;

    // Per address: 100 passwords checked (the address's ceiling), then 20 throttled.
    for (action, per_address) in [("login_failed", 100), ("login_throttled", 20)] {
        let rows = app.audit_counts(action).await;
        for address in addresses {
            let ip = address
                .strip_suffix("::7")
                .map_or(address.to_owned(), |prefix| format!("{prefix}::/64"));
            let mine: Vec<i64> = rows
                .iter()
                .filter(|(at, _, _)| at.as_deref() == Some(ip.as_str()))
                .map(|(_, _, n)| *n)
                .collect();
            assert_eq!(mine.iter().sum::<i64>(), per_address, "{action} from {ip}");
            assert!(mine.len() <= ROWS_PER_BURST, "{action} from {ip}: {mine:?}");
        }
        assert_eq!(
            rows.len(),
            rows.iter().filter(|(ip, _, _)| ip.is_some()).count()
        );
    }
    let origins = app.audit_counts("origin_refused").await;
    assert_eq!(origins.iter().map(|(_, _, n)| n).sum::<i64>(), 50);
    assert!(origins.len() <= ROWS_PER_BURST, "{origins:?}");
    let denied = app.audit_counts("access_denied").await;
    assert_eq!(denied.iter().map(|(_, _, n)| n).sum::<i64>(), 50);
    assert!(denied.len() <= ROWS_PER_BURST, "{denied:?}");
    assert!(denied.iter().all(|(_, user, _)| *user == Some(hugo.id.0)));
    // 460 refused requests, a handful of rows, and one intact chain.
    let db = app.db().await;
    let rows: i64 = on_db!(&db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert!(rows <= 3 + 8 * ROWS_PER_BURST as i64, "{rows} rows");
    assert!(matches!(
        db.verify_audit().await.unwrap(),
        Verification::Intact { .. }
    ));
}

/// Makes the database refuse (or accept again) every insert into the trail, the way a full
/// disk or a revoked permission would: a trigger the test adds, on either backend.
async fn refuse_audit_writes(db: &Store, refuse: bool) {
    let statements: &[&str] = match (db, refuse) {
        (Store::Sqlite(_), true) => &["CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log
             BEGIN SELECT RAISE(ABORT, 'test: the audit trail refuses writes'); END"],
        (Store::Sqlite(_), false) => &["DROP TRIGGER test_refuse_audit"],
        (Store::Postgres(_), true) => &[
            "CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'test: the audit trail refuses writes'; END; $$",
            "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log
             FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()",
        ],
        (Store::Postgres(_), false) => &["DROP TRIGGER test_refuse_audit ON audit_log"],
    };
    for statement in statements {
        on_db!(db, |pool| {
            sqlx::query(statement).execute(pool).await.unwrap();
        });
    }
}

#[tokio::test]
async fn a_read_whose_audit_row_cannot_be_written_answers_503_and_returns_nothing() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let db = app.db().await;

    refuse_audit_writes(&db, true).await;

    let id = conversation.id;
    for path in [
        "/api/conversations".to_owned(),
        format!("/api/conversations/{id}"),
        format!("/api/conversations/{id}/messages"),
        "/api/appointments".to_owned(),
        "/api/care-team".to_owned(),
    ] {
        let response = app.get(&path, &emma.token).await;
        assert_eq!(response.status(), 503, "{path}");
        assert!(response.headers().contains_key("retry-after"), "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "server_busy", "{path}");
        assert_eq!(
            body.as_object().unwrap().len(),
            2,
            "{path}: code and message only"
        );
    }
    let refresh = app.refresh(&emma).await;
    assert_eq!(refresh.status(), 503, "no token without its trace");
    assert_eq!(refresh_cookie(&refresh), None, "nor a new credential");
    let login = app.post_login(LUCAS, colloque_server::DEMO_PASSWORD).await;
    assert_eq!(login.status(), 503, "no session without its trace");
    // Sends are not reads of the trail's kind: they are stored (and refusals still counted).
    let sent = app.send_ok(&emma, id, "toujours transmis").await;

    refuse_audit_writes(&db, false).await;

    let page = app.history(&emma, id, "").await;
    assert_eq!(page.messages.last().unwrap().id, sent.id);
    assert_eq!(
        app.refresh(&emma).await.status(),
        200,
        "the refresh that could not be recorded rotated nothing: its credential still works"
    );
    let lucas_sessions: i64 = on_db!(&db, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE u.email = $1",
        )
        .bind(LUCAS)
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert_eq!(lucas_sessions, 0, "the refused login made no session");
    let trail = app.audit_of(EMMA).await;
    assert!(
        !trail
            .iter()
            .any(|r| r.action == "conversations_listed" && r.at > sent.sent_at.0),
        "nothing was recorded while the trail refused, and nothing was answered"
    );
}
