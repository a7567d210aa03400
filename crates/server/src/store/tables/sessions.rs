//! The `sessions` table: one row per login, so that logout (and disabling an account) can
//! revoke tokens that are still cryptographically valid.

use super::Db;
use crate::domain::SessionId;
use crate::store::model::*;
use colloque_protocol::{SessionHandle, Timestamp, UserId};
use sqlx::Executor;

/// Records a new session, active now, ending at `expires_at` whatever happens, named
/// `handle` on the sessions page and in its refresh route.
#[tracing::instrument(skip_all, fields(user = %session.user))]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    session: &NewSession<'_>,
    handle: &SessionHandle,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, public_id, created_at, expires_at, last_seen_at,
                               generation, device, ip)
         VALUES ($1, $2, $3, $4, $5, $4, 0, $6, $7)",
    )
    .bind(&session.id.0)
    .bind(session.user.0)
    .bind(&handle.0)
    .bind(now.0)
    .bind(session.expires_at.0)
    .bind(session.device)
    .bind(session.ip)
    .execute(db)
    .await?;
    Ok(())
}

/// When a session counts as live: not revoked, not past its absolute end, used since the idle
/// cut-off, and its account enabled; `$now` and `$idle` number the two times' placeholders.
/// One definition for requests, refreshes, the sessions page and the sockets' check.
fn live(now: u8, idle: u8) -> String {
    format!(
        "s.revoked_at IS NULL AND s.expires_at > ${now} AND s.last_seen_at > ${idle}
         AND NOT u.disabled"
    )
}

/// The user of session `id` if the session belongs to `user` and is live (see [`live`]):
/// neither revoked, expired nor idle since before `idle_cutoff`, and the account enabled. The
/// caller compares the token's generation with the session's.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn active_user(
    db: impl Executor<'_, Database = Db>,
    id: &SessionId,
    user: UserId,
    now: Timestamp,
    idle_cutoff: Timestamp,
) -> Result<Option<ActiveUser>, sqlx::Error> {
    type Row = (String, i64, i64, String, i64, Option<i64>, bool);
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT u.role, s.last_seen_at, s.expires_at, s.public_id, s.generation, s.rotated_at,
                EXISTS (SELECT 1 FROM mfa_totp m
                        WHERE m.user_id = u.id AND m.enabled_at IS NOT NULL) AS mfa
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.user_id = $2 AND {}",
        live(3, 4)
    ))
    .bind(&id.0)
    .bind(user.0)
    .bind(now.0)
    .bind(idle_cutoff.0)
    .fetch_optional(db)
    .await?;
    row.map(
        |(role, last_seen_at, expires_at, handle, generation, rotated_at, mfa)| {
            Ok(ActiveUser {
                role: parse_role(&role)?,
                last_seen_at: Timestamp(last_seen_at),
                expires_at: Timestamp(expires_at),
                handle: SessionHandle(handle),
                generation,
                rotated_at: rotated_at.map(Timestamp),
                mfa,
            })
        },
    )
    .transpose()
}

/// Session `id`, if it is live (see [`live`]): what a refresh of it needs.
#[tracing::instrument(skip_all)]
pub async fn refreshable(
    db: impl Executor<'_, Database = Db>,
    id: &SessionId,
    now: Timestamp,
    idle_cutoff: Timestamp,
) -> Result<Option<RefreshableSession>, sqlx::Error> {
    let row: Option<(i64, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT s.user_id, u.role, s.public_id, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND {}",
        live(2, 3)
    ))
    .bind(&id.0)
    .bind(now.0)
    .bind(idle_cutoff.0)
    .fetch_optional(db)
    .await?;
    row.map(|(user, role, handle, expires_at)| {
        Ok(RefreshableSession {
            user: UserId(user),
            role: parse_role(&role)?,
            handle: SessionHandle(handle),
            expires_at: Timestamp(expires_at),
        })
    })
    .transpose()
}

/// A refresh went through: the session was used now, from `ip`, and (`bump` = 1) moved to its
/// next generation, or (`bump` = 0, a concurrent refresh) stays at its current one. Returns
/// the generation to issue the access token for.
#[tracing::instrument(skip_all)]
pub async fn refreshed(
    db: impl Executor<'_, Database = Db>,
    id: &SessionId,
    now: Timestamp,
    ip: Option<&str>,
    bump: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE sessions SET generation = generation + $4,
             rotated_at = CASE WHEN $4 > 0 THEN $2 ELSE rotated_at END,
             last_seen_at = CASE WHEN last_seen_at < $2 THEN $2 ELSE last_seen_at END,
             ip = $3
         WHERE id = $1 RETURNING generation",
    )
    .bind(&id.0)
    .bind(now.0)
    .bind(ip)
    .bind(bump)
    .fetch_one(db)
    .await
}

/// The live sessions of `user` (see [`live`]), latest activity first.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn live_of_user(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    now: Timestamp,
    idle_cutoff: Timestamp,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    type Row = (String, String, String, Option<String>, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT s.id, s.public_id, s.device, s.ip, s.created_at, s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.user_id = $1 AND {}
         ORDER BY s.last_seen_at DESC, s.created_at DESC",
        live(2, 3)
    ))
    .bind(user.0)
    .bind(now.0)
    .bind(idle_cutoff.0)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, handle, device, ip, created_at, last_seen_at)| SessionRow {
                id: SessionId(id),
                handle: SessionHandle(handle),
                device,
                ip,
                created_at: Timestamp(created_at),
                last_seen_at: Timestamp(last_seen_at),
            },
        )
        .collect())
}

/// Revokes the session of `user` named `handle`, if it is still live; returns its id.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn revoke_by_handle(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    handle: &SessionHandle,
    now: Timestamp,
) -> Result<Option<SessionId>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = $3
         WHERE user_id = $1 AND public_id = $2 AND revoked_at IS NULL AND expires_at > $3
         RETURNING id",
    )
    .bind(user.0)
    .bind(&handle.0)
    .bind(now.0)
    .fetch_optional(db)
    .await?;
    Ok(id.map(SessionId))
}

/// Revokes every session of `user` but `keep` (a password change); returns how many.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn revoke_others(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    keep: &SessionId,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = $3
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
    )
    .bind(user.0)
    .bind(&keep.0)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
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

/// The live ones among sessions `ids` (revoked, expired, idle, of a disabled account and
/// unknown ones are left out), with their generations. One query per thousand open sockets,
/// run by the sockets' periodic check.
#[tracing::instrument(skip_all, fields(sessions = ids.len()))]
pub async fn live_among(
    db: &mut <Db as sqlx::Database>::Connection,
    ids: &[String],
    now: Timestamp,
    idle_cutoff: Timestamp,
) -> Result<Vec<LiveGeneration>, sqlx::Error> {
    let mut live = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let mut query = sqlx::QueryBuilder::<Db>::new(
            "SELECT s.id, s.generation, s.rotated_at FROM sessions s JOIN users u ON u.id = s.user_id
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
        let found: Vec<(String, i64, Option<i64>)> =
            query.build_query_as().fetch_all(&mut *db).await?;
        live.extend(
            found
                .into_iter()
                .map(|(id, generation, rotated_at)| LiveGeneration {
                    id,
                    generation,
                    rotated_at: rotated_at.map(Timestamp),
                }),
        );
    }
    Ok(live)
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
