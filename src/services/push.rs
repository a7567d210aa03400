//! Web Push, the browser's half (docs/notifications.md, "Web Push"): the service worker,
//! `static/sw.js`, which shows a push's content-free notice.

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Registers `/sw.js` (scope `/`) at start. Nothing happens where the browser has no service
/// workers (an old browser, or a page that is not a secure context: `http://` other than
/// localhost), and a failed registration only leaves the app without push notices.
pub fn register_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    let supported = js_sys::Reflect::get(&navigator, &JsValue::from_str("serviceWorker"))
        .is_ok_and(|container| !container.is_undefined() && !container.is_null());
    if !supported {
        return;
    }
    let registration = navigator.service_worker().register("/sw.js");
    // Awaited so that a refusal is not an unhandled rejection; the app works without it.
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(registration).await;
    });
}
