//! When a participant is told by e-mail that something waits for them (docs/notifications.md).
//!
//! Pure: the candidate (what the store knows), the time, the rules, and the doctor's due date
//! in, at most one notice out. Every rule is tested below with a table.

use crate::care::hours::practice_tz;
use crate::store::PushCandidate;
use crate::store::model::{NoticeCandidate, StoredNotificationSettings};
use colloque_protocol::{DEFAULT_QUIET_HOURS, Seq, Timestamp};

/// The rules' durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// A message still unread this long after it arrived is announced.
    pub delay_ms: i64,
    /// At most one e-mail per conversation and person in this long.
    pub spacing_ms: i64,
    /// A patient is reminded of an answer unread this long.
    pub patient_reminder_ms: i64,
}

/// Minutes in an hour, hours in a day: the defaults below.
const MINUTE_MS: i64 = 60 * 1000;

impl Default for Rules {
    /// 5 minutes, one per hour, 3 days.
    fn default() -> Self {
        Self {
            delay_ms: 5 * MINUTE_MS,
            spacing_ms: 60 * MINUTE_MS,
            patient_reminder_ms: 3 * 24 * 60 * MINUTE_MS,
        }
    }
}

/// What an e-mail says (each says only that something waits: docs/notifications.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// A new message, still unread.
    NewMessage,
    /// A patient's answer unread for days.
    UnreadAnswer,
    /// A doctor's patient waits past the reminder's working days.
    AwaitingReply,
}

impl NoticeKind {
    /// For metrics and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewMessage => "new_message",
            Self::UnreadAnswer => "unread_answer",
            Self::AwaitingReply => "awaiting_reply",
        }
    }
}

/// An e-mail to send, and what the notice row records once it is claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    /// What it says.
    pub kind: NoticeKind,
    /// Messages up to this one are announced.
    pub notified_seq: Seq,
    /// What the latest reminder was about.
    pub reminded_key: i64,
}

/// The settings of a user who never chose: e-mail and push on, quiet 21:00–08:00.
pub fn default_settings() -> StoredNotificationSettings {
    let (from, to) = DEFAULT_QUIET_HOURS;
    let minutes = |text| crate::care::hours::parse_time(text).unwrap_or_default();
    StoredNotificationSettings {
        email: true,
        push: true,
        quiet: Some((minutes(from), minutes(to))),
    }
}

/// Whether `now` falls in the quiet hours `(from, to)` (minutes, practice time; `to` before
/// `from` spans midnight; `from` included, `to` excluded).
pub fn is_quiet(quiet: Option<(u16, u16)>, now: Timestamp) -> bool {
    let Some((from, to)) = quiet else {
        return false;
    };
    let Ok(at) = jiff::Timestamp::from_millisecond(now.0) else {
        return false;
    };
    let local = at.to_zoned_datetime(practice_tz());
    let minute =
        u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or_default();
    if from <= to {
        from <= minute && minute < to
    } else {
        minute >= from || minute < to
    }
}

/// The e-mail `candidate` is due at `now`, if any. `doctor_due` gives, for a wait that started
/// at the given time, when the doctor's reminder is due (their office hours and absences); it
/// is only called for a doctor's reminder.
pub fn decide(
    candidate: &NoticeCandidate,
    now: Timestamp,
    rules: &Rules,
    doctor_due: impl FnOnce(Timestamp) -> Option<Timestamp>,
) -> Option<Notice> {
    let settings = candidate.settings.unwrap_or_else(default_settings);
    if !settings.email || is_quiet(settings.quiet, now) {
        return None;
    }
    if candidate.last_sent_at.0 > 0 && now.0 - candidate.last_sent_at.0 < rules.spacing_ms {
        return None;
    }
    let announced = Seq(candidate.notified_seq.0.max(candidate.last_seq.0));
    if let Some(first_new) = candidate.first_new_at
        && now.0 - first_new.0 >= rules.delay_ms
    {
        return Some(Notice {
            kind: NoticeKind::NewMessage,
            notified_seq: announced,
            reminded_key: candidate.reminded_key,
        });
    }
    if candidate.patient {
        let (seq, at) = candidate.first_unread?;
        return (now.0 - at.0 >= rules.patient_reminder_ms && candidate.reminded_key < seq.0)
            .then_some(Notice {
                kind: NoticeKind::UnreadAnswer,
                notified_seq: announced,
                reminded_key: seq.0,
            });
    }
    let waiting = candidate.waiting_since.filter(|_| candidate.open)?;
    if candidate.reminded_key == waiting.0 {
        return None;
    }
    let due = doctor_due(waiting)?;
    (now >= due).then_some(Notice {
        kind: NoticeKind::AwaitingReply,
        notified_seq: announced,
        reminded_key: waiting.0,
    })
}

/// Whether a push is due to `candidate` at `now`, and the messages it announces (up to this
/// seq). The e-mail's rules for a new message, with the `push` choice: never when push is off
/// or in quiet hours, at most one per conversation and [`Rules::spacing_ms`], and only for a
/// message of someone else still unread [`Rules::delay_ms`] after it came. Push has no
/// reminders: the e-mail's say it again days later.
pub fn decide_push(candidate: &PushCandidate, now: Timestamp, rules: &Rules) -> Option<Seq> {
    let settings = candidate.settings.unwrap_or_else(default_settings);
    if !settings.push || is_quiet(settings.quiet, now) {
        return None;
    }
    if candidate.last_sent_at.0 > 0 && now.0 - candidate.last_sent_at.0 < rules.spacing_ms {
        return None;
    }
    let first_new = candidate.first_new_at?;
    (now.0 - first_new.0 >= rules.delay_ms)
        .then_some(Seq(candidate.notified_seq.0.max(candidate.last_seq.0)))
}

#[cfg(test)]
mod push_tests;
#[cfg(test)]
mod tests;
