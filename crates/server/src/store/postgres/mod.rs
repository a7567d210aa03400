//! The PostgreSQL backend: the source of truth of a cluster, shared by every server instance.
//!
//! The table modules are the SQLite backend's (`../tables/`, compiled once per backend with
//! `Db` naming the backend's [`sqlx::Database`]). What differs is how writers that run on
//! several instances at once are ordered. SQLite has one write lock for the whole file;
//! PostgreSQL locks rows:
//! - a batch of sends locks its conversations' rows ([`lock_conversations`]) before it reads
//!   their `last_seq`, so that each conversation's `seq` stays gap-free and commits in `seq`
//!   order, whichever instance writes (READ COMMITTED is enough: each statement sees what the
//!   lock's previous holder committed);
//! - starting a conversation locks the care relationship ([`lock_care_pair`]), so that two
//!   instances cannot both create the pair's open conversation;
//! - a refresh locks its session's row ([`lock_session`]) before it reads the session's
//!   credentials, so that one credential is never rotated twice;
//! - a login attempt locks its account and address keys (advisory locks, [`lock_login_keys`])
//!   before it counts the throttle's windows and records itself, so that the limits hold over
//!   every instance;
//! - an audit append locks the chain's one-row head ([`lock_audit_chain`]), last in its
//!   transaction, so that the rows of every instance form one hash chain.

use crate::store::model::*;
use anyhow::Context;
use colloque_protocol::{ConversationId, MessageId, Seq, Timestamp, UserId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// This backend's database.
pub type Db = Postgres;

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

/// Connects to `url` and applies pending migrations (several instances starting together
/// are safe: sqlx takes an advisory lock around them).
///
/// Every acquire is bounded (10 s), and so is every statement (`statement_timeout`, 30 s, the
/// same as the API's request deadline): with the database unreachable or stuck, a request
/// fails with a retryable error instead of hanging.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)
        .context("the PostgreSQL URL is not valid")?
        .application_name("colloque")
        .options([("statement_timeout", "30s")]);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .context("failed to connect to PostgreSQL")?;
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .context("failed to apply database migrations")?;
    Ok(pool)
}

/// Starts a transaction that writes (READ COMMITTED; the rules that need an order take row
/// locks).
pub async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    pool.begin().await
}

