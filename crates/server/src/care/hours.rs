//! Office hours and absences as the wire and the database write them, read into the
//! [`ReplyPolicy`] of [`super::reply_due`], and the words of the automatic reply.
//!
//! Hours are `"HH:MM"` on the wire and minutes after midnight in the database (seven
//! `open-close` pairs, Monday first, an empty entry for a closed day); days are `YYYY-MM-DD`, in
//! the practice's time zone ([`colloque_protocol::PRACTICE_TIME_ZONE`]).

use super::reply_due::{Absence, OfficeHours, ReplyPolicy};
use colloque_protocol::{DayHours, PRACTICE_TIME_ZONE, Timestamp};
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The practice's time zone (bundled with the server: it does not depend on the host's).
pub fn practice_tz() -> TimeZone {
    TimeZone::get(PRACTICE_TIME_ZONE).unwrap_or(TimeZone::UTC)
}

/// The practice's day at `now`.
pub fn practice_day(now: Timestamp) -> Option<Date> {
    jiff::Timestamp::from_millisecond(now.0)
        .ok()
        .map(|at| at.to_zoned_datetime(practice_tz()).date())
}

/// A day `YYYY-MM-DD` (exactly that form).
pub fn parse_day(text: &str) -> Option<Date> {
    if text.len() != 10 {
        return None;
    }
    let day: Date = text.parse().ok()?;
    (day.to_string() == text).then_some(day)
}

