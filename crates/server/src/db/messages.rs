//! The `messages` table. Bodies are bound parameters, never part of SQL text, and never logged.

use super::conversations::{ConversationRef, parse_status};
use colloque_protocol::{
    ClientMsgId, ConversationId, HistoryQuery, Message, MessageId, Seq, Timestamp, UserId,
};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqliteExecutor};
use std::collections::HashMap;

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

/// What a send needs to know: the conversation (if the sender takes part in it) and the
/// message this sender already stored under this client id, in any conversation.
pub struct SendContext {
    /// The conversation.
    pub conversation: ConversationRef,
    /// The earlier message with the same (sender, client id): the send is a replay.
    pub replay: Option<Message>,
}

/// One send of a batch, as looked up by [`send_contexts`].
#[derive(Debug, Clone, Copy)]
pub struct SendKey {
    /// Where.
    pub conversation: ConversationId,
    /// Who.
    pub sender: UserId,
    /// The idempotency key.
    pub client_id: ClientMsgId,
}

#[derive(FromRow)]
struct SendContextRow {
    i: i64,
    patient_id: Option<i64>,
    doctor_id: Option<i64>,
    status: Option<String>,
    last_seq: Option<i64>,
    m_id: Option<i64>,
    m_conversation_id: Option<i64>,
    m_seq: Option<i64>,
    m_client_id: Option<String>,
    m_body: Option<String>,
    m_sent_at: Option<i64>,
}

impl SendContextRow {
    fn into_context(self, key: &SendKey) -> Result<Option<SendContext>, sqlx::Error> {
        let (Some(patient_id), Some(doctor_id), Some(status), Some(last_seq)) =
            (self.patient_id, self.doctor_id, self.status, self.last_seq)
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
                }
                .into_message()?,
            ),
            _ => None,
        };
        Ok(Some(SendContext {
            conversation: ConversationRef {
                id: key.conversation,
                patient_id: UserId(patient_id),
                doctor_id: UserId(doctor_id),
                status: parse_status(&status)?,
                last_seq: Seq(last_seq),
            },
            replay,
        }))
    }
}

/// The [`SendContext`] of each send of a batch, in one query: `None` where the sender does not
/// take part in the conversation (or it does not exist). Same order as `keys`.
#[tracing::instrument(level = "debug", skip_all, fields(sends = keys.len()))]
pub async fn send_contexts(
    conn: &mut SqliteConnection,
    keys: &[SendKey],
) -> Result<Vec<Option<SendContext>>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Sqlite>::new("WITH req (i, conv, sender, client) AS (");
    query.push_values(keys.iter().enumerate(), |mut row, (i, key)| {
        row.push_bind(i as i64)
            .push_bind(key.conversation.0)
            .push_bind(key.sender.0)
            .push_bind(key.client_id.0.to_string());
    });
    query.push(
        ") SELECT req.i AS i, c.patient_id, c.doctor_id, c.status, c.last_seq,
                m.id AS m_id, m.conversation_id AS m_conversation_id, m.seq AS m_seq,
                m.client_id AS m_client_id, m.body AS m_body, m.sent_at AS m_sent_at
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

/// Stores a batch of new messages and moves, in the same round trip to the database (one
/// multi-statement query), the conversations' heads and the senders' read cursors:
/// - `heads`: per conversation, its new `last_seq` and `last_activity_at`;
/// - `cursors`: per (sender, conversation), the sender's last message.
///
/// The caller holds the write lock (`BEGIN IMMEDIATE`) and reserved the seqs from the rows it
/// read in the same transaction. Returns the stored messages' ids, in the order of `messages`.
#[tracing::instrument(level = "debug", skip_all, fields(messages = messages.len()))]
pub async fn append_batch(
    conn: &mut SqliteConnection,
    messages: &[NewMessage<'_>],
    heads: &[(ConversationId, Seq, Timestamp)],
    cursors: &[(UserId, ConversationId, Seq)],
) -> Result<Vec<MessageId>, sqlx::Error> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, sent_at) ",
    );
    query.push_values(messages, |mut row, message| {
        row.push_bind(message.conversation_id.0)
            .push_bind(message.seq.0)
            .push_bind(message.sender_id.0)
            .push_bind(message.client_id.0.to_string())
            .push_bind(message.body.to_owned())
            .push_bind(message.sent_at.0);
    });
    query.push(" RETURNING id, conversation_id, seq; WITH heads (id, seq, at) AS (");
    query.push_values(heads, |mut row, (id, seq, at)| {
        row.push_bind(id.0).push_bind(seq.0).push_bind(at.0);
    });
    query.push(
        ") UPDATE conversations SET last_seq = heads.seq, last_activity_at = heads.at
         FROM heads WHERE conversations.id = heads.id AND heads.seq > conversations.last_seq;
         INSERT INTO read_cursors (user_id, conversation_id, seq) ",
    );
    query.push_values(cursors, |mut row, (user, conversation, seq)| {
        row.push_bind(user.0)
            .push_bind(conversation.0)
            .push_bind(seq.0);
    });
    query
        .push(" ON CONFLICT (user_id, conversation_id) DO UPDATE SET seq = max(seq, excluded.seq)");
    let rows: Vec<(i64, i64, i64)> = query.build_query_as().fetch_all(&mut *conn).await?;
    let ids: HashMap<(i64, i64), i64> = rows
        .into_iter()
        .map(|(id, conversation, seq)| ((conversation, seq), id))
        .collect();
    messages
        .iter()
        .map(|message| {
            ids.get(&(message.conversation_id.0, message.seq.0))
                .map(|id| MessageId(*id))
                .ok_or_else(|| sqlx::Error::Protocol("a batched message was not stored".into()))
        })
        .collect()
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
