//! The `conversations` table.

use super::Db;
use crate::care::Triage;
use crate::store::model::*;
use colloque_protocol::{
    ConversationId, ConversationStatus, ConversationSummary, MessagePreview, Role, Seq, Timestamp,
    Topic, UserId, UserProfile,
};
use sqlx::{Executor, FromRow};

/// The conversation `id` if `user` takes part in it. `None` both when it does not exist and
/// when the user is not a participant: callers answer 404 either way.
#[tracing::instrument(skip(db))]
pub async fn for_participant(
    db: impl Executor<'_, Database = Db>,
    id: ConversationId,
    user: UserId,
) -> Result<Option<ConversationRef>, sqlx::Error> {
    let row: Option<RefRow> = sqlx::query_as(
        "SELECT patient_id, doctor_id, status, last_seq, triage, triage_at, waiting_since,
                urgent_since
         FROM conversations WHERE id = $1 AND (patient_id = $2 OR doctor_id = $2)",
    )
    .bind(id.0)
    .bind(user.0)
    .fetch_optional(db)
    .await?;
    row.map(|row| row.into_ref(id)).transpose()
}

/// A conversation's facts, as [`for_participant`] and the send lookup read them.
#[derive(FromRow)]
pub(crate) struct RefRow {
    pub(crate) patient_id: i64,
    pub(crate) doctor_id: i64,
    pub(crate) status: String,
    pub(crate) last_seq: i64,
    pub(crate) triage: String,
    pub(crate) triage_at: i64,
    pub(crate) waiting_since: Option<i64>,
    pub(crate) urgent_since: Option<i64>,
}

impl RefRow {
    pub(crate) fn into_ref(self, id: ConversationId) -> Result<ConversationRef, sqlx::Error> {
        Ok(ConversationRef {
            id,
            patient_id: UserId(self.patient_id),
            doctor_id: UserId(self.doctor_id),
            status: parse_status(&self.status)?,
            last_seq: Seq(self.last_seq),
            triage: Triage {
                state: parse_triage(&self.triage)?,
                since: Timestamp(self.triage_at),
                waiting_since: self.waiting_since.map(Timestamp),
                urgent_since: self.urgent_since.map(Timestamp),
            },
        })
    }
}

/// The open conversation between these two, if any (there is at most one).
#[tracing::instrument(skip(db))]
pub async fn find_open_between(
    db: impl Executor<'_, Database = Db>,
    patient: UserId,
    doctor: UserId,
) -> Result<Option<ConversationId>, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM conversations WHERE patient_id = $1 AND doctor_id = $2 AND status = 'open'",
    )
    .bind(patient.0)
    .bind(doctor.0)
    .fetch_optional(db)
    .await?;
    Ok(id.map(ConversationId))
}

/// Creates an open conversation about `topic`, at `triage`'s place in the queue. Violates
/// `conversations_one_open_per_pair` if one exists.
#[tracing::instrument(skip(db, subject))]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    patient: UserId,
    doctor: UserId,
    subject: &str,
    topic: Topic,
    triage: Triage,
) -> Result<ConversationId, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO conversations
             (patient_id, doctor_id, subject, created_at, last_activity_at, topic, triage, triage_at)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $4) RETURNING id",
    )
    .bind(patient.0)
    .bind(doctor.0)
    .bind(subject)
    .bind(triage.since.0)
    .bind(topic.as_str())
    .bind(triage.state.as_str())
    .fetch_one(db)
    .await?;
    Ok(ConversationId(id))
}

/// The head (`last_seq`) of each conversation `user` takes part in.
#[tracing::instrument(skip(db))]
pub async fn heads_of_user(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<Vec<(ConversationId, Seq)>, sqlx::Error> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, last_seq FROM conversations WHERE patient_id = $1 OR doctor_id = $1",
    )
    .bind(user.0)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, seq)| (ConversationId(id), Seq(seq)))
        .collect())
}

#[derive(FromRow)]
struct HeadRow {
    id: i64,
    patient_id: i64,
    doctor_id: i64,
    last_seq: i64,
}

impl From<HeadRow> for Head {
    fn from(row: HeadRow) -> Self {
        Head {
            conversation: ConversationId(row.id),
            patient: UserId(row.patient_id),
            doctor: UserId(row.doctor_id),
            seq: Seq(row.last_seq),
        }
    }
}

