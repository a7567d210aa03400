//! The `sessions` table: one row per login, so that logout (and disabling an account) can
//! revoke tokens that are still cryptographically valid.

use super::Db;
use crate::domain::SessionId;
use crate::store::model::*;
use colloque_protocol::{Timestamp, UserId};
use sqlx::Executor;

/// Records a new session, active now, ending at `expires_at` whatever happens.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    id: &SessionId,
    user: UserId,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $3)",
    )
    .bind(&id.0)
    .bind(user.0)
    .bind(now.0)
    .bind(expires_at.0)
    .execute(db)
    .await?;
    Ok(())
}

/// When a session counts as live: not revoked, not past its absolute end, used since
/// `idle_cutoff`, and its account enabled. One definition for requests, refreshes and the
/// socket sweeper.
const LIVE: &str = "s.revoked_at IS NULL AND s.expires_at > $3 AND s.last_seen_at > $4
                    AND NOT u.disabled";

/// The user of session `id` if the session belongs to `user` and is live (see [`LIVE`]):
/// neither revoked, expired nor idle since before `idle_cutoff`, and the account enabled.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn active_user(
    db: impl Executor<'_, Database = Db>,
    id: &SessionId,
    user: UserId,
    now: Timestamp,
    idle_cutoff: Timestamp,
) -> Result<Option<ActiveUser>, sqlx::Error> {
    let row: Option<(String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT u.role, s.last_seen_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.user_id = $2 AND {LIVE}"
    ))
    .bind(&id.0)
    .bind(user.0)
    .bind(now.0)
    .bind(idle_cutoff.0)
    .fetch_optional(db)
    .await?;
    row.map(|(role, last_seen_at, expires_at)| {
        Ok(ActiveUser {
            role: parse_role(&role)?,
            last_seen_at: Timestamp(last_seen_at),
            expires_at: Timestamp(expires_at),
        })
    })
    .transpose()
}

/// Records activity on a session (never moves `last_seen_at` back).
#[tracing::instrument(skip_all)]
pub async fn touch(
    db: impl Executor<'_, Database = Db>,
    id: &SessionId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
        .bind(&id.0)
        .bind(now.0)
        .execute(db)
        .await?;
    Ok(())
}

/// Writes the buffered last-activity times of many sessions (the caller's transaction); a
/// time never moves backwards.
#[tracing::instrument(level = "debug", skip_all, fields(sessions = touches.len()))]
pub async fn touch_many(
    db: &mut <Db as sqlx::Database>::Connection,
    touches: &[(String, Timestamp)],
) -> Result<(), sqlx::Error> {
    for chunk in touches.chunks(1000) {
        let mut query = sqlx::QueryBuilder::<Db>::new("WITH t (id, at) AS (");
        query.push_values(chunk, |mut row, (id, at)| {
            row.push_bind(id.as_str()).push_bind(at.0);
        });
        query.push(
            ") UPDATE sessions SET last_seen_at = t.at FROM t
             WHERE sessions.id = t.id AND sessions.last_seen_at < t.at",
        );
        query.build().execute(&mut *db).await?;
    }
    Ok(())
}

/// Which of `ids` are no longer live (revoked, expired, idle, account disabled, or unknown).
/// One query per thousand open sockets, run by the revocation sweeper.
#[tracing::instrument(skip_all, fields(sessions = ids.len()))]
pub async fn not_live_among(
    db: &mut <Db as sqlx::Database>::Connection,
    ids: &[String],
    now: Timestamp,
    idle_cutoff: Timestamp,
) -> Result<Vec<String>, sqlx::Error> {
    let mut live = std::collections::HashSet::new();
    for chunk in ids.chunks(1000) {
        let mut query = sqlx::QueryBuilder::<Db>::new(
            "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE NOT u.disabled AND s.revoked_at IS NULL AND s.expires_at > ",
        );
        query
            .push_bind(now.0)
            .push(" AND s.last_seen_at > ")
            .push_bind(idle_cutoff.0)
            .push(" AND s.id IN (");
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(id.as_str());
        }
        query.push(")");
        let found: Vec<String> = query.build_query_scalar().fetch_all(&mut *db).await?;
        live.extend(found);
    }
    Ok(ids
        .iter()
        .filter(|id| !live.contains(*id))
        .cloned()
        .collect())
}

/// Revokes one session (logout). Idempotent.
#[tracing::instrument(skip_all)]
pub async fn revoke(
    db: impl Executor<'_, Database = Db>,
    id: &SessionId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(&id.0)
        .bind(now.0)
        .execute(db)
        .await?;
    Ok(())
}

/// Revokes every session of a user (account disabled).
#[tracing::instrument(skip(db))]
pub async fn revoke_all_for_user(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user.0)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Revokes a user's least recently used sessions beyond their `keep` most recently used
/// unexpired ones (the cap on live sessions per user); returns how many. Abandoned sessions
/// (idle ones among them) go first, not the oldest one still in use.
#[tracing::instrument(skip(db))]
pub async fn revoke_beyond(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    keep: usize,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = $3 WHERE id IN (
             SELECT id FROM (
                 SELECT id, row_number() OVER (
                     ORDER BY last_seen_at DESC, created_at DESC, id DESC) AS n
                 FROM sessions
                 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $3) ranked
             WHERE n > $2)",
    )
    .bind(user.0)
    .bind(i64::try_from(keep).unwrap_or(i64::MAX))
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Deletes the sessions that ended more than a day ago: past their absolute end, revoked, or
/// unused for longer than the idle limit (`idle_cutoff`). None of them can ever be used again.
pub async fn delete_expired(
    db: impl Executor<'_, Database = Db>,
    now: Timestamp,
    idle_cutoff: Timestamp,
) -> Result<u64, sqlx::Error> {
    let day_ago = now.0 - crate::util::DAY_MS;
    let result = sqlx::query(
        "DELETE FROM sessions
         WHERE expires_at < $1 OR revoked_at < $1 OR last_seen_at < $2",
    )
    .bind(day_ago)
    .bind(idle_cutoff.0 - crate::util::DAY_MS)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
