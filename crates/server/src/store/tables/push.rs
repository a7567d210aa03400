//! The `push_subscriptions` and `push_notices` tables: each browser a user subscribed to Web
//! Push, and what they were told by push about each conversation (the rules are in
//! `crate::notify`).

use super::Db;
use super::notifications::settings_of_row;
use crate::store::push::{PushCandidate, StoredPushSubscription};
use colloque_protocol::{ConversationId, PushSubscriptionId, Seq, Timestamp, UserId};
use sqlx::Executor;

/// Stores a subscription, or renews the one of the same endpoint (whoever held it: a browser
/// belongs to its latest subscriber). A renewed subscription starts afresh: not failing.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn upsert(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    now: Timestamp,
) -> Result<PushSubscriptionId, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (endpoint) DO UPDATE
         SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
             created_at = excluded.created_at, failing_since = NULL, retry_at = NULL
         RETURNING id",
    )
    .bind(user.0)
    .bind(endpoint)
    .bind(p256dh)
    .bind(auth)
    .bind(now.0)
    .fetch_one(db)
    .await?;
    Ok(PushSubscriptionId(id))
}

/// How many subscriptions a user has, not counting the one of `endpoint` (which a
/// subscription of it would renew).
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn count_other(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    endpoint: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1 AND endpoint <> $2",
    )
    .bind(user.0)
    .bind(endpoint)
    .fetch_one(db)
    .await
}

#[derive(sqlx::FromRow)]
struct SubscriptionSql {
    id: i64,
    user_id: i64,
    endpoint: String,
    p256dh: String,
    auth: String,
    created_at: i64,
    failing_since: Option<i64>,
    retry_at: Option<i64>,
}

impl From<SubscriptionSql> for StoredPushSubscription {
    fn from(row: SubscriptionSql) -> Self {
        Self {
            id: PushSubscriptionId(row.id),
            user: UserId(row.user_id),
            endpoint: row.endpoint,
            p256dh: row.p256dh,
            auth: row.auth,
            created_at: Timestamp(row.created_at),
            failing_since: row.failing_since.map(Timestamp),
            retry_at: row.retry_at.map(Timestamp),
        }
    }
}

