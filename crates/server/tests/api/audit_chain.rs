//! The audit trail's hash chain: `audit-verify` finds the first row changed or removed behind
//! the triggers' back (as someone with the database's own rights could), appends from several
//! connections at once stay one chain, and the retention purge keeps its minimum and its
//! evidence.

use crate::helpers::*;
use colloque_protocol::Timestamp;
use colloque_server::audit::{Action, Entry, Row, Source, Verification};
use colloque_server::store::{PurgeError, Store};
use colloque_server::util::{DAY_MS, now_ms};

/// Some ordinary traffic: logins and reads of two users.
async fn some_trail(app: &TestApp) {
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    app.history(&emma, conversation.id, "").await;
    let lucas = app.login(LUCAS).await;
    app.get("/api/appointments", &lucas.token).await;
    app.get("/api/care-team", &lucas.token).await;
}

async fn ids(db: &Store) -> Vec<i64> {
    on_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM audit_log ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
    })
}

/// Runs `statement` with the trail's trigger `trigger` out of the way, as someone holding the
/// database's own rights could: SQLite's file owner drops it, PostgreSQL's table owner disables
/// it.
async fn behind_the_triggers_back(db: &Store, trigger: &str, statement: &str, id: i64) {
    match db {
        Store::Sqlite(pool) => {
            sqlx::query(&format!("DROP TRIGGER {trigger}"))
                .execute(pool)
                .await
                .unwrap();
        }
        Store::Postgres(pool) => {
            sqlx::query(&format!("ALTER TABLE audit_log DISABLE TRIGGER {trigger}"))
                .execute(pool)
                .await
                .unwrap();
        }
    }
    on_db!(db, |pool| {
        let done = sqlx::query(statement).bind(id).execute(pool).await.unwrap();
        assert_eq!(done.rows_affected(), 1, "{statement}");
    });
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn audit_verify_reports_the_first_row_changed_behind_the_triggers_back() {
    let app = spawn_app().await;
    some_trail(&app).await;
    let db = app.db().await;
    let rows = ids(&db).await;

    let intact = app.admin_command(&["audit-verify"]).await;
    let changed = rows[2];
    behind_the_triggers_back(
        &db,
        "audit_log_no_update",
        "UPDATE audit_log SET detail = 'nothing happened' WHERE id = $1",
        changed,
    )
    .await;
    let broken = app.admin_command(&["audit-verify"]).await;

    assert!(intact.status.success(), "{intact:?}");
    assert!(
        stdout(&intact).starts_with(&format!("OK: {} rows chained", rows.len())),
        "{}",
        stdout(&intact)
    );
    assert!(!broken.status.success(), "{broken:?}");
    assert!(
        stdout(&broken).starts_with(&format!("BROKEN at row {changed}: its content")),
        "{}",
        stdout(&broken)
    );
}

#[tokio::test]
async fn audit_verify_reports_the_link_after_a_row_removed_behind_the_triggers_back() {
    let app = spawn_app().await;
    some_trail(&app).await;
    let db = app.db().await;
    let rows = ids(&db).await;

    behind_the_triggers_back(
        &db,
        "audit_log_delete_only_by_purge",
        "DELETE FROM audit_log WHERE id = $1",
        rows[1],
    )
    .await;
    let broken = app.admin_command(&["audit-verify"]).await;

    assert!(!broken.status.success(), "{broken:?}");
    assert!(
        stdout(&broken).starts_with(&format!("BROKEN at row {}: its link", rows[2])),
        "{}",
        stdout(&broken)
    );
}

#[tokio::test]
async fn a_row_written_outside_the_chain_is_reported() {
    let app = spawn_app().await;
    some_trail(&app).await;
    let db = app.db().await;

    on_db!(&db, |pool| {
        sqlx::query("INSERT INTO audit_log (at, action, transport) VALUES ($1, 'login', 'rest')")
            .bind(now_ms().0)
            .execute(pool)
            .await
            .unwrap();
    });
    let stray = *ids(&db).await.last().unwrap();

    let Verification::Broken(broken) = db.verify_audit().await.unwrap() else {
        panic!("a row without a link verifies");
    };
    assert_eq!(broken.id, stray);
    // A legitimate append after it does not hide it.
    app.login(EMMA).await;
    let Verification::Broken(broken) = db.verify_audit().await.unwrap() else {
        panic!("a row without a link verifies");
    };
    assert_eq!(broken.id, stray);
}

#[tokio::test]
async fn appends_from_several_connections_at_once_stay_one_chain() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    // Four more pools on the same database, as four instances or admin commands would be,
    // appending at once while the server records reads.
    let mut writers = Vec::new();
    for writer in 0..4 {
        let db = app.db().await;
        writers.push(tokio::spawn(async move {
            for n in 0..25 {
                let entry = Entry::new(Action::AuditVerified, None).detail(format!("{writer}/{n}"));
                db.audit(&Source::system(), &entry).await.unwrap();
            }
        }));
    }
    for _ in 0..25 {
        assert_eq!(
            app.get("/api/conversations", &emma.token).await.status(),
            200
        );
    }
    for writer in writers {
        writer.await.unwrap();
    }

    let db = app.db().await;
    let all = ids(&db).await.len() as u64;
    assert_eq!(all, 1 + 100 + 25);
    assert!(matches!(
        db.verify_audit().await.unwrap(),
        Verification::Intact { rows, unchained: 0, .. } if rows == all
    ));
}

