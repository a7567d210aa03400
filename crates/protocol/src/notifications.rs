//! Notifications outside the app (issue 13): what each user chose, and the one-click
//! unsubscribe link of every e-mail (RFC 8058).
//!
//! | method | path | request | response |
//! |---|---|---|---|
//! | GET | `/api/me/notifications` | – | [`NotificationSettings`] |
//! | PUT | `/api/me/notifications` | [`NotificationSettings`] | [`NotificationSettings`] |
//! | GET | `/api/unsubscribe/{token}` | – | a small HTML page with a confirm button (changes nothing) |
//! | POST | `/api/unsubscribe/{token}` | `List-Unsubscribe=One-Click` (form) or nothing | 204: e-mail is off |
//!
//! Every notification, whatever its channel, says only that a message is waiting, with a link:
//! no name, specialty, subject, topic or body ([`NOTICE_FR`], [`NOTICE_EN`]).

use serde::{Deserialize, Serialize};

/// What every notification says, in French (the default language).
pub const NOTICE_FR: &str = "Vous avez un nouveau message sur Colloque";

/// What every notification says, in English.
pub const NOTICE_EN: &str = "You have a new message on Colloque";

/// Quiet hours by default: from 21:00 to 08:00 (practice time).
pub const DEFAULT_QUIET_HOURS: (&str, &str) = ("21:00", "08:00");

/// A user's notification preferences. Quiet hours are in the practice's time zone
/// ([`crate::PRACTICE_TIME_ZONE`]); during them nothing is sent, and what was due goes out when
/// they end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSettings {
    /// E-mail when a message waits unread (and reminders).
    pub email: bool,
    /// Web Push to the user's subscribed browsers.
    pub push: bool,
    /// No notification between these two times (`null`: at any hour).
    pub quiet_hours: Option<QuietHours>,
}

/// A nightly pause: from `from` (included) to `to` (excluded), `"HH:MM"`; `to` before `from`
/// spans midnight; equal times are a pause of no length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuietHours {
    /// Start, `"HH:MM"`.
    pub from: String,
    /// End, `"HH:MM"`.
    pub to: String,
}

impl Default for NotificationSettings {
    /// E-mail and push on, quiet from 21:00 to 08:00.
    fn default() -> Self {
        let (from, to) = DEFAULT_QUIET_HOURS;
        Self {
            email: true,
            push: true,
            quiet_hours: Some(QuietHours {
                from: from.into(),
                to: to.into(),
            }),
        }
    }
}
