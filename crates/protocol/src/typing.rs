//! The typing indicator (issue 12): "Dr Martin écrit…" while the other participant writes.
//!
//! Ephemeral: never stored, never on a page of history. The app sends
//! [`crate::ClientFrame::Typing`] at most once per [`TYPING_INTERVAL_MS`] while its user
//! writes in a conversation's composer; the server tells the other participant's sockets
//! ([`crate::ServerFrame::Typing`]), on every instance (a bus event of ids only). The app shows
//! it for [`TYPING_SHOWN_MS`] after the latest frame, or until a message of that participant
//! arrives.
//!
//! | method | path | request | response |
//! |---|---|---|---|
//! | GET | `/api/me/typing` | – | [`TypingSettings`] |
//! | PUT | `/api/me/typing` | [`TypingSettings`] | [`TypingSettings`] |

use serde::{Deserialize, Serialize};

/// The app sends a `typing` frame at most this often per conversation (milliseconds), and the
/// server passes on at most one per socket and conversation in this time.
pub const TYPING_INTERVAL_MS: i64 = 3_000;

/// How long the app shows "écrit…" after the latest `typing` frame (milliseconds): two
/// intervals and a margin, so a steady writer's indicator does not blink.
pub const TYPING_SHOWN_MS: i64 = 7_000;

/// Whether the user's writing is shown to the other participant. On by default; when off the
/// server drops the user's `typing` frames (they still see the other participant's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypingSettings {
    /// Show "… écrit" to the other participant while this user writes.
    pub share_typing: bool,
}

impl Default for TypingSettings {
    fn default() -> Self {
        Self { share_typing: true }
    }
}
