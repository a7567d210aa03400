//! The `refresh_tokens` table: the SHA-256 of every refresh credential a session was given,
//! current (no `replaced_at`) or replaced (`auth::refresh` judges which). Rows go with their
//! session (`ON DELETE CASCADE`).

use super::Db;
use crate::domain::SessionId;
use colloque_protocol::Timestamp;
use sqlx::Executor;

/// Records a current credential of `session`.
#[tracing::instrument(skip_all)]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    hash: &str,
    session: &SessionId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)")
        .bind(hash)
        .bind(&session.0)
        .bind(now.0)
        .execute(db)
        .await?;
    Ok(())
}

/// The session of the credential whose hash is `hash`, and when it was replaced (`None`: it
/// is current).
#[tracing::instrument(skip_all)]
pub async fn find(
    db: impl Executor<'_, Database = Db>,
    hash: &str,
) -> Result<Option<(SessionId, Option<Timestamp>)>, sqlx::Error> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT session_id, replaced_at FROM refresh_tokens WHERE hash = $1")
            .bind(hash)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(session, replaced_at)| (SessionId(session), replaced_at.map(Timestamp))))
}

/// Marks every current credential of `session` replaced (a rotation); returns how many.
#[tracing::instrument(skip_all)]
pub async fn replace_current(
    db: impl Executor<'_, Database = Db>,
    session: &SessionId,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE refresh_tokens SET replaced_at = $2
         WHERE session_id = $1 AND replaced_at IS NULL",
    )
    .bind(&session.0)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
