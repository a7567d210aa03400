//! The SQLite backend: one file, one writer at a time, the zero-setup default.
//!
//! The table modules are shared with the PostgreSQL backend: each file under `../tables/` is
//! compiled once per backend, with `Db` naming the backend's [`sqlx::Database`]. Only what the
//! two dialects cannot share lives here: opening the file, taking the write lock, and the
//! batched send (one multi-statement round trip).

use crate::store::model::*;
use anyhow::Context;
use colloque_protocol::{ConversationId, MessageId, Seq, Timestamp, UserId};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::path::Path;
use std::time::Duration;

/// This backend's database.
pub type Db = Sqlite;

#[path = "../tables/appointments.rs"]
pub mod appointments;
#[path = "../tables/attachments.rs"]
pub mod attachments;
#[path = "../tables/audit.rs"]
pub mod audit;
#[path = "../tables/care.rs"]
pub mod care;
#[path = "../tables/conversations.rs"]
pub mod conversations;
#[path = "../tables/hours.rs"]
pub mod hours;
#[path = "../tables/intake.rs"]
pub mod intake;
#[path = "../tables/login_attempts.rs"]
pub mod login_attempts;
#[path = "../tables/messages.rs"]
pub mod messages;
#[path = "../tables/mfa.rs"]
pub mod mfa;
#[path = "../tables/notifications.rs"]
pub mod notifications;
#[path = "../tables/outbox_keys.rs"]
pub mod outbox_keys;
#[path = "../tables/push.rs"]
pub mod push;
#[path = "../tables/read_cursors.rs"]
pub mod read_cursors;
#[path = "../tables/refresh_tokens.rs"]
pub mod refresh_tokens;
#[path = "../tables/sessions.rs"]
pub mod sessions;
#[path = "../tables/templates.rs"]
pub mod templates;
#[path = "../tables/typing.rs"]
pub mod typing;
#[path = "../tables/users.rs"]
pub mod users;

/// Opens (creating if needed) the database and applies pending migrations.
///
/// Pragmas, set on every pooled connection:
/// - `journal_mode=WAL`: readers never block the writer nor the other way round.
/// - `synchronous=FULL`: the WAL is fsynced at every commit. With the cheaper `NORMAL`, a power
///   cut can lose the last commits; but the server acknowledges a message (HTTP 201, WebSocket
///   `ack`) only *after* its commit, and the client then forgets its copy — so a commit must be
///   durable before we say it happened.
/// - `foreign_keys=ON`: SQLite leaves them off by default.
/// - `busy_timeout=5s`: a writer waits for the lock instead of failing at once.
///
/// The pool does not ping a connection before lending it (`test_before_acquire`): a SQLite
/// connection is a local file handle, and the ping was one more round trip to the connection's
/// worker thread (two thread wake-ups) on every acquire.
pub async fn connect(path: &Path) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .with_context(|| format!("failed to open the database {}", path.display()))?;
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .context("failed to apply database migrations")?;
    make_private(path)?;
    Ok(pool)
}

/// The database, its write-ahead log and its shared-memory index are owner-only (0600),
/// whichever command opened them first (SQLite creates them with the process's umask, often
/// world-readable). Called once they all exist: after the migrations wrote to the log.
fn make_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(name.into());
        }
        for file in files.iter().filter(|file| file.exists()) {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("failed to make {} owner-only", file.display()))?;
        }
    }
    Ok(())
}

