//! Office hours, the promised reply time and absences (issue 12): what a doctor sets, and what
//! a patient learns before writing.
//!
//! | method | path | request | response |
//! |---|---|---|---|
//! | GET | `/api/me/reply-settings` | – | [`ReplySettings`] (doctors) |
//! | PUT | `/api/me/reply-settings` | [`UpdateReplySettingsRequest`] | [`ReplySettings`] (doctors) |
//! | POST | `/api/me/absences` | [`NewAbsenceRequest`] | [`ReplySettings`] (doctors) |
//! | DELETE | `/api/me/absences/{id}` | – | [`ReplySettings`] (doctors) |
//! | GET | `/api/me/colleagues` | – | `Vec<`[`crate::UserProfile`]`>` (doctors) |
//!
//! Days are civil dates `"YYYY-MM-DD"` and times `"HH:MM"`, both in the practice's time zone
//! ([`PRACTICE_TIME_ZONE`]); instants are [`Timestamp`]s, which the app shows in the patient's
//! own time zone.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// The time zone of office hours and absence days.
pub const PRACTICE_TIME_ZONE: &str = "Europe/Paris";

/// The longest reply-time promise, in working days.
pub const MAX_WORKING_DAYS: u32 = 10;

/// How many absences not yet over a doctor may have recorded.
pub const MAX_ABSENCES: usize = 1000;

/// An absence, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct AbsenceId(pub i64);

impl std::fmt::Display for AbsenceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One day's office hours, in the practice's time zone. A day that does not close after it
/// opens is a closed day (the answer says `null` for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayHours {
    /// Opening time, `"HH:MM"`.
    pub opens: String,
    /// Closing time, `"HH:MM"`.
    pub closes: String,
}

/// A period away from the practice, both days included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Absence {
    /// Its id (to delete it).
    pub id: AbsenceId,
    /// First day away, `"YYYY-MM-DD"`.
    pub from: String,
    /// Last day away, `"YYYY-MM-DD"`.
    pub to: String,
    /// The doctor who covers, if any: a colleague (a doctor who shares a patient with the
    /// absent one). They are told nothing; the patient is told their name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covering_doctor: Option<crate::UserProfile>,
}

/// A doctor's office hours, reply-time promise and absences (`GET /api/me/reply-settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplySettings {
    /// The promise: an answer within this many working days (0: by the end of the day), or
    /// `None`: no promise is shown to patients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_days: Option<u32>,
    /// Office hours, seven entries, Monday first; `null` for a closed day.
    pub hours: Vec<Option<DayHours>>,
    /// The time zone of the hours and absence days ([`PRACTICE_TIME_ZONE`]).
    pub time_zone: String,
    /// Absences not yet over, earliest first.
    pub absences: Vec<Absence>,
}

/// `PUT /api/me/reply-settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateReplySettingsRequest {
    /// 0 to [`MAX_WORKING_DAYS`], or absent/`null` for no promise.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::ids::integral::option_u32"
    )]
    pub working_days: Option<u32>,
    /// Seven entries, Monday first; `null` for a closed day.
    pub hours: Vec<Option<DayHours>>,
}

/// `POST /api/me/absences`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAbsenceRequest {
    /// First day away, `"YYYY-MM-DD"`.
    pub from: String,
    /// Last day away, `"YYYY-MM-DD"` (the two days may come in either order).
    pub to: String,
    /// A colleague who covers ([`Absence::covering_doctor`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::ids::integral::option_user_id"
    )]
    pub covering_doctor_id: Option<UserId>,
}

/// What a patient is told about a doctor away today (before writing, and in the automatic
/// reply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbsenceNotice {
    /// The last day away, `"YYYY-MM-DD"`.
    pub until: String,
    /// The name of the doctor who covers, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covering_doctor: Option<String>,
}
