//! French public holidays (jours fériés) of metropolitan France: the eight fixed dates and the
//! three that follow Easter. Alsace-Moselle's two extra days (Good Friday, 26 December) are not
//! included: a practice there marks them as absences.

use jiff::civil::{Date, date};

/// Easter Sunday of `year` (Gregorian calendar; the anonymous algorithm, "Meeus/Jones/Butcher").
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(year, month as i8, day as i8)
}

/// Whether `day` is a public holiday in metropolitan France.
pub fn is_public_holiday(day: Date) -> bool {
    const FIXED: [(i8, i8); 8] = [
        (1, 1),   // Jour de l'an
        (5, 1),   // Fête du Travail
        (5, 8),   // Victoire 1945
        (7, 14),  // Fête nationale
        (8, 15),  // Assomption
        (11, 1),  // Toussaint
        (11, 11), // Armistice
        (12, 25), // Noël
    ];
    if FIXED.contains(&(day.month(), day.day())) {
        return true;
    }
    let easter = easter_sunday(day.year());
    // Lundi de Pâques, Ascension, Lundi de Pentecôte.
    [1, 39, 50]
        .into_iter()
        .filter_map(|days| easter.checked_add(jiff::Span::new().days(days)).ok())
        .any(|holiday| holiday == day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_falls_where_the_calendar_says() {
        for (year, month, day) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(year), date(year, month, day), "{year}");
        }
    }

    #[test]
    fn the_eleven_holidays_of_2027_and_only_them() {
        let holidays: Vec<Date> = (0..365)
            .map(|n| {
                date(2027, 1, 1)
                    .checked_add(jiff::Span::new().days(n))
                    .unwrap()
            })
            .filter(|day| is_public_holiday(*day))
            .collect();
        let expected = [
            date(2027, 1, 1),
            date(2027, 3, 29), // Lundi de Pâques
            date(2027, 5, 1),
            date(2027, 5, 6), // Ascension
            date(2027, 5, 8),
            date(2027, 5, 17), // Lundi de Pentecôte
            date(2027, 7, 14),
            date(2027, 8, 15),
            date(2027, 11, 1),
            date(2027, 11, 11),
            date(2027, 12, 25),
        ];
        assert_eq!(holidays, expected);
    }
}
