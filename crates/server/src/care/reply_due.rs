//! "Réponse attendue au plus tard le …": the latest time a patient may expect an answer, from
//! the doctor's promise (a number of working days), weekly office hours, absences and French
//! public holidays, in the practice's time zone. The app shows the instant in the patient's own
//! time zone.
//!
//! A working day has office hours, is not a public holiday and is not inside an absence. A
//! message counts from the first working day whose office hours have not ended when it
//! arrives (a message on Friday night counts from Monday); the answer is due by the end of the
//! office hours of the promised number of working days after that one.

use super::holidays::is_public_holiday;
use colloque_protocol::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

/// Office hours per weekday, Monday first: the opening and closing time in minutes after
/// midnight (local time of the practice), or `None` for a closed day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours(pub [Option<(u16, u16)>; 7]);

impl OfficeHours {
    /// 9:00–18:00 from Monday to Friday.
    pub fn weekdays_nine_to_six() -> OfficeHours {
        let day = Some((9 * 60, 18 * 60));
        OfficeHours([day, day, day, day, day, None, None])
    }

    fn of(&self, weekday: Weekday) -> Option<(u16, u16)> {
        self.0[weekday.to_monday_zero_offset() as usize]
    }
}

/// A period away, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Absence {
    /// First day away.
    pub from: Date,
    /// Last day away.
    pub to: Date,
}

/// What a doctor promises.
#[derive(Debug, Clone)]
pub struct ReplyPolicy {
    /// Working days to answer in (0: by the end of the day the message counts from).
    pub working_days: u8,
    /// Weekly office hours.
    pub hours: OfficeHours,
    /// Absences.
    pub absences: Vec<Absence>,
    /// The practice's time zone.
    pub tz: TimeZone,
}

/// How far ahead a due date is looked for: beyond, the doctor has no working day at all.
const SEARCH_DAYS: usize = 800;

impl ReplyPolicy {
    fn closing(&self, day: Date) -> Option<Time> {
        if is_public_holiday(day) || self.absences.iter().any(|a| a.from <= day && day <= a.to) {
            return None;
        }
        let (_, close) = self.hours.of(day.weekday())?;
        Time::new((close / 60) as i8, (close % 60) as i8, 0, 0).ok()
    }
}

/// When an answer to a message received at `received` is due at the latest, or `None` when
/// the policy has no working day in the next two years (no office hours at all).
pub fn reply_due(policy: &ReplyPolicy, received: Timestamp) -> Option<Timestamp> {
    let received = jiff::Timestamp::from_millisecond(received.0)
        .ok()?
        .to_zoned_datetime(policy.tz.clone());
    let arrival_day = received.date();
    let mut day = arrival_day;
    let mut counted: Option<u8> = None;
    for _ in 0..SEARCH_DAYS {
        if let Some(closing) = policy.closing(day) {
            let still_open = day > arrival_day || received.time() < closing;
            let count = match counted {
                None if still_open => Some(0),
                None => None,
                Some(n) => Some(n + 1),
            };
            counted = count;
            if count == Some(policy.working_days) {
                let due = day
                    .to_datetime(closing)
                    .to_zoned_datetime(policy.tz.clone())
                    .ok()?;
                return Some(Timestamp(due.timestamp().as_millisecond()));
            }
        }
        day = day.tomorrow().ok()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }

    fn at(year: i16, month: i8, day: i8, hour: i8, minute: i8) -> Timestamp {
        let zoned = date(year, month, day)
            .at(hour, minute, 0, 0)
            .to_zoned_datetime(paris())
            .unwrap();
        Timestamp(zoned.timestamp().as_millisecond())
    }

    fn policy(working_days: u8, absences: &[(Date, Date)]) -> ReplyPolicy {
        ReplyPolicy {
            working_days,
            hours: OfficeHours::weekdays_nine_to_six(),
            absences: absences
                .iter()
                .map(|&(from, to)| Absence { from, to })
                .collect(),
            tz: paris(),
        }
    }

    /// Each case: the promise, the absences, when the message arrived (Paris time), when the
    /// answer is due (Paris time, the end of office hours).
    #[test]
    fn the_due_date_follows_office_hours_weekends_holidays_and_absences() {
        let none: &[(Date, Date)] = &[];
        let cases = [
            // A Monday morning: two working days → Wednesday.
            (
                "monday morning",
                2,
                none,
                at(2027, 3, 1, 10, 0),
                at(2027, 3, 3, 18, 0),
            ),
            // Before opening, the day still counts.
            (
                "monday 7:00",
                2,
                none,
                at(2027, 3, 1, 7, 0),
                at(2027, 3, 3, 18, 0),
            ),
            // After closing, the next working day is the first.
            (
                "monday 19:00",
                2,
                none,
                at(2027, 3, 1, 19, 0),
                at(2027, 3, 4, 18, 0),
            ),
            // Friday night: counts from Monday.
            (
                "friday night",
                2,
                none,
                at(2027, 3, 5, 21, 0),
                at(2027, 3, 10, 18, 0),
            ),
            // A Saturday: counts from Monday.
            (
                "saturday",
                2,
                none,
                at(2027, 3, 6, 11, 0),
                at(2027, 3, 10, 18, 0),
            ),
            // Zero days: by tonight.
            (
                "same day",
                0,
                none,
                at(2027, 3, 2, 11, 0),
                at(2027, 3, 2, 18, 0),
            ),
            // Easter Monday (29 March 2027) is skipped.
            (
                "before easter",
                2,
                none,
                at(2027, 3, 26, 10, 0),
                at(2027, 3, 31, 18, 0),
            ),
            // Arriving on Easter Monday: counts from Tuesday.
            (
                "on easter monday",
                1,
                none,
                at(2027, 3, 29, 10, 0),
                at(2027, 3, 31, 18, 0),
            ),
            // An absence from 3 to 14 May 2027 (with Ascension inside), then Whit Monday
            // (17 May): Tuesday 18 is the first working day, Wednesday 19 the second.
            (
                "absence across holidays",
                2,
                &[(date(2027, 5, 3), date(2027, 5, 14))][..],
                at(2027, 4, 30, 15, 0),
                at(2027, 5, 19, 18, 0),
            ),
            // A message during the absence waits for the return.
            (
                "during an absence",
                1,
                &[(date(2027, 5, 3), date(2027, 5, 14))][..],
                at(2027, 5, 10, 9, 30),
                at(2027, 5, 19, 18, 0),
            ),
            // Across the change to summer time (29 March 2026): still 18:00 in Paris.
            (
                "across dst",
                1,
                none,
                at(2026, 3, 27, 19, 0),
                at(2026, 3, 31, 18, 0),
            ),
            // Christmas and New Year's Day 2026–2027.
            (
                "christmas",
                3,
                none,
                at(2026, 12, 24, 12, 0),
                at(2026, 12, 30, 18, 0),
            ),
        ];
        for (name, days, absences, received, due) in cases {
            assert_eq!(
                reply_due(&policy(days, absences), received),
                Some(due),
                "{name}"
            );
        }
    }

    #[test]
    fn without_office_hours_no_date_is_promised() {
        let policy = ReplyPolicy {
            hours: OfficeHours([None; 7]),
            ..policy(2, &[])
        };
        assert_eq!(reply_due(&policy, at(2027, 3, 1, 10, 0)), None);
    }
}
