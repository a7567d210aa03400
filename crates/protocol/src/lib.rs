//! The wire contract between the Colloque app and the Colloque server.
//!
//! Every REST body and every WebSocket frame is defined here, once. The app (compiled to
//! wasm32) and the server (native) both depend on this crate, so a change to the protocol is a
//! compile error on whichever side forgot it. This crate depends on serde and uuid only; the
//! optional `openapi` feature adds `utoipa::ToSchema` derives for the server's OpenAPI document.
//!
//! Conventions:
//! - JSON field names are `snake_case`; enums are tagged with `"type"` (frames) or are plain
//!   lowercase strings (roles, statuses, error codes).
//! - Times are [`Timestamp`]s: milliseconds since the Unix epoch, UTC. The app renders local time.
//! - Sequence numbers ([`Seq`]) are per conversation, start at 1 and have no gaps.

#![forbid(unsafe_code)]

mod attachments;
mod care;
mod error;
mod frames;
mod hours;
mod ids;
mod notifications;
mod push;
mod rest;
mod templates;
mod typing;

pub use attachments::*;
pub use care::*;
pub use error::{ApiError, ErrorCode};
pub use frames::{ClientFrame, ServerFrame};
pub use hours::*;
pub use ids::{
    AppointmentId, AttachmentId, ClientMsgId, ConversationId, MessageId, OutboxKey, Seq,
    SessionHandle, Timestamp, UserId,
};
pub use notifications::*;
pub use push::*;
pub use rest::*;
pub use templates::*;
pub use typing::*;

/// The longest message body accepted, in Unicode scalar values (characters), after trimming.
pub const MAX_MESSAGE_CHARS: usize = 10_000;

/// The longest conversation subject accepted, in characters, after trimming.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// The most messages one history request returns; larger `limit`s are clamped to this.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The page size used when a history request gives no `limit`.
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// The largest WebSocket frame the server accepts, in bytes. Larger frames close the socket
/// with code 1009 (message too big).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The most attachments one message may carry (a server may be configured lower, never
/// higher).
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 4;

/// The path of the WebSocket endpoint, relative to the server's origin.
pub const WS_PATH: &str = "/ws";

/// The prefix of every REST route.
pub const API_PREFIX: &str = "/api";

/// The app's pages that are in its second build (`medecin.html`), not in the first load
/// (`index.html`): each path and every path below it. The doctor's screens, and the account and
/// documents pages of both roles, visited seldom enough that a patient's first load does not
/// pay for them, and the login's second step (two-step verification, which only doctors reach
/// in the app). The server sends `medecin.html` for them; the app's router
/// (`Route::in_second_build`) and its service worker (`static/sw.js`) follow the same list.
pub const SECOND_BUILD_PATHS: &[&str] = &[
    "/medecin",
    "/patient/securite",
    "/patient/documents",
    "/login/code",
];

/// True when `path` is one of [`SECOND_BUILD_PATHS`] or below one of them.
pub fn in_second_build(path: &str) -> bool {
    SECOND_BUILD_PATHS.iter().any(|page| {
        path.strip_prefix(page)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests;
