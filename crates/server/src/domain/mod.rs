//! Domain types that can only be built through `parse()`: once a handler holds a
//! [`MessageBody`] it knows the text is trimmed, non-empty and short enough.

mod close_reason;
mod device;
mod email;
mod message_body;
mod password;
mod session_id;
mod subject;
mod template;

pub use close_reason::CloseReason;
pub use device::device_label;
pub use email::Email;
pub use message_body::MessageBody;
pub use password::Password;
pub use session_id::{SessionId, new_session_handle, parse_session_handle};
pub use subject::Subject;
pub use template::{TemplateBody, TemplateTitle};

/// Why a value was refused. Converted to the matching protocol error code by
/// [`crate::error::AppError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A message body that is empty after trimming.
    #[error("the message is empty")]
    EmptyBody,
    /// A message body over [`colloque_protocol::MAX_MESSAGE_CHARS`].
    #[error(
        "the message is longer than {} characters",
        colloque_protocol::MAX_MESSAGE_CHARS
    )]
    BodyTooLong,
    /// Any other invalid value; the text says which field, never its content.
    #[error("{0}")]
    Invalid(&'static str),
}
