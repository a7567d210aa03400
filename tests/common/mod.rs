//! Shared by the browser test files (`tests/messaging.rs`, `tests/security.rs`, the care
//! workflow's in `care`): a canned `fetch` and the test users.

// Each test binary uses a subset.
#![allow(dead_code)]

pub mod app;
pub mod care;

use colloque_protocol::{Role, UserId, UserProfile};
use serde_json::{Value, json};
use wasm_bindgen::JsValue;

pub const PATIENT: UserId = UserId(1);
/// An outbox key as the server sends it (URL-safe base64 of 32 bytes).
pub const OUTBOX_KEY: &str = "gr0iagkULuauxHtUp8xDt1-_uUiOygjTuHpSsWVWFeI";
/// Another user's, or the same user's after a rotation.
pub const OTHER_OUTBOX_KEY: &str = "Xl2wq8S0u6c2M0i5f3QzZk1pN3c4ZjRhYk9rM2JsZQA";
pub const DOCTOR: UserId = UserId(2);

/// Replaces `fetch`. A request is answered from `routes` by "METHOD /path?query @token" first,
/// then "METHOD /path?query"; anything else is a 404 `not_found`. Every request is logged twice:
/// in `window.__calls` as "METHOD /path?query" and in `window.__requests` with " @token"; its
/// credentials mode goes to `window.__credentials` and its body to `window.__bodies`.
pub fn install_fetch(routes: &[(&str, u16, Value)]) {
    let table: serde_json::Map<String, Value> = routes
        .iter()
        .map(|(k, status, body)| ((*k).to_owned(), json!([status, body])))
        .collect();
    let install = js_sys::Function::new_with_args(
        "routes",
        r#"
        window.__routes = JSON.parse(routes);
        window.__calls = [];
        window.__requests = [];
        window.__credentials = [];
        window.__bodies = [];
        window.fetch = function (req) {
            const url = new URL(req.url, location.href);
            const auth = (req.headers.get("authorization") || "").replace("Bearer ", "");
            const key = req.method + " " + url.pathname + url.search;
            const keyed = key + " @" + auth;
            window.__calls.push(key);
            window.__requests.push(keyed);
            window.__credentials.push(req.credentials);
            req.clone().text().then(function (body) { window.__bodies.push(key + " " + body); });
            const hit = window.__routes[keyed] || window.__routes[key];
            const [status, body] = hit || [404, {code: "not_found", message: key}];
            return Promise.resolve(new Response(status === 204 ? null : JSON.stringify(body),
                {status, headers: {"content-type": "application/json"}}));
        };
        "#,
    );
    install
        .call1(&JsValue::NULL, &Value::Object(table).to_string().into())
        .expect("install the fake fetch");
}

fn logged(name: &str) -> Vec<String> {
    let log = js_sys::Reflect::get(&web_sys::window().unwrap(), &name.into()).unwrap();
    js_sys::Array::from(&log)
        .iter()
        .filter_map(|v| v.as_string())
        .collect()
}

/// How many requests `fetch` received for "METHOD /path?query" since [`install_fetch`].
pub fn calls(key: &str) -> usize {
    logged("__calls").iter().filter(|k| *k == key).count()
}

/// Every request since [`install_fetch`], as "METHOD /path?query @token".
pub fn requests() -> Vec<String> {
    logged("__requests")
}

/// The credentials mode of every request since [`install_fetch`] ("include", "same-origin"…).
pub fn credentials() -> Vec<String> {
    logged("__credentials")
}

/// The body of every request since [`install_fetch`], as "METHOD /path?query <body>" (read
/// asynchronously: await a flush before looking).
pub fn bodies() -> Vec<String> {
    logged("__bodies")
}

pub fn profile(id: UserId, role: Role, name: &str) -> UserProfile {
    UserProfile {
        id,
        role,
        display_name: name.into(),
        speciality: None,
    }
}
