//! Attachments (issue 13): files uploaded before a message is sent, then sent with it by id
//! ([`crate::SendMessageRequest::attachment_ids`], [`crate::ClientFrame::Send`]).
//!
//! | method | path | request | response |
//! |---|---|---|---|
//! | POST | `/api/attachments?name=…` | the file's bytes | 201 [`AttachmentMeta`] (not yet sent) |
//! | GET | `/api/attachments/{id}` | – | the file (its sniffed type) |
//! | GET | `/api/attachments/{id}/thumbnail` | – | a JPEG thumbnail (JPEG and PNG only) |
//! | GET | `/api/conversations/{id}/attachments` | [`DocumentsQuery`] | [`DocumentPage`] |
//! | GET | `/api/me/attachments` | [`DocumentsQuery`] | [`DocumentPage`] (every conversation) |

use crate::ids::{AttachmentId, ConversationId, MessageId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// The accepted types of attachment, as sniffed from the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AttachmentType {
    /// A PDF document.
    #[serde(rename = "application/pdf")]
    Pdf,
    /// A JPEG photo (metadata removed).
    #[serde(rename = "image/jpeg")]
    Jpeg,
    /// A PNG image (metadata removed).
    #[serde(rename = "image/png")]
    Png,
    /// An HEIC photo (an iPhone's; its Exif and XMP blanked out).
    #[serde(rename = "image/heic")]
    Heic,
    /// Another HEIF image (its Exif and XMP blanked out).
    #[serde(rename = "image/heif")]
    Heif,
}

impl AttachmentType {
    /// The MIME type, as served in `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            AttachmentType::Pdf => "application/pdf",
            AttachmentType::Jpeg => "image/jpeg",
            AttachmentType::Png => "image/png",
            AttachmentType::Heic => "image/heic",
            AttachmentType::Heif => "image/heif",
        }
    }

    /// The type of a MIME type as [`Self::mime`] writes it.
    pub fn from_mime(mime: &str) -> Option<Self> {
        [
            AttachmentType::Pdf,
            AttachmentType::Jpeg,
            AttachmentType::Png,
            AttachmentType::Heic,
            AttachmentType::Heif,
        ]
        .into_iter()
        .find(|kind| kind.mime() == mime)
    }
}

/// A file uploaded for a message: what both participants see of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentMeta {
    /// Its id (`GET /api/attachments/{id}`).
    pub id: AttachmentId,
    /// The file name the uploader gave (display only: never a path, never trusted for the type).
    pub name: String,
    /// The type, sniffed from the bytes.
    pub content_type: AttachmentType,
    /// Its size in bytes, as stored (after metadata was removed).
    pub size: u64,
    /// True when `GET /api/attachments/{id}/thumbnail` has a thumbnail (JPEG and PNG).
    pub has_thumbnail: bool,
}

/// Query of `POST /api/attachments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name, for display: 1 to 255 characters once trimmed, without control
    /// characters nor `/` or `\` (a path is refused).
    pub name: String,
}

/// Query of the Documents lists: the newest first, `before` a position for the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct DocumentsQuery {
    /// Return documents with `position < before` ([`Document::position`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
    /// How many, 1 to [`crate::MAX_PAGE_SIZE`]; default [`crate::DEFAULT_PAGE_SIZE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// An attachment sent in one of the caller's conversations, for the Documents view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    /// The file.
    pub attachment: AttachmentMeta,
    /// Its place in the lists, newest first: the next page is `before` the last one's.
    pub position: i64,
    /// Who sent it.
    pub author_id: UserId,
    /// The conversation it was sent in.
    pub conversation_id: ConversationId,
    /// The message it came with.
    pub message_id: MessageId,
    /// When that message was stored.
    pub sent_at: Timestamp,
}

/// A page of documents, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentPage {
    /// The documents.
    pub documents: Vec<Document>,
    /// True when older ones exist.
    pub has_more: bool,
}
