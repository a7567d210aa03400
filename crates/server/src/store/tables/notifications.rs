//! The `notification_settings` and `email_notices` tables: what each user chose, and what they
//! were told by e-mail about each conversation (the rules are in `crate::notify`).

use super::Db;
use crate::store::model::{NoticeCandidate, StoredNotificationSettings};
use colloque_protocol::{ConversationId, Seq, Timestamp, UserId};
use sqlx::Executor;

/// A user's choices, if they made any.
#[tracing::instrument(skip(db))]
pub async fn settings(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<Option<StoredNotificationSettings>, sqlx::Error> {
    let row: Option<(bool, bool, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT email, push, quiet_from, quiet_to FROM notification_settings WHERE user_id = $1",
    )
    .bind(user.0)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(email, push, from, to)| settings_of_row(email, push, from, to)))
}

/// A `notification_settings` row's `email`, `push`, `quiet_from` and `quiet_to` as the
/// settings: quiet hours only when both ends are set, each clamped to a minute of the day.
/// The candidates' queries (here and in `push.rs`) join the same row.
pub(super) fn settings_of_row(
    email: bool,
    push: bool,
    quiet_from: Option<i64>,
    quiet_to: Option<i64>,
) -> StoredNotificationSettings {
    StoredNotificationSettings {
        email,
        push,
        quiet: quiet_from
            .zip(quiet_to)
            .map(|(from, to)| (minutes(from), minutes(to))),
    }
}

fn minutes(value: i64) -> u16 {
    u16::try_from(value.clamp(0, 1439)).unwrap_or_default()
}

/// Replaces a user's choices.
#[tracing::instrument(skip(db))]
pub async fn set_settings(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    settings: &StoredNotificationSettings,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notification_settings (user_id, email, push, quiet_from, quiet_to, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id) DO UPDATE
         SET email = excluded.email, push = excluded.push, quiet_from = excluded.quiet_from,
             quiet_to = excluded.quiet_to, updated_at = excluded.updated_at",
    )
    .bind(user.0)
    .bind(settings.email)
    .bind(settings.push)
    .bind(settings.quiet.map(|(from, _)| i64::from(from)))
    .bind(settings.quiet.map(|(_, to)| i64::from(to)))
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(())
}

/// Turns a user's e-mail off (the one-click unsubscribe), keeping their other choices (or the
/// defaults, `quiet` given, when they made none). False if there is no such user.
#[tracing::instrument(skip(db))]
pub async fn email_off(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    quiet: (u16, u16),
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO notification_settings (user_id, email, push, quiet_from, quiet_to, updated_at)
         SELECT id, $2, $3, $4, $5, $6 FROM users WHERE id = $1
         ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
    )
    .bind(user.0)
    .bind(false)
    .bind(true)
    .bind(i64::from(quiet.0))
    .bind(i64::from(quiet.1))
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(sqlx::FromRow)]
struct CandidateSql {
    conversation_id: i64,
    user_id: i64,
    email: String,
    last_seq: i64,
    open: bool,
    waiting_since: Option<i64>,
    read_seq: i64,
    notified_seq: i64,
    reminded_key: i64,
    last_sent_at: i64,
    first_new_at: Option<i64>,
    first_unread_seq: Option<i64>,
    first_unread_at: Option<i64>,
    email_on: Option<bool>,
    quiet_from: Option<i64>,
    quiet_to: Option<i64>,
    doctor_id: i64,
}

