//! WebSocket frames on [`crate::WS_PATH`]. Every frame is one JSON text message with a
//! `"type"` field.
//!
//! A session goes: connect → client sends [`ClientFrame::Auth`] → server answers
//! [`ServerFrame::Ready`] (or an error frame and a close) → then any mix of client frames and
//! server pushes. The token is never put in the URL.

use crate::error::ApiError;
use crate::ids::{AttachmentId, ClientMsgId, ConversationId, Seq};
use crate::rest::{ConversationSummary, Message, ReadCursor, UserProfile};
use serde::{Deserialize, Serialize};

/// A frame sent by the app to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Must be the first frame: authenticates the socket with the access token. It may be
    /// sent again on an authenticated socket with a renewed token (same user), so a long
    /// session keeps its socket and its place; the server answers `Ready` again.
    Auth {
        /// The JWT from [`crate::LoginResponse::token`].
        token: String,
    },
    /// Sends a message. Answered by [`ServerFrame::Ack`] once it is committed, or by
    /// [`ServerFrame::Error`] carrying the same `client_id`. Idempotent on `client_id`.
    Send {
        /// The conversation to write to.
        conversation_id: ConversationId,
        /// The client's id for this message, kept across retries.
        client_id: ClientMsgId,
        /// The text.
        body: String,
        /// The patient chose to send it past the red-flag screen (docs/care.md, "Red flags"):
        /// the conversation goes to the top of the doctor's queue until they answer. Only a
        /// patient may set it (a doctor's urgent send is refused with `forbidden`). Absent
        /// means false.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        urgent: bool,
        /// Files uploaded before (`POST /api/attachments`), at most
        /// [`crate::MAX_ATTACHMENTS_PER_MESSAGE`]. Absent means none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachment_ids: Vec<AttachmentId>,
        /// The reply template the text came from, for the audit (as
        /// [`crate::SendMessageRequest::template_id`]). Absent means none.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::templates::option_template_id"
        )]
        template_id: Option<crate::TemplateId>,
    },
    /// Moves the sender's read cursor forward.
    MarkRead {
        /// The conversation.
        conversation_id: ConversationId,
        /// The highest sequence number seen.
        seq: Seq,
    },
    /// The sender's device now holds every message of the conversation up to `seq` (sent when
    /// messages arrive on the socket or a page of history is loaded). Moves the sender's
    /// delivery cursor forward, never past the latest message; answered by
    /// [`ServerFrame::Delivered`] when it moved.
    Received {
        /// The conversation.
        conversation_id: ConversationId,
        /// The highest sequence number held.
        seq: Seq,
    },
    /// The sender is writing in this conversation's composer (at most once per
    /// [`crate::TYPING_INTERVAL_MS`]; never answered). The other participant's sockets get
    /// [`ServerFrame::Typing`] unless the sender turned it off ([`crate::TypingSettings`]) or
    /// the conversation is closed; a conversation the sender is not in is an error frame
    /// (`not_found`).
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
    },
    /// Keep-alive; answered by [`ServerFrame::Pong`] with the same nonce.
    Ping {
        /// Any number; echoed back.
        nonce: u64,
    },
}

/// A frame sent by the server to the app.
// A frame lives for one send or one receipt; boxing the summary would allocate for every
// `conversation` frame to save stack bytes nobody keeps.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The socket is authenticated as this user; events will follow.
    Ready {
        /// Who the socket belongs to.
        user: UserProfile,
    },
    /// A [`ClientFrame::Send`] on this socket was committed (or had already been: a replay
    /// returns the originally stored message).
    Ack {
        /// The client id of the send being acknowledged.
        client_id: ClientMsgId,
        /// The stored message, with its server id and sequence number.
        message: Message,
    },
    /// A new message in one of the user's conversations. Sent to every open socket of both
    /// participants, except the socket that sent it (which gets [`ServerFrame::Ack`]).
    Message {
        /// The stored message.
        message: Message,
    },
    /// A participant's read cursor moved.
    Read {
        /// The new cursor.
        cursor: ReadCursor,
    },
    /// A participant's delivery cursor moved: their devices hold the conversation up to
    /// `cursor.seq` (the "Reçu" step). Same shape as a read cursor, without `at`.
    Delivered {
        /// The new cursor.
        cursor: ReadCursor,
    },
    /// A conversation was created or changed (e.g. closed), as the receiving user sees it.
    Conversation {
        /// The conversation, with this user's unread count.
        conversation: ConversationSummary,
    },
    /// The other participant is writing in this conversation (ephemeral: show it for
    /// [`crate::TYPING_SHOWN_MS`], or until their next message arrives).
    Typing {
        /// The conversation.
        conversation_id: ConversationId,
        /// Who is writing.
        user_id: crate::UserId,
    },
    /// The answer to [`ClientFrame::Ping`].
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// A frame was refused. The socket stays open unless the error is about authentication.
    Error {
        /// What went wrong.
        error: ApiError,
        /// Set when the refused frame was a [`ClientFrame::Send`], so the client can mark
        /// that message as failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<ClientMsgId>,
    },
}
