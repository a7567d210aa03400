//! The doctor's screens, and the account and documents pages of both roles, are a second build
//! of the app (README, "Layout"): the first-load build (`index.html`, what a patient and the
//! login page load) is compiled without the `second-build` feature, so none of those pages is in its
//! wasm; the second build (`medecin.html`, `--features second-build`) has every page, and the server
//! sends it for the paths of [`colloque_protocol::SECOND_BUILD_PATHS`]. A doctor who logs in,
//! or a patient who opens her account, on the first-load build reaches such a route, which
//! reloads the page: the second build starts on it, with the session the first one saved in
//! sessionStorage. Once there, the tab stays in the second build.
//!
//! A session on a shared computer is not saved ([`Session::shared`]): for that one reload it
//! is handed over under [`HANDOFF_KEY`] in this tab's sessionStorage, which the second build
//! reads and removes as it starts ([`take_handoff`]).
//!
//! The login's second step (two-step verification, which only doctors reach in the app) is in
//! the second build too: when the password was right for an account with it, the first-load
//! build hands the server's challenge over the same way, under [`CHALLENGE_KEY`]
//! ([`hand_over_challenge`]), and goes to `/login/code`, where the second build takes it
//! ([`take_challenge`]).
//!
//! The reload waits while it would cost the user a message or the page ([`LoadSecondBuild`]).

use crate::session::Session;
use gloo_storage::{SessionStorage, Storage};

/// A shared computer's session, between the first-load build and the second.
pub const HANDOFF_KEY: &str = "colloque.handoff";
// The name from before the build was called the second build, kept: a tab open across the
// deployment still finds its flag.
/// The path the first-load build reloaded for: if the same build comes back on it, the server
/// did not send the second build (`trunk serve` without `--features second-build`), and reloading
/// again would loop.
const RELOADED_KEY: &str = "colloque.doctor-build";

/// A login's second-step challenge (five minutes long, worth nothing without the code), with the
/// shared-computer choice made with the password, between the first-load build and the second.
pub const CHALLENGE_KEY: &str = "colloque.login-challenge";

/// Hands a login's second step to the second build (`/login/code`): `1` or `0` for the
/// shared-computer choice, then the challenge.
#[cfg(not(feature = "second-build"))]
pub fn hand_over_challenge(challenge: &str, shared: bool) {
    let value = format!("{}{challenge}", u8::from(shared));
    let _ = SessionStorage::raw().set_item(CHALLENGE_KEY, &value);
}

/// The second step handed over by the first-load build (the challenge and the shared-computer
/// choice), removed from storage at once.
#[cfg(feature = "second-build")]
pub fn take_challenge() -> Option<(String, bool)> {
    let storage = SessionStorage::raw();
    let value = storage.get_item(CHALLENGE_KEY).ok()??;
    let _ = storage.remove_item(CHALLENGE_KEY);
    let (shared, challenge) = value.split_at_checked(1)?;
    (!challenge.is_empty()).then(|| (challenge.to_owned(), shared == "1"))
}

/// The shared session handed over by the first-load build, removed from storage at once.
pub fn take_handoff() -> Option<Session> {
    let storage = SessionStorage::raw();
    let text = storage.get_item(HANDOFF_KEY).ok()??;
    let _ = storage.remove_item(HANDOFF_KEY);
    let mut session: Session = crate::services::json::from_str(&text).ok()?;
    session.shared = true;
    (session.expires_at > crate::time::now()).then_some(session)
}

/// The second build has started: a later second-build route of a first-load build in this tab
/// may reload again.
pub fn arrived() {
    let _ = SessionStorage::raw().remove_item(RELOADED_KEY);
}

#[cfg(not(feature = "second-build"))]
pub use first_load::LoadSecondBuild;

#[cfg(not(feature = "second-build"))]
mod first_load {
    use super::*;
    use crate::components::error_view::Loading;
    use crate::components::layout::Layout;
    use crate::hooks::use_messaging;
    use crate::hooks::use_messaging::MessageStatus;
    use crate::i18n::{Key, use_i18n};
    use crate::pages::not_found::NotFound;
    use crate::session::use_session;
    use yew::prelude::*;

    /// What holds the reload back, if anything.
    #[derive(Clone, Copy, PartialEq)]
    enum Wait {
        /// A message written here is not in the stored outbox yet (no key, being sealed, or a
        /// shared computer, which stores none while it is still being sent), or waits for a
        /// file being uploaded here: the reload would erase it, or send it without the file.
        Messages,
        /// The browser is offline: the second build's page may not be kept by the service
        /// worker yet, and the tab would show the browser's error instead of the app.
        Offline,
    }

    /// A route of the second build in the first-load build: reloads the page, which the
    /// server answers with the second build. Shows "loading" meanwhile, or "not found" if the
    /// same build came back. Waits, and says why, while the reload would lose a message or the
    /// page ([`Wait`]); it goes by itself once that is over.
    #[component]
    pub fn LoadSecondBuild() -> Html {
        let session = use_session();
        let i18n = use_i18n();
        let messaging = use_messaging();
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        // Decided once, at mount: the effect below removes the mark, and later renders (every
        // messaging change) must not read its absence as "go".
        let came_back = *use_state(|| {
            SessionStorage::raw()
                .get_item(RELOADED_KEY)
                .ok()
                .flatten()
                .as_deref()
                == Some(&path)
        });
        let shared = session.session().filter(|s| s.shared).cloned();
        let held = messaging.outbox_unkept
            || messaging.outbox_sealing
            || messaging.pending.values().any(|p| {
                p.status == MessageStatus::Sending && (shared.is_some() || !p.awaiting.is_empty())
            });
        let online = web_sys::window().is_none_or(|w| w.navigator().on_line());
        let wait = if held {
            Some(Wait::Messages)
        } else if !online {
            Some(Wait::Offline)
        } else {
            None
        };
        use_effect_with(wait, move |wait| {
            if came_back {
                let _ = SessionStorage::raw().remove_item(RELOADED_KEY);
                return;
            }
            if wait.is_some() {
                return;
            }
            if let Some(session) = shared {
                let _ = SessionStorage::set(HANDOFF_KEY, &session);
            }
            let _ = SessionStorage::raw().set_item(RELOADED_KEY, &path);
            if let Some(window) = web_sys::window() {
                let _ = window.location().reload();
            }
        });
        let notice = |key: Key| {
            html! {
                <Layout>
                    <p class="notice" role="status" data-testid="second-build-waits">
                        { i18n.t(key) }
                    </p>
                </Layout>
            }
        };
        match (came_back, wait) {
            (true, _) => html! { <NotFound /> },
            (false, Some(Wait::Messages)) => notice(Key::SecondBuildWaits),
            (false, Some(Wait::Offline)) => notice(Key::SecondBuildOffline),
            (false, None) => html! { <Loading /> },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CHALLENGE_KEY;

    /// static/shell.js hides the static password form when a second step was handed over: it
    /// must read the key this module writes.
    #[test]
    fn the_static_shell_reads_the_handed_over_challenge_s_key() {
        crate::shell::assert_static_script_says(&format!(
            "sessionStorage.getItem(\"{CHALLENGE_KEY}\")"
        ));
    }
}