/// Starts a transaction that writes. `BEGIN IMMEDIATE` takes SQLite's write lock up front, so
/// concurrent writers queue on `busy_timeout` instead of failing with `SQLITE_BUSY` when a read
/// transaction tries to upgrade. Holding the only write lock also serialises every rule that
/// PostgreSQL enforces with row or advisory locks ([`lock_conversations`], [`lock_care_pair`],
/// [`lock_login_keys`], [`lock_audit_chain`], [`lock_session`]).
pub async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Nothing to do: the transaction already holds the database's only write lock.
pub async fn lock_conversations(
    _conn: &mut SqliteConnection,
    _ids: &[ConversationId],
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// Nothing to do: the transaction already holds the database's only write lock.
pub async fn lock_care_pair(
    _conn: &mut SqliteConnection,
    _doctor: UserId,
    _patient: UserId,
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// Nothing to do: the transaction already holds the database's only write lock, so no other
/// login attempt is counted or recorded until it ends.
pub async fn lock_login_keys(
    _conn: &mut SqliteConnection,
    _account: &str,
    _address: &str,
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// The audit chain's head, for an append: nothing to lock, the transaction already holds the
/// database's only write lock, so appends from every process are one sequence.
pub async fn lock_audit_chain(conn: &mut SqliteConnection) -> Result<AuditChain, sqlx::Error> {
    audit::chain(conn).await
}

/// Nothing to do: the transaction already holds the database's only write lock, so nothing of
/// the user's is counted or added until it ends.
pub async fn lock_user_collections(
    _conn: &mut SqliteConnection,
    _user: UserId,
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// Nothing to do: the transaction already holds the database's only write lock, so no other
/// refresh of the session is judged until it ends.
pub async fn lock_session(
    _conn: &mut SqliteConnection,
    _id: &crate::domain::SessionId,
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// Stores a batch of new messages and moves, in the same round trip to the database (one
/// multi-statement query), the conversations' heads and the senders' read cursors:
/// - `heads`: per conversation, its new `last_seq` and `last_activity_at`;
/// - `cursors`: per (sender, conversation), the sender's last message and its time.
///
/// The caller holds the write lock (`BEGIN IMMEDIATE`) and reserved the seqs from the rows it
/// read in the same transaction. Returns the stored messages' ids, in the order of `messages`.
#[tracing::instrument(level = "debug", skip_all, fields(messages = messages.len()))]
pub async fn append_batch(
    conn: &mut SqliteConnection,
    messages: &[NewMessage<'_>],
    heads: &[HeadUpdate],
    cursors: &[(UserId, ConversationId, Seq, Timestamp)],
) -> Result<Vec<MessageId>, sqlx::Error> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::<Sqlite>::new(
        "INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at, kind, template_id) ",
    );
    query.push_values(messages, |mut row, message| {
        row.push_bind(message.conversation_id.0)
            .push_bind(message.seq.0)
            .push_bind(message.sender_id.0)
            .push_bind(message.client_id.0.to_string())
            .push_bind(message.body.to_owned())
            .push_bind(message.sent_at.0)
            .push_bind(message.kind.as_str())
            .push_bind(message.template_id.map(|id| id.0));
    });
    query.push(
        " RETURNING id, conversation_id, seq;
         WITH heads (id, seq, at, triage, triage_at, waiting_since, urgent_since) AS (",
    );
    query.push_values(heads, |mut row, head| {
        row.push_bind(head.conversation.0)
            .push_bind(head.seq.0)
            .push_bind(head.at.0)
            .push_bind(head.triage.state.as_str())
            .push_bind(head.triage.since.0)
            .push_bind(head.triage.waiting_since.map(|at| at.0))
            .push_bind(head.triage.urgent_since.map(|at| at.0));
    });
    query.push(
        ") UPDATE conversations SET last_seq = heads.seq, last_activity_at = heads.at,
             triage = heads.triage, triage_at = heads.triage_at,
             waiting_since = heads.waiting_since, urgent_since = heads.urgent_since
         FROM heads WHERE conversations.id = heads.id AND heads.seq > conversations.last_seq;
         INSERT INTO read_cursors (user_id, conversation_id, seq, read_at) ",
    );
    query.push_values(cursors, |mut row, (user, conversation, seq, at)| {
        row.push_bind(user.0)
            .push_bind(conversation.0)
            .push_bind(seq.0)
            .push_bind(at.0);
    });
    // One has read what one wrote, when one wrote it: the move keeps its time and origin.
    query.push(
        " ON CONFLICT (user_id, conversation_id) DO UPDATE SET
             seq = max(seq, excluded.seq),
             read_at = CASE WHEN excluded.seq > seq THEN excluded.read_at ELSE read_at END,
             read_from = CASE WHEN excluded.seq > seq THEN seq ELSE read_from END",
    );
    let rows: Vec<(i64, i64, i64)> = query.build_query_as().fetch_all(&mut *conn).await?;
    ids_in_order(messages, rows)
}