/// The heads of every conversation of these users (the caller bounds how many).
#[tracing::instrument(skip_all, fields(users = users.len()))]
pub async fn heads_of_users(
    db: impl Executor<'_, Database = Db>,
    users: &[UserId],
) -> Result<Vec<Head>, sqlx::Error> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::<Db>::new(
        "SELECT id, patient_id, doctor_id, last_seq FROM conversations WHERE last_seq > 0 AND (",
    );
    for (i, column) in ["patient_id", "doctor_id"].into_iter().enumerate() {
        if i > 0 {
            query.push(" OR ");
        }
        query.push(column).push(" IN (");
        let mut list = query.separated(", ");
        for user in users {
            list.push_bind(user.0);
        }
        query.push(")");
    }
    query.push(")");
    let rows: Vec<HeadRow> = query.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().map(Head::from).collect())
}

/// The heads of the conversations that had a message (or were created) since `since`.
#[tracing::instrument(skip(db))]
pub async fn heads_active_since(
    db: impl Executor<'_, Database = Db>,
    since: Timestamp,
) -> Result<Vec<Head>, sqlx::Error> {
    let rows: Vec<HeadRow> = sqlx::query_as(
        "SELECT id, patient_id, doctor_id, last_seq FROM conversations
         WHERE last_activity_at >= $1",
    )
    .bind(since.0)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Head::from).collect())
}

/// Puts a conversation at `triage`'s place in the queue, closed exactly when it is done (the
/// caller holds the conversation: its write lock or its row).
#[tracing::instrument(skip(db))]
pub async fn set_place(
    db: impl Executor<'_, Database = Db>,
    id: ConversationId,
    triage: Triage,
) -> Result<(), sqlx::Error> {
    let status = if triage.state == colloque_protocol::TriageState::Done {
        ConversationStatus::Closed
    } else {
        ConversationStatus::Open
    };
    sqlx::query(
        "UPDATE conversations SET status = $2, triage = $3, triage_at = $4, waiting_since = $5,
                urgent_since = $6
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(status_str(status))
    .bind(triage.state.as_str())
    .bind(triage.since.0)
    .bind(triage.waiting_since.map(|at| at.0))
    .bind(triage.urgent_since.map(|at| at.0))
    .execute(db)
    .await?;
    Ok(())
}

fn status_str(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::Open => "open",
        ConversationStatus::Closed => "closed",
    }
}

/// Closes the open conversation of a patient–doctor pair (there is at most one) at `now`,
/// done in the queue; returns it.
#[tracing::instrument(skip(db))]
pub async fn close_open_between(
    db: impl Executor<'_, Database = Db>,
    patient: UserId,
    doctor: UserId,
    now: Timestamp,
) -> Result<Option<ConversationId>, sqlx::Error> {
    let closed: Option<i64> = sqlx::query_scalar(
        "UPDATE conversations
         SET status = 'closed', triage = 'done', triage_at = $3, waiting_since = NULL,
             urgent_since = NULL
         WHERE patient_id = $1 AND doctor_id = $2 AND status = 'open' RETURNING id",
    )
    .bind(patient.0)
    .bind(doctor.0)
    .bind(now.0)
    .fetch_optional(db)
    .await?;
    Ok(closed.map(ConversationId))
}

#[derive(FromRow)]
struct SummaryRow {
    id: i64,
    subject: String,
    status: String,
    created_at: i64,
    last_activity_at: i64,
    last_seq: i64,
    patient_id: i64,
    patient_name: String,
    doctor_id: i64,
    doctor_name: String,
    doctor_speciality: Option<String>,
    my_read_seq: i64,
    other_read_seq: i64,
    other_read_at: Option<i64>,
    other_read_from: i64,
    other_delivered_seq: i64,
    unread_count: i64,
    last_sender_id: Option<i64>,
    last_excerpt: Option<String>,
    last_sent_at: Option<i64>,
    last_kind: Option<String>,
    topic: String,
    triage: String,
    triage_at: i64,
    waiting_since: Option<i64>,
    urgent_since: Option<i64>,
    block_count: i64,
}