/// The participants who may have something to be told about a conversation active since
/// `since`: the patients (`patients`) or the doctors, with a message of someone else past
/// their read cursor, or (doctors) a patient waiting for an answer in an open conversation.
/// Disabled accounts are left out.
#[tracing::instrument(skip(db))]
pub async fn candidates(
    db: impl Executor<'_, Database = Db>,
    since: Timestamp,
    patients: bool,
) -> Result<Vec<NoticeCandidate>, sqlx::Error> {
    // The column naming the recipient: a constant, never input.
    let me = if patients { "patient_id" } else { "doctor_id" };
    let base = "COALESCE(r.seq, 0)";
    let or_waiting = if patients {
        ""
    } else {
        " OR (c.status = 'open' AND c.waiting_since IS NOT NULL)"
    };
    let told = format!(
        "(CASE WHEN {base} > COALESCE(n.notified_seq, 0) THEN {base} ELSE COALESCE(n.notified_seq, 0) END)"
    );
    let sql = format!(
        "SELECT c.id AS conversation_id, u.id AS user_id, u.email, c.last_seq,
                c.status = 'open' AS open, c.waiting_since, c.doctor_id,
                {base} AS read_seq,
                COALESCE(n.notified_seq, 0) AS notified_seq,
                COALESCE(n.reminded_key, 0) AS reminded_key,
                COALESCE(n.last_sent_at, 0) AS last_sent_at,
                (SELECT MIN(m.sent_at) FROM messages m
                 WHERE m.conversation_id = c.id AND m.seq > {told} AND m.sender_id <> u.id)
                    AS first_new_at,
                (SELECT MIN(m.seq) FROM messages m
                 WHERE m.conversation_id = c.id AND m.seq > {base} AND m.sender_id <> u.id)
                    AS first_unread_seq,
                (SELECT MIN(m.sent_at) FROM messages m
                 WHERE m.conversation_id = c.id AND m.seq > {base} AND m.sender_id <> u.id)
                    AS first_unread_at,
                s.email AS email_on, s.quiet_from, s.quiet_to
         FROM conversations c
         JOIN users u ON u.id = c.{me} AND NOT u.disabled
         LEFT JOIN read_cursors r ON r.user_id = u.id AND r.conversation_id = c.id
         LEFT JOIN email_notices n ON n.user_id = u.id AND n.conversation_id = c.id
         LEFT JOIN notification_settings s ON s.user_id = u.id
         WHERE c.last_activity_at >= $1 AND (c.last_seq > {base}{or_waiting})
         ORDER BY c.id"
    );
    let rows: Vec<CandidateSql> = sqlx::query_as(&sql).bind(since.0).fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| NoticeCandidate {
            conversation: ConversationId(row.conversation_id),
            user: UserId(row.user_id),
            email: row.email,
            patient: patients,
            doctor: UserId(row.doctor_id),
            open: row.open,
            last_seq: Seq(row.last_seq),
            read_seq: Seq(row.read_seq),
            notified_seq: Seq(row.notified_seq),
            reminded_key: row.reminded_key,
            last_sent_at: Timestamp(row.last_sent_at),
            first_new_at: row.first_new_at.map(Timestamp),
            first_unread: row
                .first_unread_seq
                .zip(row.first_unread_at)
                .map(|(seq, at)| (Seq(seq), Timestamp(at))),
            waiting_since: row.waiting_since.map(Timestamp),
            // The e-mail notifier reads no `push` choice: the column is not selected.
            settings: row
                .email_on
                .map(|email| settings_of_row(email, true, row.quiet_from, row.quiet_to)),
        })
        .collect())
}

/// Claims an e-mail about `conversation` for `user`: records what it tells, if the row still
/// says the last one went at `previous` (0: never). False when another instance (or pass) took
/// it first.
#[tracing::instrument(skip(db))]
pub async fn claim(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    conversation: ConversationId,
    previous: Timestamp,
    notified_seq: Seq,
    reminded_key: i64,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO email_notices (user_id, conversation_id, notified_seq, reminded_key, last_sent_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (user_id, conversation_id) DO UPDATE
         SET notified_seq = excluded.notified_seq, reminded_key = excluded.reminded_key,
             last_sent_at = excluded.last_sent_at
         WHERE email_notices.last_sent_at = $6",
    )
    .bind(user.0)
    .bind(conversation.0)
    .bind(notified_seq.0)
    .bind(reminded_key)
    .bind(now.0)
    .bind(previous.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
