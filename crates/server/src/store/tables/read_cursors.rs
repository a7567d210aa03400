//! The `read_cursors` table: how far each participant has read each conversation (and when
//! that cursor last moved, and from where), and how far their devices have received it.

use super::Db;
use crate::store::Cursors;
use colloque_protocol::{ConversationId, Seq, Timestamp, UserId};
use sqlx::Executor;

/// Moves the read cursor to `seq` at `at` if that is forward (keeping where it was in
/// `read_from`); never moves it back. Returns the cursors after the call.
#[tracing::instrument(skip(db))]
pub async fn advance(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    conversation: ConversationId,
    seq: Seq,
    at: Timestamp,
) -> Result<Cursors, sqlx::Error> {
    // Every right-hand side of the update reads the row as it was before it.
    let row: (i64, Option<i64>, i64, i64) = sqlx::query_as(
        "INSERT INTO read_cursors (user_id, conversation_id, seq, read_at, read_from)
         VALUES ($1, $2, $3, $4, 0)
         ON CONFLICT (user_id, conversation_id) DO UPDATE SET
             seq = CASE WHEN excluded.seq > read_cursors.seq THEN excluded.seq ELSE read_cursors.seq END,
             read_at = CASE WHEN excluded.seq > read_cursors.seq THEN excluded.read_at ELSE read_cursors.read_at END,
             read_from = CASE WHEN excluded.seq > read_cursors.seq THEN read_cursors.seq ELSE read_cursors.read_from END
         RETURNING seq, read_at, read_from, delivered_seq",
    )
    .bind(user.0)
    .bind(conversation.0)
    .bind(seq.0)
    .bind(at.0)
    .fetch_one(db)
    .await?;
    Ok(Cursors::from_row(row))
}

/// Moves the delivery cursor to `seq` if that is forward; never moves it back. Returns the
/// cursors after the call.
#[tracing::instrument(skip(db))]
pub async fn advance_delivered(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    conversation: ConversationId,
    seq: Seq,
) -> Result<Cursors, sqlx::Error> {
    let row: (i64, Option<i64>, i64, i64) = sqlx::query_as(
        "INSERT INTO read_cursors (user_id, conversation_id, seq, delivered_seq)
         VALUES ($1, $2, 0, $3)
         ON CONFLICT (user_id, conversation_id) DO UPDATE SET
             delivered_seq = CASE WHEN excluded.delivered_seq > read_cursors.delivered_seq
                                  THEN excluded.delivered_seq ELSE read_cursors.delivered_seq END
         RETURNING seq, read_at, read_from, delivered_seq",
    )
    .bind(user.0)
    .bind(conversation.0)
    .bind(seq.0)
    .fetch_one(db)
    .await?;
    Ok(Cursors::from_row(row))
}

/// The user's cursors in the conversation; all at `Seq(0)` when nothing was read or received.
#[tracing::instrument(skip(db))]
pub async fn get(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    conversation: ConversationId,
) -> Result<Cursors, sqlx::Error> {
    let row: Option<(i64, Option<i64>, i64, i64)> = sqlx::query_as(
        "SELECT seq, read_at, read_from, delivered_seq FROM read_cursors
         WHERE user_id = $1 AND conversation_id = $2",
    )
    .bind(user.0)
    .bind(conversation.0)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Cursors::from_row).unwrap_or_default())
}
