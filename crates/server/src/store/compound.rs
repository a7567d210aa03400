//! The operations written out by hand: those of several statements (a history page with its
//! attachments, the batched send, the clean-ups in one transaction) and the locks, whose
//! meaning each backend gives in its own function.

use super::model::*;
use super::{Store, Tx, postgres, sqlite};
use crate::domain::SessionId;
use colloque_protocol::{
    AttachmentId, ConversationId, Message, MessageId, Seq, TemplateId, Timestamp, UserId,
};

impl Store {
    /// A page of a conversation's history, ascending, and whether more exist that way; each
    /// message with its attachments.
    pub async fn messages_page(
        &self,
        conversation: ConversationId,
        page: Page,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), sqlx::Error> {
        on_pool!(self, |db, b| {
            let mut conn = db.acquire().await?;
            let (mut messages, more, with_files) =
                b::messages::page(&mut *conn, conversation, page, limit).await?;
            let rows = b::attachments::of_messages(&mut conn, &with_files).await?;
            attach(&mut messages, rows);
            Ok((messages, more))
        })
    }

    /// Deletes the uploads never sent and made before `cutoff`, and the contents nothing
    /// refers to any more, in one transaction; returns how many uploads.
    pub async fn delete_unsent_attachments(&self, cutoff: Timestamp) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let deleted = on_tx!(&mut tx, |conn, b| b::attachments::delete_unsent_before(
            conn, cutoff
        )
        .await)?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Writes buffered session activity times, in one transaction.
    pub async fn touch_sessions(&self, touches: &[(String, Timestamp)]) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        on_tx!(&mut tx, |conn, b| b::sessions::touch_many(conn, touches)
            .await)?;
        tx.commit().await
    }

    /// The live ones among sessions `ids`, with their generations.
    pub async fn live_generations(
        &self,
        ids: &[String],
        now: Timestamp,
        idle_cutoff: Timestamp,
    ) -> Result<Vec<LiveGeneration>, sqlx::Error> {
        on_pool!(self, |db, b| {
            let mut conn = db.acquire().await?;
            b::sessions::live_among(&mut conn, ids, now, idle_cutoff).await
        })
    }
}

impl Tx {
    /// The [`SendContext`] of each send of a batch, same order as `keys`, with whether each
    /// doctor is away on `today` (`YYYY-MM-DD`, practice time); locks the conversations first
    /// where the backend needs it (PostgreSQL).
    pub async fn send_contexts(
        &mut self,
        keys: &[SendKey],
        today: &str,
    ) -> Result<Vec<Option<SendContext>>, sqlx::Error> {
        on_tx!(self, |conn, b| b::messages::send_contexts(
            conn, keys, today
        )
        .await)
    }

    /// Stores new messages, moves the conversations' heads and the senders' read cursors;
    /// returns the ids in the order of `messages`.
    pub async fn append_batch(
        &mut self,
        messages: &[NewMessage<'_>],
        heads: &[HeadUpdate],
        cursors: &[(UserId, ConversationId, Seq, Timestamp)],
    ) -> Result<Vec<MessageId>, sqlx::Error> {
        on_tx!(self, |conn, b| b::append_batch(
            conn, messages, heads, cursors
        )
        .await)
    }

    /// The attachments of these ids (any owner, sent or not), for a send's checks.
    pub async fn attachments_by_ids(
        &mut self,
        ids: &[AttachmentId],
    ) -> Result<Vec<AttachmentRow>, sqlx::Error> {
        on_tx!(self, |conn, b| b::attachments::by_ids(conn, ids).await)
    }

    /// Holds a user's capped collections (a doctor's templates and absences, anyone's push
    /// subscriptions) until the transaction ends, where the backend needs it (PostgreSQL): a
    /// count and the row it lets in are decided one writer at a time.
    pub async fn lock_user_collections(&mut self, user: UserId) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_user_collections(conn, user).await)
    }

    /// Who owns each of these templates and whether it is shared, for a send's checks.
    pub async fn template_owners(
        &mut self,
        ids: &[TemplateId],
    ) -> Result<Vec<TemplateOwner>, sqlx::Error> {
        on_tx!(self, |conn, b| b::templates::owners(conn, ids).await)
    }

    /// Links uploads to the message they were sent with.
    pub async fn link_attachments(
        &mut self,
        ids: &[AttachmentId],
        message: MessageId,
        conversation: ConversationId,
    ) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::attachments::link(
            conn,
            ids,
            message,
            conversation
        )
        .await)
    }

    /// Fills in the attachments of these messages.
    pub async fn fill_attachments(&mut self, messages: &mut [Message]) -> Result<(), sqlx::Error> {
        let ids: Vec<MessageId> = messages.iter().map(|message| message.id).collect();
        let rows = on_tx!(self, |conn, b| b::attachments::of_messages(conn, &ids)
            .await)?;
        attach(messages, rows);
        Ok(())
    }

    /// Holds a login attempt's account and address until the transaction ends, so that the
    /// attempts on either, on every instance, are counted and recorded one after the other
    /// (SQLite: the write lock already does; PostgreSQL: advisory locks).
    pub async fn lock_login_keys(
        &mut self,
        account: &str,
        address: &str,
    ) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_login_keys(conn, account, address)
            .await)
    }

    /// Holds session `id` until the transaction ends, so that its refreshes, on every instance,
    /// are judged one after the other (SQLite: the write lock already does; PostgreSQL: its
    /// row locked).
    pub async fn lock_session(&mut self, id: &SessionId) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_session(conn, id).await)
    }

    /// Locks a conversation's row until the transaction ends, where the backend needs it
    /// (PostgreSQL), so that a change of the conversation and the sends to it are ordered (the
    /// same lock a batch of sends takes before it reads `last_seq`).
    pub async fn lock_conversation(&mut self, id: ConversationId) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_conversations(conn, &[id]).await)
    }

    /// Locks the care relationship of a pair until the transaction ends, where the backend
    /// needs it (PostgreSQL), so that two instances cannot both start its conversation.
    pub async fn lock_care_pair(
        &mut self,
        doctor: UserId,
        patient: UserId,
    ) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::lock_care_pair(conn, doctor, patient)
            .await)
    }
}

/// Puts each attachment row on its message (rows in upload order).
fn attach(messages: &mut [Message], rows: Vec<AttachmentRow>) {
    for row in rows {
        if let Some(message) = messages
            .iter_mut()
            .find(|message| Some(message.id) == row.message)
        {
            message.attachments.push(row.meta);
        }
    }
}
