//! The one error body, sent by every failing REST route and inside every WebSocket error frame.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A machine-readable error code. The app keys its translated, plain-words messages on it;
/// `message` in [`ApiError`] is an English hint for developers and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body or frame is not valid JSON, or lacks a required field.
    InvalidJson,
    /// The frame's `type` is not one this server knows.
    UnknownFrame,
    /// A field has a value outside its allowed range or shape.
    InvalidInput,
    /// A message body is empty (or only white space).
    EmptyBody,
    /// A message body is longer than [`crate::MAX_MESSAGE_CHARS`].
    BodyTooLong,
    /// The request or frame is larger than the server accepts.
    PayloadTooLarge,
    /// No valid session: missing, malformed, expired, forged or revoked token.
    Unauthorized,
    /// Login failed. Deliberately the same for an unknown email and a wrong password.
    InvalidCredentials,
    /// A password change gave a current password that is not the account's (403: the session
    /// itself is fine, so this is not `unauthorized`).
    WrongPassword,
    /// A new password that the password policy refuses (too short, too long).
    WeakPassword,
    /// The user is authenticated but not allowed to do this.
    Forbidden,
    /// No such resource, or not one the user may know about.
    NotFound,
    /// An id in the request's body (an upload, a reply template, a covering doctor) that names
    /// nothing the caller may use (422): the same answer whether it does not exist or is
    /// someone else's. `not_found` (404) is only ever about the resource the path names.
    UnknownReference,
    /// The conversation is closed: it can be read but not written to.
    ConversationClosed,
    /// The two users are not in a care relationship, so they cannot start a conversation.
    NoCareRelationship,
    /// The doctor takes no new request from this patient now (intake off, or reserved to
    /// patients seen recently): book an appointment or call the practice instead.
    IntakeClosed,
    /// The doctor does not take messages from this patient (a per-patient block), in new and
    /// open conversations alike.
    PatientBlocked,
    /// Another conversation of the same patient and doctor is open, so this one cannot be
    /// reopened.
    OpenConversationExists,
    /// The client must authenticate (send an `auth` frame) before anything else.
    NotAuthenticated,
    /// Too many requests or messages; try again later.
    RateLimited,
    /// The server is too busy to take this request now (its password hashing queue is full,
    /// for one); nothing was done. Try again after the `Retry-After` delay.
    ServerBusy,
    /// The requested history position is not valid for this conversation.
    InvalidCursor,
    /// The client has fallen too far behind for live delivery on this socket (e.g. its queue
    /// overflowed). It must reload its conversations from the REST API (`after` its last seq),
    /// then carry on; nothing was lost on the server.
    ResyncRequired,
    /// WebSocket only: this account holds more sockets than it may (tabs, devices), and this
    /// one, the oldest, was closed (1008). The client should not reconnect by itself, which
    /// would close another of the account's sockets in turn, but wait for the person to ask.
    TooManySockets,
    /// A one-time code (from the authenticator app, or a recovery code) that is wrong, was
    /// already used, or came too late: 401 at login's second step, 403 when a logged-in user
    /// confirms an enrolment or disables multi-factor authentication.
    InvalidMfaCode,
    /// This deployment requires multi-factor authentication for doctors, and this doctor has
    /// not enrolled yet: the session may only enrol (and log out) until then.
    MfaEnrolmentRequired,
    /// Multi-factor authentication is already on for this account (disable it first).
    MfaAlreadyEnabled,
    /// An upload whose bytes are not one of the accepted types (PDF, JPEG, PNG, HEIC/HEIF),
    /// whatever its name says, or an image that cannot be read. The message lists the
    /// accepted types and sizes; the app says the same in the user's language.
    UnsupportedFileType,
    /// An upload over the per-file size limit (413). The message gives the limit.
    FileTooLarge,
    /// The upload would take the user over their storage quota (413). The message gives it.
    QuotaExceeded,
    /// A message with more attachments than a message may carry (400).
    TooManyAttachments,
    /// An attachment already sent with another message (409): upload it again to send it
    /// again.
    AttachmentAlreadySent,
    /// A collection that is full (409): 100 reply templates, or 1,000 absences to come. The
    /// request is well formed but cannot be taken until one is deleted.
    LimitReached,
    /// An upload whose bytes stopped arriving at the minimum rate (408): nothing was stored.
    /// The message gives the rate; retry on a better connection.
    UploadTooSlow,
    /// The server failed; nothing was stored. Safe to retry.
    Internal,
    /// A code this version of the protocol does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// True when retrying the same request can never succeed (the client should mark a
    /// message as failed rather than retry it). Session problems are not permanent for a
    /// message: the client renews its session and sends it again.
    pub fn is_permanent(self) -> bool {
        !matches!(
            self,
            ErrorCode::Internal
                | ErrorCode::RateLimited
                | ErrorCode::ServerBusy
                | ErrorCode::Unknown
                | ErrorCode::Unauthorized
                | ErrorCode::NotAuthenticated
                | ErrorCode::ResyncRequired
                | ErrorCode::TooManySockets
        )
    }
}

/// The body of every error response (`{"code": "...", "message": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// What went wrong, for programs.
    pub code: ErrorCode,
    /// What went wrong, in English, for people reading logs. Never contains health data.
    pub message: String,
}

impl ApiError {
    /// Builds an error body.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
