//! Web Push, the browser's half (docs/notifications.md, "Web Push"): the service worker,
//! `static/sw.js`, which shows a push's content-free notice, and this browser's subscription.

use super::requests::request;
use super::{Api, Error, json};
use colloque_protocol::{PushKey, PushSubscription, PushSubscriptionId, PushSubscriptionRequest};
use gloo_net::http::Method;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Notification, NotificationPermission, PushSubscriptionOptionsInit, ServiceWorkerRegistration,
};

/// The service worker, at the site's root so that its scope covers the whole app.
const WORKER: &str = "/sw.js";
/// Where this browser keeps the id the server gave its subscription (wiped at logout, as
/// every `colloque.*` key but the language).
const SUBSCRIPTION_KEY: &str = "colloque.push";

/// How long the browser's push service may take to subscribe before the user is told it
/// failed: a browser that cannot reach it (no network, or none configured) may never answer,
/// and a button must not stay busy for ever.
const SUBSCRIBE_LIMIT_MS: i32 = 15_000;

/// Why this browser could not start or stop notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushError {
    /// The browser has no service workers or no Push API (or the page is not a secure context).
    Unsupported,
    /// The user (or the browser's settings) refused notifications.
    Denied,
    /// The browser's push service refused or could not be reached.
    Failed,
    /// The server refused or could not be reached.
    Api(Error),
}

/// Registers the worker at start. Nothing happens where the browser has no service workers
/// (an old browser, or a page that is not a secure context: `http://` other than localhost),
/// and a failed registration only leaves the app without push notices.
pub fn register_worker() {
    if !has("navigator", "serviceWorker") {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let registration = window.navigator().service_worker().register(WORKER);
    // Awaited so that a refusal is not an unhandled rejection; the app works without it.
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(registration).await;
    });
}

/// Whether this browser can receive Colloque's notices when no tab is open.
pub fn supported() -> bool {
    has("navigator", "serviceWorker")
        && has("window", "PushManager")
        && has("window", "Notification")
}

/// The id of this browser's subscription, when it subscribed (for the current user).
pub fn saved_id() -> Option<PushSubscriptionId> {
    let storage = web_sys::window()?.local_storage().ok()??;
    let id = storage.get_item(SUBSCRIPTION_KEY).ok()??;
    id.parse().ok().map(PushSubscriptionId)
}

fn save_id(id: Option<PushSubscriptionId>) {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let _ = match id {
        Some(id) => storage.set_item(SUBSCRIPTION_KEY, &id.to_string()),
        None => storage.remove_item(SUBSCRIPTION_KEY),
    };
}

/// Subscribes this browser, after a click: asks the permission, gets the server's key,
/// subscribes with the browser's push service, and gives the server the subscription.
pub async fn subscribe(api: &Api) -> Result<PushSubscriptionId, PushError> {
    if !supported() {
        return Err(PushError::Unsupported);
    }
    let asked = Notification::request_permission().map_err(|_| PushError::Unsupported)?;
    let _ = JsFuture::from(asked).await;
    if Notification::permission() != NotificationPermission::Granted {
        return Err(PushError::Denied);
    }
    let key: PushKey = request::<(), _>(api, Method::GET, "/push/key", &[], None)
        .await
        .map_err(PushError::Api)?;
    let registration = registration().await.ok_or(PushError::Failed)?;
    let options = PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    // A base64url string is an accepted applicationServerKey (Push API).
    options.set_application_server_key(&JsValue::from_str(&key.public_key));
    let manager = registration
        .push_manager()
        .map_err(|_| PushError::Unsupported)?;
    let subscribing = manager
        .subscribe_with_options(&options)
        .map_err(|_| PushError::Failed)?;
    let subscription = JsFuture::from(within(subscribing, SUBSCRIBE_LIMIT_MS))
        .await
        .map_err(|_| PushError::Failed)?
        .dyn_into::<web_sys::PushSubscription>()
        .map_err(|_| PushError::Failed)?;
    // JSON.stringify calls the subscription's toJSON(): the endpoint and the keys.
    let text: String = js_sys::JSON::stringify(&subscription)
        .map_err(|_| PushError::Failed)?
        .into();
    let body: PushSubscriptionRequest = json::from_str(&text).map_err(|_| PushError::Failed)?;
    let stored: PushSubscription = request(
        api,
        Method::POST,
        "/me/push-subscriptions",
        &[],
        Some(&body),
    )
    .await
    .map_err(PushError::Api)?;
    save_id(Some(stored.id));
    Ok(stored.id)
}

/// Stops this browser's notices (the account page's button).
pub async fn unsubscribe(api: &Api) -> Result<(), PushError> {
    forget(api, saved_id()).await?;
    save_id(None);
    Ok(())
}

/// Ends this browser's subscription with its push service, then deletes `id` on the server
/// (an id the server no longer knows is already stopped). At logout, with the id read before
/// the browser's storage was wiped.
pub async fn forget(api: &Api, id: Option<PushSubscriptionId>) -> Result<(), PushError> {
    unsubscribe_browser().await;
    let Some(id) = id else {
        return Ok(());
    };
    let path = format!("/me/push-subscriptions/{id}");
    match request::<(), ()>(api, Method::DELETE, &path, &[], None).await {
        Ok(()) => Ok(()),
        Err(Error::Api(e)) if e.code == colloque_protocol::ErrorCode::NotFound => Ok(()),
        Err(e) => Err(PushError::Api(e)),
    }
}

/// Ends this browser's subscription with its push service, if it has one.
async fn unsubscribe_browser() {
    let Some(registration) = registration().await else {
        return;
    };
    let Ok(manager) = registration.push_manager() else {
        return;
    };
    let Ok(getting) = manager.get_subscription() else {
        return;
    };
    let Ok(found) = JsFuture::from(getting).await else {
        return;
    };
    if let Ok(subscription) = found.dyn_into::<web_sys::PushSubscription>()
        && let Ok(ending) = subscription.unsubscribe()
    {
        let _ = JsFuture::from(ending).await;
    }
}

/// The worker's registration, once it is active (registering it again is harmless: the
/// browser answers the same registration).
async fn registration() -> Option<ServiceWorkerRegistration> {
    if !has("navigator", "serviceWorker") {
        return None;
    }
    let container = web_sys::window()?.navigator().service_worker();
    JsFuture::from(container.register(WORKER)).await.ok()?;
    let ready = JsFuture::from(container.ready().ok()?).await.ok()?;
    ready.dyn_into().ok()
}

/// `promise`, or `undefined` once `ms` have passed without it settling.
fn within(promise: js_sys::Promise, ms: i32) -> js_sys::Promise {
    let timeout = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    js_sys::Promise::race(&js_sys::Array::of2(&promise, &timeout))
}

/// Whether `global.name` exists: `navigator.serviceWorker`, `window.PushManager`.
fn has(global: &str, name: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let target: JsValue = if global == "navigator" {
        window.navigator().into()
    } else {
        window.into()
    };
    js_sys::Reflect::get(&target, &JsValue::from_str(name))
        .is_ok_and(|value| !value.is_undefined() && !value.is_null())
}
