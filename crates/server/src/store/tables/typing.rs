//! The `typing_settings` table: whether a user's writing is shown to the other participant
//! (the indicator itself is never stored; see `crate::chat::typing`).

use super::Db;
use colloque_protocol::{Timestamp, UserId};
use sqlx::Executor;

/// A user's choice, if they made one.
#[tracing::instrument(skip(db))]
pub async fn share(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar("SELECT share_typing FROM typing_settings WHERE user_id = $1")
        .bind(user.0)
        .fetch_optional(db)
        .await
}

/// Replaces a user's choice.
#[tracing::instrument(skip(db))]
pub async fn set_share(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    share: bool,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO typing_settings (user_id, share_typing, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE
         SET share_typing = excluded.share_typing, updated_at = excluded.updated_at",
    )
    .bind(user.0)
    .bind(share)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(())
}