/// Locks the rows of `ids` until the transaction ends, in id order (so that two batches that
/// share conversations cannot deadlock).
pub async fn lock_conversations(
    conn: &mut PgConnection,
    ids: &[ConversationId],
) -> Result<(), sqlx::Error> {
    let mut ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    sqlx::query("SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the care relationship of (doctor, patient), if there is one, until the transaction
/// ends.
pub async fn lock_care_pair(
    conn: &mut PgConnection,
    doctor: UserId,
    patient: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT 1 FROM care_relationships WHERE doctor_id = $1 AND patient_id = $2 FOR UPDATE",
    )
    .bind(doctor.0)
    .bind(patient.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Holds a user's capped collections (templates, absences, push subscriptions) until the
/// transaction ends (their user row, `FOR NO KEY UPDATE`: sends and other inserts that only
/// reference the user are not held), so that two instances cannot both count 99 templates and
/// both add one.
pub async fn lock_user_collections(
    conn: &mut PgConnection,
    user: UserId,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
        .bind(user.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks session `id`'s row until the transaction ends, so that two refreshes of one session,
/// on any instances, read and rotate its credentials one after the other.
pub async fn lock_session(
    conn: &mut PgConnection,
    id: &crate::domain::SessionId,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE")
        .bind(&id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// The advisory-lock class of login accounts' keys (the first of `pg_advisory_xact_lock`'s two
/// 32-bit keys; the second is the key's `hashtext`).
const LOGIN_ACCOUNT_LOCK: i32 = 0x4c_41_43; // "LAC"
/// The advisory-lock class of login addresses' keys.
const LOGIN_ADDRESS_LOCK: i32 = 0x4c_41_44; // "LAD"

/// Locks a login attempt's account and address until the transaction ends (transaction-scoped
/// advisory locks), so that the attempts on one account or one address are counted and
/// recorded one after the other, whichever instance they reach. The account first, then the
/// address, in separate statements, always: no two attempts can wait for each other. Two keys
/// that share a hash share a lock, which only makes them wait.
pub async fn lock_login_keys(
    conn: &mut PgConnection,
    account: &str,
    address: &str,
) -> Result<(), sqlx::Error> {
    for (class, key) in [(LOGIN_ACCOUNT_LOCK, account), (LOGIN_ADDRESS_LOCK, address)] {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(class)
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Locks the audit chain's head until the transaction ends and reads it: appends from every
/// instance take ids and commit one after the other, so the chain (the order of ids) is one
/// sequence. Taken last in a transaction (after any conversation, care pair or login lock),
/// so that it never waits while holding what another transaction needs first.
pub async fn lock_audit_chain(conn: &mut PgConnection) -> Result<AuditChain, sqlx::Error> {
    sqlx::query_as(
        "SELECT head_id, head_hash, anchor_id, anchor_hash FROM audit_chain WHERE id = 1 FOR UPDATE",
    )
    .fetch_one(conn)
    .await
}

/// Stores a batch of new messages and moves the conversations' heads and the senders' read
/// cursors, in one statement (data-modifying CTEs: one round trip, like SQLite's
/// multi-statement query). The caller locked the conversations ([`lock_conversations`]) and
/// reserved the seqs from the rows it then read. Returns the ids, in the order of `messages`.
#[tracing::instrument(level = "debug", skip_all, fields(messages = messages.len()))]
pub async fn append_batch(
    conn: &mut PgConnection,
    messages: &[NewMessage<'_>],
    heads: &[HeadUpdate],
    cursors: &[(UserId, ConversationId, Seq, Timestamp)],
) -> Result<Vec<MessageId>, sqlx::Error> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::<Postgres>::new(
        "WITH new (conversation_id, seq, sender_id, client_id, body, sent_at, kind, template_id) AS (",
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
        "), stored AS (
             INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at, kind, template_id)
             SELECT * FROM new RETURNING id, conversation_id, seq),
         heads (id, seq, at, triage, triage_at, waiting_since, urgent_since) AS (",
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
        "), moved AS (
             UPDATE conversations SET last_seq = heads.seq, last_activity_at = heads.at,
                 triage = heads.triage, triage_at = heads.triage_at,
                 waiting_since = heads.waiting_since, urgent_since = heads.urgent_since
             FROM heads WHERE conversations.id = heads.id AND heads.seq > conversations.last_seq
             RETURNING 1),
         cursors (user_id, conversation_id, seq, read_at) AS (",
    );
    query.push_values(cursors, |mut row, (user, conversation, seq, at)| {
        row.push_bind(user.0)
            .push_bind(conversation.0)
            .push_bind(seq.0)
            .push_bind(at.0);
    });
    // One has read what one wrote, when one wrote it: the move keeps its time and origin.
    query.push(
        "), read AS (
             INSERT INTO read_cursors (user_id, conversation_id, seq, read_at)
             SELECT * FROM cursors
             ON CONFLICT (user_id, conversation_id)
             DO UPDATE SET seq = GREATEST(read_cursors.seq, excluded.seq),
                 read_at = CASE WHEN excluded.seq > read_cursors.seq
                                THEN excluded.read_at ELSE read_cursors.read_at END,
                 read_from = CASE WHEN excluded.seq > read_cursors.seq
                                  THEN read_cursors.seq ELSE read_cursors.read_from END
             RETURNING 1)
         SELECT id, conversation_id, seq FROM stored",
    );
    let rows: Vec<(i64, i64, i64)> = query.build_query_as().fetch_all(&mut *conn).await?;
    ids_in_order(messages, rows)
}
