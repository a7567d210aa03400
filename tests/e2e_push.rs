//! End to end (issue 13), Web Push: a push the server sent, encrypted, to a push service is
//! shown by the app's real service worker (`static/sw.js`) in Chromium, and says only that a
//! message waits.
//!
//! Headless Chromium has no push service it can reach here, so the browser cannot subscribe
//! itself: Emma's subscription is made with keys from the test's push service
//! (`colloque_testbed::PushService`, on loopback), which checks each push's VAPID token and
//! decrypts it as a browser would. The decrypted payload is then handed to Emma's service
//! worker by the DevTools protocol (`ServiceWorker.deliverPushMessage`), as Chromium's push
//! service client would after decrypting it.
//!
//! Run it through `cargo xtask test` (see `tests/e2e.rs`). Waits are bounded polls, never
//! fixed sleeps, and no test asserts a wall-clock duration.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use colloque_protocol::NOTICE_FR;
use colloque_server::notify::{NotifyConfig, Rules};
use colloque_testbed::PushService;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Browser, DEMO_PASSWORD, E2e};

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

/// Calls the API from the page as Emma, with a session of her own (`POST /api/auth/login`):
/// `method path` with `body`; answers `[status, body]`.
async fn api_as(browser: &Browser, email: &str, method: &str, path: &str, body: Value) -> Value {
    let script = "
        const [email, password, method, path, body, done] = arguments;
        (async () => {
            const login = await fetch('/api/auth/login', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({email, password})});
            const {token} = await login.json();
            const headers = {'Authorization': 'Bearer ' + token,
                             'Content-Type': 'application/json'};
            const answer = await fetch(path, {method, headers,
                body: body === null ? undefined : JSON.stringify(body)});
            const text = await answer.text();
            done([answer.status, text ? JSON.parse(text) : null]);
        })().catch(e => done(['failed', String(e)]));";
    browser
        .execute_async_with(
            script,
            vec![
                json!(email),
                json!(DEMO_PASSWORD),
                json!(method),
                json!(path),
                body,
            ],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_is_shown_by_the_service_worker_and_says_only_that_a_message_waits() {
    let push_service = PushService::start();
    let e2e = E2e::start_with("push", |config| {
        config.notify = NotifyConfig {
            public_url: Some("https://colloque.example.org".into()),
            rules: Rules {
                delay_ms: 0,
                ..Rules::default()
            },
            every: Duration::from_millis(100),
            push_allow_http_loopback: true,
            ..NotifyConfig::default()
        };
    })
    .await;
    // Emma allowed notifications (Chromium's setting for every site), on her phone.
    let allowed = json!({"profile.default_content_setting_values.notifications": 1});
    let patient = e2e.browser_with_prefs(360, 740, Some(allowed)).await;
    let doctor = e2e.browser(1280, 900).await;

    // 1. Emma logs in: the app has registered its service worker, active over the whole site.
    patient.login(PATIENT).await;
    let scope = patient
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready.then(r => done(r.scope), e => done(String(e)));",
        )
        .await;
    assert_eq!(scope, json!(format!("{}/", e2e.base_url())));

    // 2. Her account page offers this device's notifications, asking nothing before a click.
    patient.goto("/patient/securite").await;
    patient.wait_testid("push-start").await;
    patient
        .execute(
            "document.querySelector(\"[data-testid='device-push']\").scrollIntoView();",
            vec![],
        )
        .await;
    patient.screenshot("1-patient-device-notifications").await;

    // 3. Her browser's subscription (made with the test push service's keys) and her choices:
    //    push on, at any hour (the default keeps the night quiet).
    let subscription = push_service.subscribe();
    let body = json!({
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    });
    let stored = api_as(
        &patient,
        PATIENT,
        "POST",
        "/api/me/push-subscriptions",
        body,
    )
    .await;
    assert_eq!(stored[0], 201, "{stored}");
    let choices = json!({"email": false, "push": true, "quiet_hours": null});
    let saved = api_as(&patient, PATIENT, "PUT", "/api/me/notifications", choices).await;
    assert_eq!(saved[0], 200, "{saved}");

    // 4. Dr Martin writes to her; she does not read it.
    doctor.login(DOCTOR).await;
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    let text = "Votre ferritine est basse : prenez le complément trois mois.";
    doctor.write(text).await;
    doctor.wait_message("sent", text).await;

    // 5. The push service received one push for her browser, and decrypted it.
    // (The notifier's own clock: a bound on the wait, not a timing assertion.)
    let push = patient
        .wait_until_within(Duration::from_secs(30), || async {
            push_service.received_by(&subscription).into_iter().next()
        })
        .await;
    let payload = push
        .payload
        .expect("the push decrypts with the browser's keys");

    // 6. Chromium delivers it to her service worker (the first registration of a fresh
    //    profile is number 0), which shows a notification. Delivered again while none shows:
    //    the DevTools command answers before the push is dispatched, and a delivery right
    //    after `ServiceWorker.enable` was sometimes not (a notice has one tag: a second
    //    delivery replaces the first, and exactly one is asserted below).
    patient.cdp("ServiceWorker.enable", json!({})).await;
    let deliver = json!({"origin": e2e.base_url(), "registrationId": "0", "data": payload});
    let shown = patient
        .wait_until(|| async {
            patient
                .cdp("ServiceWorker.deliverPushMessage", deliver.clone())
                .await;
            let shown = patient
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     navigator.serviceWorker.ready
                         .then(r => r.getNotifications())
                         .then(list => done(list.map(n => ({title: n.title, body: n.body,
                                                            tag: n.tag, data: n.data}))),
                               e => done(String(e)));",
                )
                .await;
            shown.as_array().filter(|list| !list.is_empty()).cloned()
        })
        .await;

    // 7. It says only that a message waits, and leads into the app.
    assert_eq!(shown.len(), 1, "{shown:?}");
    let notice = &shown[0];
    assert_eq!(notice["title"], "Colloque");
    assert_eq!(notice["body"], NOTICE_FR);
    assert_eq!(notice["tag"], "colloque-message");
    // The payload's link is another origin's (the configured public URL): the worker keeps
    // its clicks inside the app it belongs to.
    assert_eq!(
        notice["data"],
        json!({"url": format!("{}/", e2e.base_url())})
    );
    let everything = format!("{payload}\n{notice}");
    for secret in [text, "ferritine", "Martin", "Claire", "Emma", "Petit"] {
        assert!(
            !everything.contains(secret),
            "the notice carries {secret:?}"
        );
    }

    // 8. Here the browser has no push service to subscribe with: the control says so in plain
    //    words. (After the delivery above: with this subscription attempt still pending, the
    //    delivered push was not shown in 2 runs out of 3; the cause is not known.)
    patient.click_testid("push-start").await;
    patient
        .wait_for_element_containing_within(
            Duration::from_secs(40),
            "[data-testid='push-status'][role='alert']",
            "n’ont pas pu être activées",
        )
        .await;
    patient.screenshot("2-patient-no-push-service").await;

    // 9. "Arrêter sur cet appareil" deletes the subscription this browser keeps the id of.
    let id = &stored[1]["id"];
    patient
        .execute(
            "localStorage.setItem('colloque.push', String(arguments[0]));",
            vec![id.clone()],
        )
        .await;
    patient.refresh().await;
    patient.click_testid("push-stop").await;
    patient.wait_testid("push-start").await;
    let left = api_as(
        &patient,
        PATIENT,
        "GET",
        "/api/me/push-subscriptions",
        Value::Null,
    )
    .await;
    assert_eq!(left, json!([200, []]));
    let kept = patient
        .execute("return localStorage.getItem('colloque.push');", vec![])
        .await;
    assert_eq!(kept, Value::Null);

    patient.close().await;
    doctor.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_starts_without_network_from_the_shell_its_worker_kept() {
    let e2e = E2e::start("offline-shell").await;
    let patient = e2e.browser(360, 740).await;

    // 1. A first visit registers the worker; the next load goes through it, which keeps the
    //    page and the files it names.
    patient.goto("/login").await;
    patient.wait_testid("login-email").await;
    let controlled = patient
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready.then(() => done(true), e => done(String(e)));",
        )
        .await;
    assert_eq!(controlled, json!(true));
    patient.refresh().await;
    patient.wait_testid("login-email").await;
    patient
        .wait_until(|| async {
            let kept = patient
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     caches.open('colloque-shell-v1')
                         .then(c => c.keys())
                         .then(keys => done(keys.map(k => new URL(k.url).pathname)),
                               e => done([]));",
                )
                .await;
            let kept: Vec<String> = serde_json::from_value(kept).unwrap_or_default();
            (kept.iter().any(|p| p == "/index.html")
                && kept.iter().any(|p| p.ends_with("_bg.wasm")))
            .then_some(())
        })
        .await;

    // 2. No network at all: the app still starts, on its login page.
    patient.cdp("Network.enable", json!({})).await;
    patient
        .cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": true, "latency": 0, "downloadThroughput": -1,
                   "uploadThroughput": -1}),
        )
        .await;
    let failed = patient
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/api/probe', {cache: 'no-store'}).then(() => done(false), () => done(true));",
        )
        .await;
    assert_eq!(failed, json!(true), "the page is offline");
    patient.refresh().await;
    patient.wait_testid("login-email").await;
    let started = patient
        .execute("return document.getElementById('shell') === null;", vec![])
        .await;
    assert_eq!(started, json!(true), "the app took over the first screen");

    patient.close().await;
}