impl SummaryRow {
    fn into_summary(self) -> Result<ConversationSummary, sqlx::Error> {
        let last_message = match (self.last_sender_id, self.last_excerpt, self.last_sent_at) {
            (Some(sender), Some(excerpt), Some(sent_at)) => Some(MessagePreview {
                sender_id: UserId(sender),
                excerpt,
                sent_at: Timestamp(sent_at),
                seq: Seq(self.last_seq),
                kind: parse_kind(self.last_kind.as_deref().unwrap_or("text"))?,
            }),
            _ => None,
        };
        Ok(ConversationSummary {
            id: ConversationId(self.id),
            subject: self.subject,
            status: parse_status(&self.status)?,
            patient: UserProfile {
                id: UserId(self.patient_id),
                role: Role::Patient,
                display_name: self.patient_name,
                speciality: None,
            },
            doctor: UserProfile {
                id: UserId(self.doctor_id),
                role: Role::Doctor,
                display_name: self.doctor_name,
                speciality: self.doctor_speciality,
            },
            created_at: Timestamp(self.created_at),
            last_activity_at: Timestamp(self.last_activity_at),
            last_message,
            last_seq: Seq(self.last_seq),
            my_read_seq: Seq(self.my_read_seq),
            other_read_seq: Seq(self.other_read_seq),
            other_read_at: self.other_read_at.map(Timestamp),
            other_read_from: Seq(self.other_read_from),
            other_delivered_seq: Seq(self.other_delivered_seq),
            unread_count: u32::try_from(self.unread_count).unwrap_or(u32::MAX),
            topic: parse_topic(&self.topic)?,
            triage: parse_triage(&self.triage)?,
            triage_at: Timestamp(self.triage_at),
            waiting_since: self.waiting_since.map(Timestamp),
            blocked: self.block_count > 0,
            urgent_since: self.urgent_since.map(Timestamp),
            reply_due: None,
            absence: None,
        })
    }
}

/// The conversations `viewer` takes part in (as patient or doctor, per `role`), most recently
/// active first, as the viewer sees them. With `only`, just that one (if the viewer takes part).
#[tracing::instrument(skip(db))]
pub async fn summaries(
    db: impl Executor<'_, Database = Db>,
    viewer: UserId,
    role: Role,
    only: Option<ConversationId>,
) -> Result<Vec<ConversationSummary>, sqlx::Error> {
    // The unread count uses the (conversation_id, seq) unique index: it scans only the
    // messages after the viewer's cursor.
    sqlx::query_as::<_, SummaryRow>(
        "SELECT c.id, c.subject, c.status, c.created_at, c.last_activity_at, c.last_seq,
                p.id AS patient_id, p.display_name AS patient_name,
                d.id AS doctor_id, d.display_name AS doctor_name,
                d.speciality AS doctor_speciality,
                COALESCE(mine.seq, 0) AS my_read_seq,
                COALESCE(theirs.seq, 0) AS other_read_seq,
                theirs.read_at AS other_read_at,
                COALESCE(theirs.read_from, 0) AS other_read_from,
                COALESCE(theirs.delivered_seq, 0) AS other_delivered_seq,
                (SELECT COUNT(*) FROM messages m
                  WHERE m.conversation_id = c.id AND m.seq > COALESCE(mine.seq, 0)
                    AND m.sender_id <> $1) AS unread_count,
                lm.sender_id AS last_sender_id,
                substr(lm.body, 1, CAST($4 AS INTEGER)) AS last_excerpt,
                lm.sent_at AS last_sent_at, lm.kind AS last_kind,
                c.topic, c.triage, c.triage_at, c.waiting_since, c.urgent_since,
                (SELECT COUNT(*) FROM patient_blocks b
                  WHERE b.doctor_id = c.doctor_id AND b.patient_id = c.patient_id)
                  AS block_count
         FROM conversations c
         JOIN users p ON p.id = c.patient_id
         JOIN users d ON d.id = c.doctor_id
         LEFT JOIN read_cursors mine
                ON mine.conversation_id = c.id AND mine.user_id = $1
         LEFT JOIN read_cursors theirs
                ON theirs.conversation_id = c.id
               AND theirs.user_id = CASE WHEN c.patient_id = $1 THEN c.doctor_id ELSE c.patient_id END
         LEFT JOIN messages lm ON lm.conversation_id = c.id AND lm.seq = c.last_seq
         WHERE (($2 = 'patient' AND c.patient_id = $1) OR ($2 = 'doctor' AND c.doctor_id = $1))
           AND ($3 IS NULL OR c.id = $3)
         ORDER BY c.last_activity_at DESC, c.id DESC",
    )
    .bind(viewer.0)
    .bind(role.as_str())
    .bind(only.map(|id| id.0))
    .bind(EXCERPT_CHARS)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(SummaryRow::into_summary)
    .collect()
}
