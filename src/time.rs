//! Local-time rendering through the browser's `Date` (no chrono: it would cost bytes).

use crate::i18n::Lang;
use colloque_protocol::Timestamp;

fn date(ts: Timestamp) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts.0 as f64))
}

/// "14:05" in the user's time zone.
pub fn time_of_day(ts: Timestamp, lang: Lang) -> String {
    let d = date(ts);
    let opts = js_sys::Object::new();
    set(&opts, "hour", "2-digit");
    set(&opts, "minute", "2-digit");
    d.to_locale_time_string_with_options(lang.locale(), &opts)
        .into()
}

/// "mardi 3 mars 2026, 14:05" in the user's time zone.
pub fn date_time(ts: Timestamp, lang: Lang) -> String {
    let d = date(ts);
    let opts = js_sys::Object::new();
    set(&opts, "weekday", "long");
    set(&opts, "day", "numeric");
    set(&opts, "month", "long");
    set(&opts, "year", "numeric");
    set(&opts, "hour", "2-digit");
    set(&opts, "minute", "2-digit");
    d.to_locale_string(lang.locale(), &opts).into()
}

/// A message's stamp: "14:05" today, "22 nov., 14:05" on an earlier day (with the year when
/// it is not this year), so an old message never passes for one of today.
pub fn message_stamp(ts: Timestamp, lang: Lang) -> String {
    let d = date(ts);
    let today = js_sys::Date::new_0();
    if d.to_date_string() == today.to_date_string() {
        return time_of_day(ts, lang);
    }
    let opts = js_sys::Object::new();
    set(&opts, "day", "numeric");
    set(&opts, "month", "short");
    if d.get_full_year() != today.get_full_year() {
        set(&opts, "year", "numeric");
    }
    set(&opts, "hour", "2-digit");
    set(&opts, "minute", "2-digit");
    d.to_locale_string(lang.locale(), &opts).into()
}

/// A short stamp for lists: the time if today, the date otherwise.
pub fn short_stamp(ts: Timestamp, lang: Lang) -> String {
    let d = date(ts);
    let today = js_sys::Date::new_0();
    if d.to_date_string() == today.to_date_string() {
        time_of_day(ts, lang)
    } else {
        let opts = js_sys::Object::new();
        set(&opts, "day", "numeric");
        set(&opts, "month", "short");
        d.to_locale_date_string(lang.locale(), &opts).into()
    }
}

/// "14 mai 2027" from a day `2027-05-14` (a civil date: no time zone moves it); the text
/// itself if it is not one.
pub fn civil_day(text: &str, lang: Lang) -> String {
    let mut parts = text.split('-').map(|part| part.parse::<u32>().ok());
    let (Some(Some(year)), Some(Some(month)), Some(Some(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return text.to_owned();
    };
    let d = js_sys::Date::new_with_year_month_day(year, month as i32 - 1, day as i32);
    let opts = js_sys::Object::new();
    set(&opts, "day", "numeric");
    set(&opts, "month", "long");
    set(&opts, "year", "numeric");
    d.to_locale_date_string(lang.locale(), &opts).into()
}

/// Now, in milliseconds since the epoch.
pub fn now() -> Timestamp {
    Timestamp(js_sys::Date::now() as i64)
}

fn set(obj: &js_sys::Object, key: &str, value: &str) {
    // Setting a plain property on a fresh object cannot fail.
    let _ = js_sys::Reflect::set(obj, &key.into(), &value.into());
}
