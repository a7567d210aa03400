//! What the app leaves in the browser's storage, and how a session's end wipes it.

/// Every key the app writes to browser storage starts with this.
pub const STORAGE_PREFIX: &str = "colloque.";
/// The one key that survives a logout: the language, a UI preference and not health data.
pub const KEPT_KEY: &str = "colloque.lang";

/// True for a localStorage key that may hold health data: every `colloque.*` key (the
/// outbox, drafts, cached messages) but the language preference.
pub fn is_health_key(key: &str) -> bool {
    key.starts_with(STORAGE_PREFIX) && key != KEPT_KEY
}

/// Removes every trace of the session and its health data from this browser: all of
/// sessionStorage, and every [`is_health_key`] of localStorage. Never panics: storage may be
/// disabled.
pub fn wipe_browser_storage() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(Some(storage)) = window.session_storage() {
        let _ = storage.clear();
    }
    if let Ok(Some(storage)) = window.local_storage() {
        let count = storage.length().unwrap_or(0);
        // Collect first: removing while indexing would skip keys.
        let doomed: Vec<String> = (0..count)
            .filter_map(|i| storage.key(i).ok().flatten())
            .filter(|k| is_health_key(k))
            .collect();
        for key in doomed {
            let _ = storage.remove_item(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_language_survives_among_the_apps_keys() {
        assert!(is_health_key("colloque.outbox.7"));
        assert!(is_health_key("colloque.session"));
        assert!(is_health_key("colloque.draft.7.12"));
        assert!(!is_health_key("colloque.lang"));
        assert!(!is_health_key("someone-else.key"));
    }
}
