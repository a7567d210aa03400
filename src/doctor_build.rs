//! The doctor's screens are a second build of the app (README, "Layout"): the first-load build
//! (`index.html`, what a patient and the login page load) is compiled without the `doctor`
//! feature, so none of the doctor's pages, queue or triage controls is in its wasm; the
//! doctor's build (`medecin.html`, `--features doctor`) has everything, and the server sends it
//! for every `/medecin/…` path. A doctor who logs in on the first-load build reaches a
//! `/medecin/…` route, which reloads the page: the doctor's build starts on it, with the
//! session the first one saved in sessionStorage.
//!
//! A session on a shared computer is not saved ([`Session::shared`]): for that one reload it
//! is handed over under [`HANDOFF_KEY`] in this tab's sessionStorage, which the doctor's build
//! reads and removes as it starts ([`take_handoff`]).

use crate::session::Session;
use gloo_storage::{SessionStorage, Storage};

/// A shared computer's session, between the first-load build and the doctor's.
pub const HANDOFF_KEY: &str = "colloque.handoff";
/// The path the first-load build reloaded for: if the same build comes back on it, the server
/// did not send the doctor's build (`trunk serve` without `--features doctor`), and reloading
/// again would loop.
const RELOADED_KEY: &str = "colloque.doctor-build";

/// The shared session handed over by the first-load build, removed from storage at once.
pub fn take_handoff() -> Option<Session> {
    let storage = SessionStorage::raw();
    let text = storage.get_item(HANDOFF_KEY).ok()??;
    let _ = storage.remove_item(HANDOFF_KEY);
    let mut session: Session = crate::services::json::from_str(&text).ok()?;
    session.shared = true;
    (session.expires_at > crate::time::now()).then_some(session)
}

/// The doctor's build has started: a later `/medecin/…` route of a first-load build in this
/// tab may reload again.
pub fn arrived() {
    let _ = SessionStorage::raw().remove_item(RELOADED_KEY);
}

#[cfg(not(feature = "doctor"))]
pub use first_load::LoadDoctorBuild;

#[cfg(not(feature = "doctor"))]
mod first_load {
    use super::*;
    use crate::components::error_view::Loading;
    use crate::pages::not_found::NotFound;
    use crate::session::use_session;
    use yew::prelude::*;

    /// A `/medecin/…` route in the first-load build: reloads the page, which the server
    /// answers with the doctor's build. Shows "loading" meanwhile, or "not found" if the same
    /// build came back.
    #[component]
    pub fn LoadDoctorBuild() -> Html {
        let session = use_session();
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        let storage = SessionStorage::raw();
        let came_back = storage.get_item(RELOADED_KEY).ok().flatten().as_deref() == Some(&path);
        let shared = session.session().filter(|s| s.shared).cloned();
        use_effect_with((), move |_| {
            if came_back {
                let _ = SessionStorage::raw().remove_item(RELOADED_KEY);
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
        if came_back {
            html! { <NotFound /> }
        } else {
            html! { <Loading /> }
        }
    }
}
