//! The `attachments` and `attachment_blobs` tables. File contents and names are bound
//! parameters, never part of SQL text, and never logged (no `tracing` field holds them).

use super::Db;
use crate::store::model::{AttachmentRow, NewAttachment};
use colloque_protocol::{
    AttachmentId, AttachmentMeta, AttachmentType, ConversationId, Document, MessageId, Timestamp,
    UserId,
};
use sqlx::{Executor, FromRow};

#[derive(FromRow)]
struct Row {
    public_id: String,
    owner_id: i64,
    name: String,
    content_type: String,
    size: i64,
    has_thumbnail: bool,
    message_id: Option<i64>,
    conversation_id: Option<i64>,
    sha256: String,
}

impl Row {
    fn into_row(self) -> Result<AttachmentRow, sqlx::Error> {
        let id = uuid::Uuid::parse_str(&self.public_id)
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        let content_type = AttachmentType::from_mime(&self.content_type).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown attachment type {:?}", self.content_type).into())
        })?;
        Ok(AttachmentRow {
            meta: AttachmentMeta {
                id: AttachmentId(id),
                name: self.name,
                content_type,
                size: u64::try_from(self.size).unwrap_or_default(),
                has_thumbnail: self.has_thumbnail,
            },
            owner: UserId(self.owner_id),
            message: self.message_id.map(MessageId),
            conversation: self.conversation_id.map(ConversationId),
            sha256: self.sha256,
        })
    }
}

const SELECT: &str = "SELECT a.public_id, a.owner_id, a.name, a.content_type, a.size,
        b.thumbnail IS NOT NULL AS has_thumbnail, a.message_id, a.conversation_id, a.sha256
    FROM attachments a JOIN attachment_blobs b ON b.sha256 = a.sha256";

/// Whether a content of this hash is stored (its thumbnail need not be made again).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn blob_exists(
    db: impl Executor<'_, Database = Db>,
    sha256: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM attachment_blobs WHERE sha256 = $1)")
        .bind(sha256)
        .fetch_one(db)
        .await
}

/// Stores a content unless the same bytes are stored already (content-addressed).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_blob(
    db: impl Executor<'_, Database = Db>,
    sha256: &str,
    content: &[u8],
    thumbnail: Option<&[u8]>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO attachment_blobs (sha256, size, content, thumbnail, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(sha256)
    .bind(content.len() as i64)
    .bind(content)
    .bind(thumbnail)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(())
}

/// Records an upload (its blob stored first, in the same transaction).
#[tracing::instrument(level = "debug", skip_all, fields(owner = %attachment.owner))]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    attachment: &NewAttachment<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO attachments (public_id, owner_id, sha256, content_type, name, size, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(attachment.id.0.to_string())
    .bind(attachment.owner.0)
    .bind(attachment.sha256)
    .bind(attachment.content_type.mime())
    .bind(attachment.name)
    .bind(attachment.size as i64)
    .bind(attachment.now.0)
    .execute(db)
    .await?;
    Ok(())
}

/// The bytes a user's uploads take (sent or not), for the quota.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn used_bytes(
    db: impl Executor<'_, Database = Db>,
    owner: UserId,
) -> Result<i64, sqlx::Error> {
    let used: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM attachments WHERE owner_id = $1",
    )
    .bind(owner.0)
    .fetch_one(db)
    .await?;
    Ok(used.unwrap_or(0))
}

/// The attachments of these ids (any owner, sent or not), for a send's checks.
#[tracing::instrument(level = "debug", skip_all, fields(ids = ids.len()))]
pub async fn by_ids(
    conn: &mut <Db as sqlx::Database>::Connection,
    ids: &[AttachmentId],
) -> Result<Vec<AttachmentRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::<Db>::new(SELECT);
    query.push(" WHERE a.public_id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.0.to_string());
    }
    query.push(")");
    let rows: Vec<Row> = query.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter().map(Row::into_row).collect()
}

