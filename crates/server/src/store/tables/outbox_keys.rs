//! The `outbox_keys` table: one key per user, for the app's encrypted outbox
//! (`auth::outbox_key`). Rows go with their user (`ON DELETE CASCADE`).

use super::Db;
use colloque_protocol::{Timestamp, UserId};
use sqlx::Executor;

/// The outbox key of `user`, if one was made.
#[tracing::instrument(skip(db))]
pub async fn find(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT key FROM outbox_keys WHERE user_id = $1")
        .bind(user.0)
        .fetch_optional(db)
        .await
}

/// Gives `user` the key `key` unless they have one (two first logins at once keep one key).
#[tracing::instrument(skip(db, key))]
pub async fn insert_if_absent(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    key: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox_keys (user_id, key, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.0)
    .bind(key)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces the key of `user` by `key` (a rotation), or gives them this one.
#[tracing::instrument(skip(db, key))]
pub async fn replace(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    key: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox_keys (user_id, key, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET key = excluded.key, created_at = excluded.created_at",
    )
    .bind(user.0)
    .bind(key)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(())
}
