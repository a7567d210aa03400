//! The `messages` table. Bodies are bound parameters, never part of SQL text, and never logged.

use super::Db;
use crate::store::model::*;

use colloque_protocol::{ClientMsgId, ConversationId, Message, MessageId, Seq, Timestamp, UserId};
use sqlx::{Executor, FromRow};

#[derive(FromRow)]
struct MessageRow {
    id: i64,
    conversation_id: i64,
    seq: i64,
    sender_id: i64,
    client_id: String,
    body: String,
    sent_at: i64,
    kind: String,
}

impl MessageRow {
    fn into_message(self) -> Result<Message, sqlx::Error> {
        let client_id = uuid::Uuid::parse_str(&self.client_id)
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        Ok(Message {
            id: MessageId(self.id),
            conversation_id: ConversationId(self.conversation_id),
            seq: Seq(self.seq),
            sender_id: UserId(self.sender_id),
            client_id: ClientMsgId(client_id),
            body: self.body,
            sent_at: Timestamp(self.sent_at),
            kind: parse_kind(&self.kind)?,
            attachments: Vec::new(),
        })
    }
}

const COLUMNS: &str = "id, conversation_id, seq, sender_id, client_id, body, sent_at, kind";

#[derive(FromRow)]
struct SendContextRow {
    i: i64,
    patient_id: Option<i64>,
    doctor_id: Option<i64>,
    status: Option<String>,
    last_seq: Option<i64>,
    triage: Option<String>,
    triage_at: Option<i64>,
    waiting_since: Option<i64>,
    urgent_since: Option<i64>,
    linked: bool,
    blocked: bool,
    away: bool,
    m_id: Option<i64>,
    m_conversation_id: Option<i64>,
    m_seq: Option<i64>,
    m_client_id: Option<String>,
    m_body: Option<String>,
    m_sent_at: Option<i64>,
    m_kind: Option<String>,
}

impl SendContextRow {
    fn into_context(self, key: &SendKey) -> Result<Option<SendContext>, sqlx::Error> {
        let (
            Some(patient_id),
            Some(doctor_id),
            Some(status),
            Some(last_seq),
            Some(triage),
            Some(triage_at),
        ) = (
            self.patient_id,
            self.doctor_id,
            self.status,
            self.last_seq,
            self.triage,
            self.triage_at,
        )
        else {
            return Ok(None);
        };
        // The joined message's columns are all set or all NULL.
        let replay = match (
            self.m_id,
            self.m_conversation_id,
            self.m_seq,
            self.m_client_id,
        ) {
            (Some(id), Some(conversation_id), Some(seq), Some(client_id)) => Some(
                MessageRow {
                    id,
                    conversation_id,
                    seq,
                    sender_id: key.sender.0,
                    client_id,
                    body: self.m_body.unwrap_or_default(),
                    sent_at: self.m_sent_at.unwrap_or_default(),
                    kind: self.m_kind.unwrap_or_else(|| "text".to_owned()),
                }
                .into_message()?,
            ),
            _ => None,
        };
        let conversation = super::conversations::RefRow {
            patient_id,
            doctor_id,
            status,
            last_seq,
            triage,
            triage_at,
            waiting_since: self.waiting_since,
            urgent_since: self.urgent_since,
        }
        .into_ref(key.conversation)?;
        Ok(Some(SendContext {
            conversation,
            linked: self.linked,
            blocked: self.blocked,
            doctor_away: self.away,
            replay,
        }))
    }
}

