//! Small time helpers. Kept dependency-free: the server needs "now in milliseconds", "midnight
//! UTC n days from now" for the demo data, and parsing `2026-12-01T09:30` for the admin CLI.

use colloque_protocol::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> Timestamp {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a naive local date-time `YYYY-MM-DDTHH:MM` (a space also separates), interpreted as
/// UTC. Returns `None` for anything else, including impossible dates such as `2026-02-30`.
pub fn parse_naive_datetime(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', ' '])?;
    let mut date_parts = date.splitn(3, '-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: u32 = date_parts.next()?.parse().ok()?;
    let day: u32 = date_parts.next()?.parse().ok()?;
    let (hour, minute) = time.split_once(':')?;
    let hour: i64 = hour.parse().ok()?;
    let minute: i64 = minute.parse().ok()?;
    if !(1..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(Timestamp(days * DAY_MS + (hour * 60 + minute) * 60_000))
}

/// Midnight UTC `days` days from `now`, plus `hour:minute`.
pub fn days_from_now_at(now: Timestamp, days: i64, hour: i64, minute: i64) -> Timestamp {
    let midnight = now.0 - now.0.rem_euclid(DAY_MS);
    Timestamp(midnight + days * DAY_MS + (hour * 60 + minute) * 60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_is_day_zero() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn a_naive_date_time_is_read_as_utc() {
        // 2026-12-01T09:30:00Z
        assert_eq!(
            parse_naive_datetime("2026-12-01T09:30"),
            Some(Timestamp(1_796_117_400_000))
        );
        assert_eq!(
            parse_naive_datetime("2026-12-01 09:30"),
            parse_naive_datetime("2026-12-01T09:30")
        );
    }

    #[test]
    fn impossible_dates_and_times_are_rejected() {
        for text in [
            "2026-02-29T10:00",
            "2026-13-01T10:00",
            "2026-12-01T24:00",
            "2026-12-01T09:60",
            "2026-12-01",
            "tomorrow",
        ] {
            assert_eq!(parse_naive_datetime(text), None, "{text}");
        }
        assert!(parse_naive_datetime("2028-02-29T10:00").is_some());
    }

    #[test]
    fn days_from_now_lands_on_the_given_time_of_day() {
        let now = parse_naive_datetime("2026-05-10T17:45").unwrap();
        assert_eq!(
            days_from_now_at(now, 2, 9, 30),
            parse_naive_datetime("2026-05-12T09:30").unwrap()
        );
    }
}
