//! The `messages` table. Bodies are bound parameters, never part of SQL text, and never logged.

use super::conversations::{ConversationRef, parse_status};
use colloque_protocol::{
    ClientMsgId, ConversationId, HistoryQuery, Message, MessageId, Seq, Timestamp, UserId,
};
use sqlx::{FromRow, SqliteExecutor};

#[derive(FromRow)]
struct MessageRow {
    id: i64,
    conversation_id: i64,
    seq: i64,
    sender_id: i64,
    client_id: String,
    body: String,
    sent_at: i64,
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
        })
    }
}

const COLUMNS: &str = "id, conversation_id, seq, sender_id, client_id, body, sent_at";

/// The message a sender already stored under this client id, if any (idempotent replays).
#[tracing::instrument(skip(db))]
pub async fn find_by_client_id(
    db: impl SqliteExecutor<'_>,
    sender: UserId,
    client_id: ClientMsgId,
) -> Result<Option<Message>, sqlx::Error> {
    sqlx::query_as::<_, MessageRow>(&format!(
        "SELECT {COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
    ))
    .bind(sender.0)
    .bind(client_id.0.to_string())
    .fetch_optional(db)
    .await?
    .map(MessageRow::into_message)
    .transpose()
}

/// What a send needs to know, read in one query: the conversation (if the sender takes part in
/// it) and the message this sender already stored under this client id, in any conversation.
pub struct SendContext {
    /// The conversation.
    pub conversation: ConversationRef,
    /// The earlier message with the same (sender, client id): the send is a replay.
    pub replay: Option<Message>,
}

#[derive(FromRow)]
struct SendContextRow {
    patient_id: i64,
    doctor_id: i64,
    status: String,
    last_seq: i64,
    m_id: Option<i64>,
    m_conversation_id: Option<i64>,
    m_seq: Option<i64>,
    m_client_id: Option<String>,
    m_body: Option<String>,
    m_sent_at: Option<i64>,
}

impl SendContextRow {
    /// The joined message, when there is one (its columns are all set or all NULL).
    fn replay(&mut self, sender: UserId) -> Option<MessageRow> {
        Some(MessageRow {
            id: self.m_id?,
            conversation_id: self.m_conversation_id?,
            seq: self.m_seq?,
            sender_id: sender.0,
            client_id: self.m_client_id.take()?,
            body: self.m_body.take()?,
            sent_at: self.m_sent_at?,
        })
    }
}

/// The [`SendContext`] of a send, or `None` when `sender` does not take part in the
/// conversation (or it does not exist).
#[tracing::instrument(level = "debug", skip(db))]
pub async fn send_context(
    db: impl SqliteExecutor<'_>,
    conversation: ConversationId,
    sender: UserId,
    client_id: ClientMsgId,
) -> Result<Option<SendContext>, sqlx::Error> {
    let row = sqlx::query_as::<_, SendContextRow>(
        "SELECT c.patient_id, c.doctor_id, c.status, c.last_seq,
                m.id AS m_id, m.conversation_id AS m_conversation_id, m.seq AS m_seq,
                m.client_id AS m_client_id, m.body AS m_body, m.sent_at AS m_sent_at
         FROM conversations c
         LEFT JOIN messages m ON m.sender_id = ?2 AND m.client_id = ?3
         WHERE c.id = ?1 AND (c.patient_id = ?2 OR c.doctor_id = ?2)",
    )
    .bind(conversation.0)
    .bind(sender.0)
    .bind(client_id.0.to_string())
    .fetch_optional(db)
    .await?;
    row.map(|mut row| {
        let replay = row.replay(sender);
        Ok(SendContext {
            conversation: ConversationRef {
                id: conversation,
                patient_id: UserId(row.patient_id),
                doctor_id: UserId(row.doctor_id),
                status: parse_status(&row.status)?,
                last_seq: Seq(row.last_seq),
            },
            replay: replay.map(MessageRow::into_message).transpose()?,
        })
    })
    .transpose()
}

/// A message about to be stored.
pub struct NewMessage<'a> {
    /// Where.
    pub conversation_id: ConversationId,
    /// Its reserved sequence number.
    pub seq: Seq,
    /// Who.
    pub sender_id: UserId,
    /// The client's idempotency key.
    pub client_id: ClientMsgId,
    /// The (parsed) text.
    pub body: &'a str,
    /// When.
    pub sent_at: Timestamp,
}

/// Stores a message.
#[tracing::instrument(skip_all, fields(conversation = %message.conversation_id, seq = %message.seq))]
pub async fn insert(
    db: impl SqliteExecutor<'_>,
    message: &NewMessage<'_>,
) -> Result<Message, sqlx::Error> {
    sqlx::query_as::<_, MessageRow>(&format!(
        "INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {COLUMNS}"
    ))
    .bind(message.conversation_id.0)
    .bind(message.seq.0)
    .bind(message.sender_id.0)
    .bind(message.client_id.0.to_string())
    .bind(message.body)
    .bind(message.sent_at.0)
    .fetch_one(db)
    .await?
    .into_message()
}

/// Which page of history to read; built from a validated [`HistoryQuery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The latest messages.
    Latest,
    /// Messages with `seq < n`.
    Before(Seq),
    /// Messages with `seq > n`.
    After(Seq),
}

impl Page {
    /// The page a query asks for, or `None` when it asks for `before` and `after` at once.
    pub fn from_query(query: &HistoryQuery) -> Option<Page> {
        match (query.before, query.after) {
            (None, None) => Some(Page::Latest),
            (Some(before), None) => Some(Page::Before(before)),
            (None, Some(after)) => Some(Page::After(after)),
            (Some(_), Some(_)) => None,
        }
    }
}

/// Up to `limit` messages of `page`, in ascending seq order, and whether more exist in that
/// direction. Reads `limit + 1` rows to answer the latter without a second query.
#[tracing::instrument(skip(db))]
pub async fn page(
    db: impl SqliteExecutor<'_>,
    conversation: ConversationId,
    page: Page,
    limit: u32,
) -> Result<(Vec<Message>, bool), sqlx::Error> {
    let (filter, order, bound) = match page {
        Page::Latest => ("", "DESC", 0),
        Page::Before(seq) => ("AND seq < ?2", "DESC", seq.0),
        Page::After(seq) => ("AND seq > ?2", "ASC", seq.0),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 {filter}
         ORDER BY seq {order} LIMIT ?3"
    );
    let rows = sqlx::query_as::<_, MessageRow>(&sql)
        .bind(conversation.0)
        .bind(bound)
        .bind(i64::from(limit) + 1)
        .fetch_all(db)
        .await?;
    let has_more = rows.len() > limit as usize;
    let mut messages = rows
        .into_iter()
        .take(limit as usize)
        .map(MessageRow::into_message)
        .collect::<Result<Vec<_>, _>>()?;
    if order == "DESC" {
        messages.reverse();
    }
    Ok((messages, has_more))
}
