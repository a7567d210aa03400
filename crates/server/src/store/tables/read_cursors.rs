//! The `read_cursors` table: how far each participant has read each conversation.

use super::Db;
use colloque_protocol::{ConversationId, Seq, UserId};
use sqlx::Executor;

/// Moves the cursor to `seq` if that is forward; never moves it back. Returns the cursor after
/// the call.
#[tracing::instrument(skip(db))]
pub async fn advance(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    conversation: ConversationId,
    seq: Seq,
) -> Result<Seq, sqlx::Error> {
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO read_cursors (user_id, conversation_id, seq) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, conversation_id) DO UPDATE SET seq = CASE WHEN excluded.seq > read_cursors.seq THEN excluded.seq ELSE read_cursors.seq END
         RETURNING seq",
    )
    .bind(user.0)
    .bind(conversation.0)
    .bind(seq.0)
    .fetch_one(db)
    .await?;
    Ok(Seq(seq))
}

/// The cursor, `Seq(0)` when the user has read nothing.
#[tracing::instrument(skip(db))]
pub async fn get(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    conversation: ConversationId,
) -> Result<Seq, sqlx::Error> {
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM read_cursors WHERE user_id = $1 AND conversation_id = $2",
    )
    .bind(user.0)
    .bind(conversation.0)
    .fetch_optional(db)
    .await?;
    Ok(Seq(seq.unwrap_or(0)))
}