fn old_row(days: i64) -> Row {
    Row {
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
    }
}

#[tokio::test]
async fn the_purge_refuses_recent_cut_offs_and_rows_whose_links_are_broken() {
    let app = spawn_app().await;
    let db = app.db().await;
    db.append_audit(&[old_row(400), old_row(390)])
        .await
        .unwrap();
    app.login(EMMA).await;

    // The store refuses a cut-off under the minimum, and so does the database itself.
    let recent = Timestamp(now_ms().0 - 179 * DAY_MS);
    assert!(matches!(
        db.purge_audit(recent).await,
        Err(PurgeError::TooRecent)
    ));
    let announce = |days: i64| {
        let db = db.clone();
        async move {
            on_db!(&db, |pool| {
                let mut tx = pool.begin().await.unwrap();
                let announced = sqlx::query("INSERT INTO audit_purge (before) VALUES ($1)")
                    .bind(now_ms().0 - days * DAY_MS)
                    .execute(&mut *tx)
                    .await
                    .map(drop);
                tx.rollback().await.unwrap();
                announced
            })
        }
    };
    let refused = announce(179).await.unwrap_err().to_string();
    assert!(refused.contains("at least 180 days"), "{refused}");
    announce(181)
        .await
        .expect("an old enough cut-off is accepted");

    // A row about to be purged was changed: the purge keeps the evidence.
    let first = ids(&db).await[0];
    behind_the_triggers_back(
        &db,
        "audit_log_no_update",
        "UPDATE audit_log SET action = 'logout' WHERE id = $1",
        first,
    )
    .await;
    let cut_off = Timestamp(now_ms().0 - 365 * DAY_MS);
    match db.purge_audit(cut_off).await {
        Err(PurgeError::Broken(broken)) => assert_eq!(broken.id, first),
        other => {
            // This has failed twice under load (Ok(0)); the trail as it was says why.
            let rows: Vec<(i64, i64, String)> = on_db!(&db, |pool| {
                sqlx::query_as("SELECT id, at, action FROM audit_log ORDER BY id")
                    .fetch_all(pool)
                    .await
                    .unwrap()
            });
            panic!(
                "expected the broken link, got {other:?}; cut-off {}, rows (id, at, action): {rows:?}",
                cut_off.0
            )
        }
    }
    assert_eq!(ids(&db).await.len(), 3, "nothing purged");
}