/// The [`SendContext`] of each send of a batch, in one query: `None` where the sender does not
/// take part in the conversation (or it does not exist). Same order as `keys`. Whether the two
/// participants may still write to each other (both enabled, still in a care relationship) is
/// read here, inside the batch's transaction, for every send: three lookups by primary key.
/// (Written as one EXISTS joining the relationship to both users, PostgreSQL read every
/// relationship of the doctor and both users of each, per send: 25 relationship rows and 26
/// user lookups per message with ten patients a doctor in `cargo xtask bench --cluster --quick
/// --statements`, and it grows with the doctor's patients.) Whether the doctor is away on
/// `today` (`YYYY-MM-DD`, practice time) is one more lookup in the absences' index, so that the
/// send knows without another query whether an automatic reply may be due.
#[tracing::instrument(level = "debug", skip_all, fields(sends = keys.len()))]
pub async fn send_contexts(
    conn: &mut <Db as sqlx::Database>::Connection,
    keys: &[SendKey],
    today: &str,
) -> Result<Vec<Option<SendContext>>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let conversations: Vec<ConversationId> = keys.iter().map(|key| key.conversation).collect();
    super::lock_conversations(&mut *conn, &conversations).await?;
    let mut query = sqlx::QueryBuilder::<Db>::new("WITH req (i, conv, sender, client) AS (");
    query.push_values(keys.iter().enumerate(), |mut row, (i, key)| {
        row.push_bind(i as i64)
            .push_bind(key.conversation.0)
            .push_bind(key.sender.0)
            .push_bind(key.client_id.0.to_string());
    });
    query.push(
        ") SELECT req.i AS i, c.patient_id, c.doctor_id, c.status, c.last_seq,
                c.triage, c.triage_at, c.waiting_since, c.urgent_since,
                EXISTS (
                    SELECT 1 FROM patient_blocks b
                    WHERE b.doctor_id = c.doctor_id AND b.patient_id = c.patient_id) AS blocked,
                (EXISTS (
                    SELECT 1 FROM care_relationships r
                    WHERE r.doctor_id = c.doctor_id AND r.patient_id = c.patient_id)
                 AND EXISTS (
                    SELECT 1 FROM users d
                    WHERE d.id = c.doctor_id AND d.role = 'doctor' AND NOT d.disabled)
                 AND EXISTS (
                    SELECT 1 FROM users p
                    WHERE p.id = c.patient_id AND p.role = 'patient' AND NOT p.disabled)
                ) AS linked,
                EXISTS (
                    SELECT 1 FROM absences a
                    WHERE a.doctor_id = c.doctor_id AND a.to_day >= ",
    );
    query.push_bind(today.to_owned());
    query.push(" AND a.from_day <= ");
    query.push_bind(today.to_owned());
    query.push(
        ") AS away,
                m.id AS m_id, m.conversation_id AS m_conversation_id, m.seq AS m_seq,
                m.client_id AS m_client_id, m.body AS m_body, m.sent_at AS m_sent_at,
                m.kind AS m_kind
         FROM req
         LEFT JOIN conversations c
                ON c.id = req.conv AND (c.patient_id = req.sender OR c.doctor_id = req.sender)
         LEFT JOIN messages m ON m.sender_id = req.sender AND m.client_id = req.client",
    );
    let rows: Vec<SendContextRow> = query.build_query_as().fetch_all(&mut *conn).await?;
    let mut contexts: Vec<Option<SendContext>> = keys.iter().map(|_| None).collect();
    for row in rows {
        let i = usize::try_from(row.i)
            .ok()
            .filter(|i| *i < keys.len())
            .ok_or_else(|| sqlx::Error::Protocol("a send lookup row out of range".into()))?;
        contexts[i] = row.into_context(&keys[i])?;
    }
    Ok(contexts)
}

/// Up to `limit` messages of `page`, in ascending seq order (their attachments not filled
/// in), whether more exist in that direction, and which of them carry files. Reads
/// `limit + 1` rows to answer the second without a second query.
#[tracing::instrument(skip(db))]
pub async fn page(
    db: impl Executor<'_, Database = Db>,
    conversation: ConversationId,
    page: Page,
    limit: u32,
) -> Result<(Vec<Message>, bool, Vec<MessageId>), sqlx::Error> {
    // The open interval (above, below) of seqs, read from its top end or from its bottom one.
    let (above, below, order) = match page {
        Page::Latest => (i64::MIN, i64::MAX, "DESC"),
        Page::Before(seq) => (i64::MIN, seq.0, "DESC"),
        Page::After(seq) => (seq.0, i64::MAX, "ASC"),
        Page::Between(after, before) => (after.0, before.0, "ASC"),
    };
    // Whether each has files, in the same statement: the page's attachments are then read
    // only when one has any (a delivery, nearly always a text alone, costs one round trip).
    let sql = format!(
        "SELECT {COLUMNS}, EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = messages.id)
             AS has_files
         FROM messages WHERE conversation_id = $1 AND seq > $2 AND seq < $3
         ORDER BY seq {order} LIMIT $4"
    );
    let rows = sqlx::query_as::<_, PageRow>(&sql)
        .bind(conversation.0)
        .bind(above)
        .bind(below)
        .bind(i64::from(limit) + 1)
        .fetch_all(db)
        .await?;
    let has_more = rows.len() > limit as usize;
    let mut with_files = Vec::new();
    let mut messages = Vec::with_capacity(rows.len().min(limit as usize));
    for row in rows.into_iter().take(limit as usize) {
        if row.has_files {
            with_files.push(MessageId(row.message.id));
        }
        messages.push(row.message.into_message()?);
    }
    if order == "DESC" {
        messages.reverse();
    }
    Ok((messages, has_more, with_files))
}

/// A history page's row: the message, and whether it carries files.
#[derive(FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    message: MessageRow,
    has_files: bool,
}