/// Minutes after midnight from `"HH:MM"`.
pub fn parse_time(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// `"HH:MM"` from minutes after midnight.
pub fn format_time(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Office hours from the wire: seven entries (else `None`); a day that does not close after it
/// opens is closed (JSON Schema cannot say "after", so the server gives it a meaning rather
/// than refusing it).
pub fn parse_hours(days: &[Option<DayHours>]) -> Option<OfficeHours> {
    if days.len() != 7 {
        return None;
    }
    let mut hours = [None; 7];
    for (slot, day) in hours.iter_mut().zip(days) {
        if let Some(day) = day {
            let (opens, closes) = (parse_time(&day.opens)?, parse_time(&day.closes)?);
            if opens < closes {
                *slot = Some((opens, closes));
            }
        }
    }
    Some(OfficeHours(hours))
}

/// Office hours for the wire.
pub fn hours_to_wire(hours: &OfficeHours) -> Vec<Option<DayHours>> {
    hours
        .0
        .iter()
        .map(|day| {
            day.map(|(opens, closes)| DayHours {
                opens: format_time(opens),
                closes: format_time(closes),
            })
        })
        .collect()
}

/// Office hours as stored.
pub fn hours_to_db(hours: &OfficeHours) -> String {
    hours
        .0
        .iter()
        .map(|day| day.map_or(String::new(), |(open, close)| format!("{open}-{close}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Office hours from the database; `None` if the text is not what [`hours_to_db`] writes.
pub fn hours_from_db(text: &str) -> Option<OfficeHours> {
    let days: Vec<&str> = text.split(',').collect();
    if days.len() != 7 {
        return None;
    }
    let mut hours = [None; 7];
    for (slot, day) in hours.iter_mut().zip(days) {
        if !day.is_empty() {
            let (open, close) = day.split_once('-')?;
            *slot = Some((open.parse().ok()?, close.parse().ok()?));
        }
    }
    Some(OfficeHours(hours))
}

/// The policy of a doctor who promised an answer within `working_days`, with these hours and
/// absences (`(from, to)` days as stored; unreadable ones are skipped).
pub fn policy(working_days: u32, hours: OfficeHours, absences: &[(&str, &str)]) -> ReplyPolicy {
    ReplyPolicy {
        working_days: u8::try_from(working_days).unwrap_or(u8::MAX),
        hours,
        absences: absences
            .iter()
            .filter_map(|(from, to)| {
                Some(Absence {
                    from: parse_day(from)?,
                    to: parse_day(to)?,
                })
            })
            .collect(),
        tz: practice_tz(),
    }
}

/// The automatic reply's words (French: the practice's language; the app labels the line as
/// automatic in either language), from the absent doctor's name, the absence's last day and
/// the covering doctor's name. Nothing medical: the patient's message is not quoted.
pub fn auto_reply_text(doctor: &str, until: &str, covering: Option<&str>) -> String {
    let until = parse_day(until).map_or_else(|| until.to_owned(), french_date);
    let mut text = format!(
        "{doctor} ne consulte pas ses messages jusqu'au {until} inclus. \
         Votre message est bien enregistré ; il sera lu au retour."
    );
    if let Some(name) = covering {
        text.push_str(&format!(
            " En son absence, {name} assure le relais : pour une demande qui ne peut pas attendre, \
             appelez le cabinet."
        ));
    } else {
        text.push_str(" Pour une demande qui ne peut pas attendre, appelez le cabinet.");
    }
    text.push_str(" En cas d'urgence, appelez le 15 ou le 112.");
    text
}

/// "14 mai 2027".
pub fn french_date(day: Date) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let month = MONTHS[usize::try_from(day.month() - 1).unwrap_or(0)];
    format!("{} {month} {}", day.day(), day.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn day(opens: &str, closes: &str) -> Option<DayHours> {
        Some(DayHours {
            opens: opens.into(),
            closes: closes.into(),
        })
    }

    #[test]
    fn hours_go_from_the_wire_to_the_database_and_back() {
        let wire = vec![
            day("09:00", "18:00"),
            day("08:30", "12:15"),
            None,
            day("09:00", "18:00"),
            day("00:00", "23:59"),
            None,
            None,
        ];
        let hours = parse_hours(&wire).unwrap();
        assert_eq!(hours.0[1], Some((510, 735)));
        let stored = hours_to_db(&hours);
        assert_eq!(stored, "540-1080,510-735,,540-1080,0-1439,,");
        assert_eq!(hours_from_db(&stored), Some(hours.clone()));
        assert_eq!(hours_to_wire(&hours), wire);
    }

    #[test]
    fn bad_hours_are_refused() {
        let week = |first: Option<DayHours>| {
            let mut days = vec![None; 7];
            days[0] = first;
            days
        };
        assert!(parse_hours(&week(None)).is_some());
        assert!(parse_hours(&vec![None; 6]).is_none());
        assert!(parse_hours(&vec![None; 8]).is_none());
        for (opens, closes) in [("18:00", "09:00"), ("09:00", "09:00")] {
            let hours = parse_hours(&week(day(opens, closes))).unwrap();
            assert_eq!(hours.0[0], None, "{opens}–{closes} is a closed day");
        }
        for (opens, closes) in [
            ("9:00", "18:00"),
            ("24:00", "24:30"),
            ("09:60", "10:00"),
            ("09h00", "18:00"),
            ("", ""),
        ] {
            assert!(parse_hours(&week(day(opens, closes))).is_none(), "{opens}");
        }
    }

    #[test]
    fn days_are_exactly_year_month_day() {
        assert_eq!(parse_day("2027-05-14"), Some(date(2027, 5, 14)));
        for bad in [
            "2027-5-14",
            "2027-02-30",
            "14/05/2027",
            "2027-05-14T00:00",
            "",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_automatic_reply_names_the_return_and_the_covering_doctor() {
        let text = auto_reply_text("Dr Claire Martin", "2027-05-14", Some("Dr Paul Durand"));
        assert!(
            text.starts_with(
                "Dr Claire Martin ne consulte pas ses messages jusqu'au 14 mai 2027 inclus"
            ),
            "{text}"
        );
        assert!(text.contains("Dr Paul Durand assure le relais"), "{text}");
        assert!(text.contains("15 ou le 112"), "{text}");
        let alone = auto_reply_text("Dr Claire Martin", "2027-08-01", None);
        assert!(alone.contains("1 août 2027"), "{alone}");
        assert!(!alone.contains("relais"), "{alone}");
    }
}
