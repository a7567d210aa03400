//! The coarse label a session is shown with on the sessions page: the browser and the system,
//! read from the `User-Agent` at login ("Firefox · Android"). Coarse on purpose: enough for a
//! person to recognise their phone or the practice's computer, no version numbers, and the
//! `User-Agent` itself is not kept on the session.

/// Browsers, most specific first: Edge, Opera and Samsung Internet also say "Chrome", and
/// Chrome also says "Safari".
const BROWSERS: [(&str, &str); 9] = [
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
];

/// Systems, most specific first: Android and ChromeOS also say "Linux", iOS "like Mac OS X".
const SYSTEMS: [(&str, &str); 8] = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
];

/// "Browser · System", either alone when the other cannot be told, or "" when neither can.
pub fn device_label(user_agent: Option<&str>) -> String {
    let agent = user_agent.unwrap_or_default();
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(marker, _)| agent.contains(marker))
            .map(|(_, name)| *name)
    };
    let parts: Vec<&str> = [find(&BROWSERS), find(&SYSTEMS)]
        .into_iter()
        .flatten()
        .collect();
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::device_label;

    #[test]
    fn common_browsers_are_told_apart_on_their_systems() {
        for (agent, label) in [
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/124.0.0.0 Mobile Safari/537.36",
                "Chrome · Android",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari · iPhone",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
                "Edge · Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
                "Firefox · macOS",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/131.0.0.0 Safari/537.36",
                "Chrome · Linux",
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) \
                 SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
                "Samsung Internet · Android",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                 Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
                "Chrome · iPad",
            ),
        ] {
            assert_eq!(device_label(Some(agent)), label, "{agent}");
        }
    }

    #[test]
    fn what_cannot_be_told_is_left_out() {
        assert_eq!(device_label(None), "");
        assert_eq!(device_label(Some("curl/8.5.0")), "");
        assert_eq!(device_label(Some("SomeBot (Windows)")), "Windows");
        assert_eq!(device_label(Some("Firefox/125.0")), "Firefox");
    }
}
