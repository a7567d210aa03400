//! The `audit_log` table (see [`crate::audit`]): written by every request that must leave a
//! trace, read by `audit-export`, emptied only by the retention purge.

use super::Db;
use crate::audit::{Entry, Record, Source};
use colloque_protocol::{Timestamp, UserId};
use sqlx::Executor;

/// Appends an entry.
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    source: &Source,
    entry: &Entry,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log
             (at, user_id, email_hash, action, conversation_id, detail, ip, user_agent, transport)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(at.0)
    .bind(entry.user_id.map(|id| id.0))
    .bind(entry.email_hash.as_deref())
    .bind(entry.action.as_str())
    .bind(entry.conversation_id.map(|id| id.0))
    .bind(entry.detail.as_deref())
    .bind(source.ip.as_deref())
    .bind(source.user_agent.as_deref())
    .bind(source.transport.as_str())
    .execute(db)
    .await?;
    Ok(())
}

/// One person's trail since `since`, oldest first: the entries of their user id and those of
/// their email's pseudonym (failed logins).
pub async fn export(
    db: impl Executor<'_, Database = Db>,
    user: Option<UserId>,
    email_hash: &str,
    since: Timestamp,
) -> Result<Vec<Record>, sqlx::Error> {
    sqlx::query_as::<_, Record>(
        "SELECT id, at, user_id, email_hash, action, conversation_id, detail, ip, user_agent,
                transport
         FROM audit_log
         WHERE (user_id = $1 OR email_hash = $2) AND at >= $3
         ORDER BY id",
    )
    .bind(user.map(|id| id.0))
    .bind(email_hash)
    .bind(since.0)
    .fetch_all(db)
    .await
}

/// Deletes the entries older than `before`, in the caller's transaction. The only path allowed
/// to delete (see the migrations' triggers): the cut-off is announced in `audit_purge`, then
/// withdrawn, in the same transaction.
pub async fn purge(
    db: &mut <Db as sqlx::Database>::Connection,
    before: Timestamp,
) -> Result<u64, sqlx::Error> {
    sqlx::query("INSERT INTO audit_purge (before) VALUES ($1)")
        .bind(before.0)
        .execute(&mut *db)
        .await?;
    let deleted = sqlx::query("DELETE FROM audit_log WHERE at < $1")
        .bind(before.0)
        .execute(&mut *db)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM audit_purge")
        .execute(&mut *db)
        .await?;
    Ok(deleted)
}
