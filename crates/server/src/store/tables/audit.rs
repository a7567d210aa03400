//! The `audit_log` table and its chain's head, `audit_chain` (see [`crate::audit`]): appended
//! to by every request that must leave a trace, read by `audit-export` and `audit-verify`,
//! emptied only by the retention purge, from its oldest end.

use super::Db;
use crate::audit::{Broken, Record, Row, StoredRow, Walk};
use crate::store::model::AuditChain;
use colloque_protocol::{Timestamp, UserId};
use sqlx::{Executor, QueryBuilder};

/// Rows per INSERT statement (12 bound values each: far under SQLite's 32,766).
const APPEND_CHUNK: usize = 1_000;

/// Rows read per query while walking the chain.
const WALK_PAGE: i64 = 5_000;

const STORED_COLUMNS: &str = "id, at, user_id, email_hash, action, conversation_id, detail, ip, \
                              user_agent, transport, occurrences, prev_hash, hash";

/// The chain's head and anchor.
pub async fn chain(db: impl Executor<'_, Database = Db>) -> Result<AuditChain, sqlx::Error> {
    sqlx::query_as(
        "SELECT head_id, head_hash, anchor_id, anchor_hash FROM audit_chain WHERE id = 1",
    )
    .fetch_one(db)
    .await
}

/// Appends `rows`, in this order, at the chain's head, in the caller's write transaction: the
/// head is locked (see each backend's `lock_audit_chain`; callers append last in their
/// transactions, so this lock is the last one they take), each row linked to the one before,
/// and the head moved to the last.
pub async fn append(
    conn: &mut <Db as sqlx::Database>::Connection,
    rows: &[Row],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let head = super::lock_audit_chain(&mut *conn).await?;
    let (mut head_id, mut prev) = (head.head_id, head.head_hash);
    for chunk in rows.chunks(APPEND_CHUNK) {
        let mut links: Vec<(String, String)> = Vec::with_capacity(chunk.len());
        for row in chunk {
            let hash = row.hash(&prev);
            links.push((std::mem::replace(&mut prev, hash.clone()), hash));
        }
        let mut query = QueryBuilder::<Db>::new(
            "INSERT INTO audit_log (at, user_id, email_hash, action, conversation_id, detail, ip,
                                    user_agent, transport, occurrences, prev_hash, hash) ",
        );
        query.push_values(chunk.iter().zip(&links), |mut values, (row, link)| {
            values
                .push_bind(row.at)
                .push_bind(row.user_id)
                .push_bind(row.email_hash.clone())
                .push_bind(row.action.clone())
                .push_bind(row.conversation_id)
                .push_bind(row.detail.clone())
                .push_bind(row.ip.clone())
                .push_bind(row.user_agent.clone())
                .push_bind(row.transport.clone())
                .push_bind(row.occurrences)
                .push_bind(link.0.clone())
                .push_bind(link.1.clone());
        });
        query.push(" RETURNING id, hash");
        let mut stored: Vec<(i64, String)> = query.build_query_as().fetch_all(&mut *conn).await?;
        // The chain is the order of ids: the rows must have been numbered, after the head, in
        // the order they were linked. Checked rather than assumed; a failure rolls back.
        stored.sort_unstable_by_key(|(id, _)| *id);
        let in_order = stored.first().is_some_and(|(id, _)| *id > head_id)
            && stored
                .iter()
                .map(|(_, hash)| hash)
                .eq(links.iter().map(|(_, hash)| hash));
        if !in_order {
            return Err(sqlx::Error::Protocol(
                "audit rows were not numbered in the order of their chain".into(),
            ));
        }
        head_id = stored.last().map_or(head_id, |(id, _)| *id);
    }
    sqlx::query("UPDATE audit_chain SET head_id = $1, head_hash = $2 WHERE id = 1")
        .bind(head_id)
        .bind(&prev)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Walks the chain from where `walk` stands up to the row `through`, in pages; the first broken
