//! The `sessions` table: one row per login, so that logout (and disabling an account) can
//! revoke tokens that are still cryptographically valid.

use crate::auth::SessionId;
use colloque_protocol::{Role, Timestamp, UserId};
use sqlx::SqliteExecutor;

/// The user behind an active session.
#[derive(Debug)]
pub struct ActiveUser {
    /// Their role, as stored now.
    pub role: Role,
}

/// Records a new session.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn insert(
    db: impl SqliteExecutor<'_>,
    id: &SessionId,
    user: UserId,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .bind(&id.0)
    .bind(user.0)
    .bind(now.0)
    .bind(expires_at.0)
    .execute(db)
    .await?;
    Ok(())
}

/// The user of session `id` if the session belongs to `user`, is neither revoked nor expired,
/// and the account is enabled.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn active_user(
    db: impl SqliteExecutor<'_>,
    id: &SessionId,
    user: UserId,
    now: Timestamp,
) -> Result<Option<ActiveUser>, sqlx::Error> {
    let role: Option<String> = sqlx::query_scalar(
        "SELECT u.role FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ?1 AND s.user_id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3
           AND u.disabled = 0",
    )
    .bind(&id.0)
    .bind(user.0)
    .bind(now.0)
    .fetch_optional(db)
    .await?;
    role.map(|role| {
        Ok(ActiveUser {
            role: super::parse_role(&role)?,
        })
    })
    .transpose()
}

/// Revokes one session (logout). Idempotent.
#[tracing::instrument(skip_all)]
pub async fn revoke(
    db: impl SqliteExecutor<'_>,
    id: &SessionId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")
        .bind(&id.0)
        .bind(now.0)
        .execute(db)
        .await?;
    Ok(())
}

/// Revokes every session of a user (account disabled).
#[tracing::instrument(skip(db))]
pub async fn revoke_all_for_user(
    db: impl SqliteExecutor<'_>,
    user: UserId,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
    )
    .bind(user.0)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Deletes sessions that expired more than a day ago (housekeeping at start-up).
pub async fn delete_expired(
    db: impl SqliteExecutor<'_>,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM sessions WHERE expires_at < ?1")
        .bind(now.0 - crate::util::DAY_MS)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