/// Links uploads to the message they were sent with.
#[tracing::instrument(level = "debug", skip_all, fields(ids = ids.len()))]
pub async fn link(
    conn: &mut <Db as sqlx::Database>::Connection,
    ids: &[AttachmentId],
    message: MessageId,
    conversation: ConversationId,
) -> Result<(), sqlx::Error> {
    for id in ids {
        sqlx::query(
            "UPDATE attachments SET message_id = $1, conversation_id = $2
             WHERE public_id = $3 AND message_id IS NULL",
        )
        .bind(message.0)
        .bind(conversation.0)
        .bind(id.0.to_string())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The attachments of these messages, in upload order within each.
#[tracing::instrument(level = "debug", skip_all, fields(messages = messages.len()))]
pub async fn of_messages(
    conn: &mut <Db as sqlx::Database>::Connection,
    messages: &[MessageId],
) -> Result<Vec<AttachmentRow>, sqlx::Error> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = sqlx::QueryBuilder::<Db>::new(SELECT);
    query.push(" WHERE a.message_id IN (");
    let mut list = query.separated(", ");
    for id in messages {
        list.push_bind(id.0);
    }
    query.push(") ORDER BY a.id");
    let rows: Vec<Row> = query.build_query_as().fetch_all(&mut *conn).await?;
    rows.into_iter().map(Row::into_row).collect()
}

/// The attachment `id` if `user` may fetch it: its uploader before it is sent, or either
/// participant of the conversation it was sent in.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn visible(
    db: impl Executor<'_, Database = Db>,
    id: AttachmentId,
    user: UserId,
) -> Result<Option<AttachmentRow>, sqlx::Error> {
    let sql = format!(
        "{SELECT} LEFT JOIN conversations c ON c.id = a.conversation_id
         WHERE a.public_id = $1 AND ((a.message_id IS NULL AND a.owner_id = $2)
             OR c.patient_id = $2 OR c.doctor_id = $2)"
    );
    let row: Option<Row> = sqlx::query_as(&sql)
        .bind(id.0.to_string())
        .bind(user.0)
        .fetch_optional(db)
        .await?;
    row.map(Row::into_row).transpose()
}

/// A stored content, or its thumbnail.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn content(
    db: impl Executor<'_, Database = Db>,
    sha256: &str,
    thumbnail: bool,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let sql = if thumbnail {
        "SELECT thumbnail FROM attachment_blobs WHERE sha256 = $1"
    } else {
        "SELECT content FROM attachment_blobs WHERE sha256 = $1"
    };
    let bytes: Option<Option<Vec<u8>>> = sqlx::query_scalar(sql)
        .bind(sha256)
        .fetch_optional(db)
        .await?;
    Ok(bytes.flatten())
}

#[derive(FromRow)]
struct DocumentRow {
    #[sqlx(flatten)]
    row: Row,
    position: i64,
    sent_at: i64,
}

/// The attachments sent in `user`'s conversations (or only in `conversation`), newest first,
/// from `before` a position, and whether older ones exist.
#[tracing::instrument(level = "debug", skip(db))]
pub async fn documents(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    conversation: Option<ConversationId>,
    before: i64,
    limit: u32,
) -> Result<(Vec<Document>, bool), sqlx::Error> {
    let sql = "SELECT a.public_id, a.owner_id, a.name, a.content_type, a.size,
            b.thumbnail IS NOT NULL AS has_thumbnail, a.message_id, a.conversation_id, a.sha256,
            a.id AS position, m.sent_at
        FROM attachments a
        JOIN attachment_blobs b ON b.sha256 = a.sha256
        JOIN messages m ON m.id = a.message_id
        JOIN conversations c ON c.id = a.conversation_id
        WHERE (c.patient_id = $1 OR c.doctor_id = $1) AND a.id < $2
          AND ($3 = 0 OR a.conversation_id = $3)
        ORDER BY a.id DESC LIMIT $4";
    let rows: Vec<DocumentRow> = sqlx::query_as(sql)
        .bind(user.0)
        .bind(before)
        .bind(conversation.map_or(0, |c| c.0))
        .bind(i64::from(limit) + 1)
        .fetch_all(db)
        .await?;
    let has_more = rows.len() > limit as usize;
    let documents = rows
        .into_iter()
        .take(limit as usize)
        .map(|row| {
            let (position, sent_at) = (row.position, row.sent_at);
            let row = row.row.into_row()?;
            Ok(Document {
                author_id: row.owner,
                conversation_id: row.conversation.unwrap_or(ConversationId(0)),
                message_id: row.message.unwrap_or(MessageId(0)),
                attachment: row.meta,
                position,
                sent_at: Timestamp(sent_at),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((documents, has_more))
}

/// Deletes the uploads never sent and made before `cutoff`, then the contents no upload refers
/// to any more; returns how many uploads.
#[tracing::instrument(level = "debug", skip(conn))]
pub async fn delete_unsent_before(
    conn: &mut <Db as sqlx::Database>::Connection,
    cutoff: Timestamp,
) -> Result<u64, sqlx::Error> {
    let deleted =
        sqlx::query("DELETE FROM attachments WHERE message_id IS NULL AND created_at < $1")
            .bind(cutoff.0)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    sqlx::query(
        "DELETE FROM attachment_blobs WHERE NOT EXISTS
            (SELECT 1 FROM attachments a WHERE a.sha256 = attachment_blobs.sha256)",
    )
    .execute(&mut *conn)
    .await?;
    Ok(deleted)
}
