//! The static first screen. index.html carries a copy of the login form, styled by
//! static/app.css, so the page shows it at its first paint, before the wasm has even loaded.
//! When the app has rendered its own screen it takes over: what the user typed into the copy
//! (and where the caret was, and the shared-computer choice) moves into the app's form, then
//! the copy is removed, in one step with no paint between. Until then, static/app.css hides
//! what the app renders.

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

/// The static copy's fields and the app's fields they become (src/pages/login.rs).
const CARRIED: [(&str, &str); 2] = [
    ("shell-email", "login-email"),
    ("shell-password", "login-password"),
];

/// Moves what was typed into the static form over to the app's, and removes the static copy.
/// Does nothing when there is none (the tests mount the app into an empty page).
pub fn take_over() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(shell) = document.get_element_by_id("shell") else {
        return;
    };
    let input = |id: &str| {
        document
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
    };
    let focused = document.active_element().map(|e| e.id());
    if let (Some(from), Some(to)) = (input("shell-shared"), input("login-shared")) {
        to.set_checked(to.checked() || from.checked());
        if focused.as_deref() == Some("shell-shared") {
            let _ = to.focus();
        }
    }
    for (from, to) in CARRIED {
        let (Some(from_input), Some(to_input)) = (input(from), input(to)) else {
            continue;
        };
        let typed = from_input.value();
        if !typed.is_empty() && to_input.value().is_empty() {
            to_input.set_value(&typed);
        }
        if focused.as_deref() == Some(from) {
            let _ = to_input.focus();
        }
    }
    shell.remove();
}

/// Fails unless static/shell.js, the static script that runs before the app, says `line`:
/// for the storage keys it reads, which the app writes from Rust (a static script cannot
/// import them), so each is written twice.
#[cfg(test)]
pub(crate) fn assert_static_script_says(line: &str) {
    assert!(
        include_str!("../static/shell.js").contains(line),
        "static/shell.js should say {line}"
    );
}