/// A user's subscriptions, oldest first.
#[tracing::instrument(skip(db))]
pub async fn of_user(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<Vec<StoredPushSubscription>, sqlx::Error> {
    let rows: Vec<SubscriptionSql> = sqlx::query_as(
        "SELECT id, user_id, endpoint, p256dh, auth, created_at, failing_since, retry_at
         FROM push_subscriptions WHERE user_id = $1 ORDER BY id",
    )
    .bind(user.0)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Deletes a subscription of `user`'s; false if they have none of this id.
#[tracing::instrument(skip(db))]
pub async fn delete(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    id: PushSubscriptionId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2")
        .bind(id.0)
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a subscription the push service says is gone (404, 410), unless it was renewed
/// since it was read (`created_at`).
#[tracing::instrument(skip(db))]
pub async fn delete_gone(
    db: impl Executor<'_, Database = Db>,
    id: PushSubscriptionId,
    created_at: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND created_at = $2")
        .bind(id.0)
        .bind(created_at.0)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed push to a subscription: failing since `failing_since` (the streak's start,
/// decided by `crate::notify`), not to be tried before `retry_at`; unless it was renewed since
/// it was read.
#[tracing::instrument(skip(db))]
pub async fn failed(
    db: impl Executor<'_, Database = Db>,
    id: PushSubscriptionId,
    created_at: Timestamp,
    failing_since: Timestamp,
    retry_at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE push_subscriptions
         SET failing_since = $3, retry_at = $4
         WHERE id = $1 AND created_at = $2",
    )
    .bind(id.0)
    .bind(created_at.0)
    .bind(failing_since.0)
    .bind(retry_at.0)
    .execute(db)
    .await?;
    Ok(())
}

/// A subscription took a push: it is not failing any more.
#[tracing::instrument(skip(db))]
pub async fn recovered(
    db: impl Executor<'_, Database = Db>,
    id: PushSubscriptionId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE push_subscriptions SET failing_since = NULL, retry_at = NULL
         WHERE id = $1 AND failing_since IS NOT NULL",
    )
    .bind(id.0)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CandidateSql {
    conversation_id: i64,
    user_id: i64,
    last_seq: i64,
    notified_seq: i64,
    last_sent_at: i64,
    first_new_at: Option<i64>,
    email_on: Option<bool>,
    push_on: Option<bool>,
    quiet_from: Option<i64>,
    quiet_to: Option<i64>,
}

/// The participants with a subscribed browser that may be tried at `now` (not waiting after a
/// failure) and a message of someone else neither read nor announced by push, in a
/// conversation active since `since`. Disabled accounts are left out.
#[tracing::instrument(skip(db))]
pub async fn candidates(
    db: impl Executor<'_, Database = Db>,
    since: Timestamp,
    now: Timestamp,
) -> Result<Vec<PushCandidate>, sqlx::Error> {
    let told = "(CASE WHEN COALESCE(r.seq, 0) > COALESCE(p.notified_seq, 0) \
                THEN COALESCE(r.seq, 0) ELSE COALESCE(p.notified_seq, 0) END)";
    let sql = format!(
        "SELECT c.id AS conversation_id, u.id AS user_id, c.last_seq,
                COALESCE(p.notified_seq, 0) AS notified_seq,
                COALESCE(p.last_sent_at, 0) AS last_sent_at,
                (SELECT MIN(m.sent_at) FROM messages m
                 WHERE m.conversation_id = c.id AND m.seq > {told} AND m.sender_id <> u.id)
                    AS first_new_at,
                s.email AS email_on, s.push AS push_on, s.quiet_from, s.quiet_to
         FROM conversations c
         JOIN users u ON (u.id = c.patient_id OR u.id = c.doctor_id) AND NOT u.disabled
         LEFT JOIN read_cursors r ON r.user_id = u.id AND r.conversation_id = c.id
         LEFT JOIN push_notices p ON p.user_id = u.id AND p.conversation_id = c.id
         LEFT JOIN notification_settings s ON s.user_id = u.id
         WHERE c.last_activity_at >= $1 AND c.last_seq > {told}
           AND EXISTS (SELECT 1 FROM push_subscriptions ps
                       WHERE ps.user_id = u.id AND (ps.retry_at IS NULL OR ps.retry_at <= $2))
         ORDER BY c.id, u.id"
    );
    let rows: Vec<CandidateSql> = sqlx::query_as(&sql)
        .bind(since.0)
        .bind(now.0)
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| PushCandidate {
            conversation: ConversationId(row.conversation_id),
            user: UserId(row.user_id),
            last_seq: Seq(row.last_seq),
            notified_seq: Seq(row.notified_seq),
            last_sent_at: Timestamp(row.last_sent_at),
            first_new_at: row.first_new_at.map(Timestamp),
            settings: row
                .email_on
                .zip(row.push_on)
                .map(|(email, push)| settings_of_row(email, push, row.quiet_from, row.quiet_to)),
        })
        .collect())
}

/// Claims a push about `conversation` for `user`: records what it tells, if the row still
/// says the last one went at `previous` (0: never). False when another instance (or pass) took
/// it first.
#[tracing::instrument(skip(db))]
pub async fn claim(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    conversation: ConversationId,
    previous: Timestamp,
    notified_seq: Seq,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO push_notices (user_id, conversation_id, notified_seq, last_sent_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, conversation_id) DO UPDATE
         SET notified_seq = excluded.notified_seq, last_sent_at = excluded.last_sent_at
         WHERE push_notices.last_sent_at = $5",
    )
    .bind(user.0)
    .bind(conversation.0)
    .bind(notified_seq.0)
    .bind(now.0)
    .bind(previous.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
