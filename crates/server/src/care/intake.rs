//! Who may start a conversation with a doctor: the doctor's intake setting and per-patient
//! blocks (docs/protocol.md, "Care workflow").
//!
//! Only patients are subject to it; a doctor may always write to the patients of their care
//! team. A care relationship is needed first, whatever the setting (`no_care_relationship`).
//! Then, for a patient:
//! - blocked by the doctor: `patient_blocked`, for new requests **and** open conversations;
//! - otherwise an **open** conversation stays answerable whatever the setting becomes (it is an
//!   exchange the doctor accepted; they close it when it is done);
//! - a new request follows the mode: `off` refuses it, `care_team` takes it,
//!   `recent_patients` takes it from a patient with an appointment with the doctor that started
//!   within the last N months or is booked ahead; otherwise `intake_closed`.

use colloque_protocol::{IntakeDecision, IntakeMode, MAX_INTAKE_MONTHS, Timestamp};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

/// A doctor's setting, as stored (`intake_settings`), or the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeRule {
    /// Who may start a conversation.
    pub mode: IntakeMode,
    /// The look-back of [`IntakeMode::RecentPatients`], in months.
    pub months: u32,
}

impl IntakeRule {
    /// A doctor who never changed it: the whole care team (as before the setting existed), and
    /// a year if they switch to recent patients.
    pub const DEFAULT: IntakeRule = IntakeRule {
        mode: IntakeMode::CareTeam,
        months: 12,
    };

    /// Whether `months` is an acceptable look-back.
    pub fn months_valid(months: u32) -> bool {
        (1..=MAX_INTAKE_MONTHS).contains(&months)
    }
}

/// Whether a patient of the doctor's care team may start a new request: `blocked` by this
/// doctor, and `seen_recently` (an appointment since [`recent_cutoff`], or booked ahead).
pub fn decide(rule: IntakeRule, blocked: bool, seen_recently: bool) -> IntakeDecision {
    if blocked {
        return IntakeDecision::PatientBlocked;
    }
    match rule.mode {
        IntakeMode::Off => IntakeDecision::IntakeClosed,
        IntakeMode::CareTeam => IntakeDecision::Open,
        IntakeMode::RecentPatients if seen_recently => IntakeDecision::Open,
        IntakeMode::RecentPatients => IntakeDecision::NotRecentPatient,
    }
}

/// The start (midnight UTC) of the day `months` calendar months before `now`: appointments
/// from then on count as "seen recently". A day the earlier month lacks (31 March → February)
/// falls back to that month's last day.
pub fn recent_cutoff(now: Timestamp, months: u32) -> Timestamp {
    let fallback = Timestamp(now.0 - i64::from(months) * 31 * 24 * 3600 * 1000);
    let Ok(instant) = jiff::Timestamp::from_millisecond(now.0) else {
        return fallback;
    };
    let today = instant.to_zoned_datetime(TimeZone::UTC).date();
    let total = i32::from(today.year()) * 12 + i32::from(today.month()) - 1 - months as i32;
    let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let (Ok(year), Ok(month)) = (i16::try_from(year), i8::try_from(month)) else {
        return fallback;
    };
    let day = (0..4)
        .filter_map(|back| Date::new(year, month, today.day() - back).ok())
        .next();
    day.and_then(|day| {
        day.to_datetime(Time::midnight())
            .to_zoned_datetime(TimeZone::UTC)
            .ok()
    })
    .map_or(fallback, |start| {
        Timestamp(start.timestamp().as_millisecond())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(mode: IntakeMode) -> IntakeRule {
        IntakeRule { mode, months: 6 }
    }

    fn utc(year: i16, month: i8, day: i8, hour: i8) -> Timestamp {
        let zoned = jiff::civil::date(year, month, day)
            .at(hour, 0, 0, 0)
            .to_zoned_datetime(TimeZone::UTC)
            .unwrap();
        Timestamp(zoned.timestamp().as_millisecond())
    }

    #[test]
    fn a_block_wins_over_every_mode() {
        for mode in [
            IntakeMode::Off,
            IntakeMode::CareTeam,
            IntakeMode::RecentPatients,
        ] {
            assert_eq!(
                decide(rule(mode), true, true),
                IntakeDecision::PatientBlocked
            );
        }
    }

    #[test]
    fn each_mode_decides_a_new_request() {
        assert_eq!(
            decide(rule(IntakeMode::Off), false, true),
            IntakeDecision::IntakeClosed
        );
        assert_eq!(
            decide(rule(IntakeMode::CareTeam), false, false),
            IntakeDecision::Open
        );
        assert_eq!(
            decide(rule(IntakeMode::RecentPatients), false, true),
            IntakeDecision::Open
        );
        assert_eq!(
            decide(rule(IntakeMode::RecentPatients), false, false),
            IntakeDecision::NotRecentPatient
        );
    }

    #[test]
    fn the_look_back_counts_calendar_months_from_the_start_of_the_day() {
        assert_eq!(recent_cutoff(utc(2026, 12, 6, 15), 6), utc(2026, 6, 6, 0));
        assert_eq!(recent_cutoff(utc(2026, 2, 10, 8), 3), utc(2025, 11, 10, 0));
        assert_eq!(recent_cutoff(utc(2026, 3, 31, 8), 1), utc(2026, 2, 28, 0));
        assert_eq!(recent_cutoff(utc(2028, 3, 31, 8), 1), utc(2028, 2, 29, 0));
        assert_eq!(recent_cutoff(utc(2026, 12, 6, 0), 24), utc(2024, 12, 6, 0));
    }

    #[test]
    fn look_backs_are_one_to_twenty_four_months() {
        assert!(!IntakeRule::months_valid(0));
        assert!(IntakeRule::months_valid(1));
        assert!(IntakeRule::months_valid(24));
        assert!(!IntakeRule::months_valid(25));
    }
}