/// link, if any.
pub async fn walk(
    db: &sqlx::Pool<Db>,
    walk: &mut Walk,
    through: i64,
) -> Result<Result<(), Broken>, sqlx::Error> {
    loop {
        let after = walk.last().0;
        if after >= through {
            return Ok(Ok(()));
        }
        let sql = format!(
            "SELECT {STORED_COLUMNS} FROM audit_log WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3"
        );
        let page: Vec<StoredRow> = sqlx::query_as(&sql)
            .bind(after)
            .bind(through)
            .bind(WALK_PAGE)
            .fetch_all(db)
            .await?;
        if page.is_empty() {
            return Ok(Ok(()));
        }
        for row in &page {
            if let Err(broken) = walk.step(row) {
                return Ok(Err(broken));
            }
        }
    }
}

/// How many rows have an id at or below `id`.
pub async fn count_through(
    db: impl Executor<'_, Database = Db>,
    id: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE id <= $1")
        .bind(id)
        .fetch_one(db)
        .await
}

/// The last row the purge at `before` may delete: the trail goes from its oldest end, so the
/// rows before the first one at or after `before` (all of them when there is none). `None`:
/// nothing to delete.
pub async fn purge_through(
    db: &sqlx::Pool<Db>,
    before: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    // In id order from the oldest end, to the first row to keep: this reads what the purge
    // deletes (a day's rows, daily), not what it keeps (at least 180 days' worth).
    let first_kept: Option<i64> =
        sqlx::query_scalar("SELECT id FROM audit_log WHERE at >= $1 ORDER BY id LIMIT 1")
            .bind(before.0)
            .fetch_optional(db)
            .await?;
    match first_kept {
        Some(first_kept) => {
            sqlx::query_scalar("SELECT MAX(id) FROM audit_log WHERE id < $1")
                .bind(first_kept)
                .fetch_one(db)
                .await
        }
        None => {
            sqlx::query_scalar("SELECT MAX(id) FROM audit_log")
                .fetch_one(db)
                .await
        }
    }
}

/// Deletes the rows up to `through` (all older than `before`), in the caller's transaction, and
/// moves the anchor to `anchor` (the last deleted chained row) if given, unless another purge
/// moved it since `anchor_was` (then the caller rolls back: `Ok(None)`). The only path allowed
/// to delete (see the migrations' triggers): the cut-off, which the database checks against the
/// minimum retention, is announced in `audit_purge`, then withdrawn, in the same transaction.
pub async fn purge(
    conn: &mut <Db as sqlx::Database>::Connection,
    before: Timestamp,
    through: i64,
    anchor: Option<(i64, &str)>,
    anchor_was: i64,
) -> Result<Option<u64>, sqlx::Error> {
    sqlx::query("INSERT INTO audit_purge (before) VALUES ($1)")
        .bind(before.0)
        .execute(&mut *conn)
        .await?;
    let deleted = sqlx::query("DELETE FROM audit_log WHERE id <= $1")
        .bind(through)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if let Some((id, hash)) = anchor {
        let moved = sqlx::query(
            "UPDATE audit_chain SET anchor_id = $1, anchor_hash = $2 WHERE id = 1 AND anchor_id = $3",
        )
        .bind(id)
        .bind(hash)
        .bind(anchor_was)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(None);
        }
    }
    sqlx::query("DELETE FROM audit_purge")
        .execute(&mut *conn)
        .await?;
    Ok(Some(deleted))
}

/// One person's trail since `since`, in time order: the entries of their user id and those of
/// their email's pseudonym (failed logins).
pub async fn export(
    db: impl Executor<'_, Database = Db>,
    user: Option<UserId>,
    email_hash: &str,
    since: Timestamp,
) -> Result<Vec<Record>, sqlx::Error> {
    sqlx::query_as::<_, Record>(
        "SELECT id, at, user_id, email_hash, action, conversation_id, detail, ip, user_agent,
                transport, occurrences
         FROM audit_log
         WHERE (user_id = $1 OR email_hash = $2) AND at >= $3
         ORDER BY at, id",
    )
    .bind(user.map(|id| id.0))
    .bind(email_hash)
    .bind(since.0)
    .fetch_all(db)
    .await
}
