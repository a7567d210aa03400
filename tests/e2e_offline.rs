//! End to end, issue 4's browser proofs: the API server goes away while the patient writes and
//! reloads, and when it comes back the doctor receives each message exactly once, in order;
//! and a socket that goes silent (a dead network, no close) is noticed by the heartbeat and
//! replaced.
//!
//! The app is served as it would be from a CDN (its own origin, `config.json` naming the
//! API), so the page itself still loads while the API is down. And with no network at all,
//! the app starts from the shell its service worker kept, and says that the message written
//! offline waits (issue 13).
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::json;
use support::{Browser, E2e};

const PATIENT: &str = "lucas.bernard@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";
const EMMA: &str = "emma.petit@colloque.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_offline_survive_a_reload_and_arrive_once_in_order() {
    let (e2e, mut api) = E2e::start_cdn("offline").await;
    let patient = e2e.browser(390, 844).await;
    let doctor = e2e.browser(1280, 900).await;

    // Both are in the same conversation, online.
    patient.login(PATIENT).await;
    patient
        .open_conversation_from_appointment("Claire Martin")
        .await;
    let before = "Premier message, serveur disponible.";
    patient.write(before).await;
    patient.wait_message("sent", before).await;

    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/messages").await;
    doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Lucas Bernard")
        .await
        .click()
        .await
        .expect("open the conversation");
    doctor
        .wait_for_element_containing("[data-testid='message-body']", before)
        .await;
    doctor.mark_page().await;

    // The server goes away: both apps notice.
    api.stop().await;
    for browser in [&patient, &doctor] {
        browser
            .wait_until(|| async {
                let status = browser
                    .find_css("[data-testid='connection-status']")
                    .await?;
                let state = status.attr("data-state").await.ok()??;
                (state != "online").then_some(())
            })
            .await;
    }

    // The patient writes three messages; each is kept as "sending".
    let offline = [
        "Message 1 écrit hors ligne.",
        "Message 2 écrit hors ligne.",
        "Message 3 écrit hors ligne.",
    ];
    for text in offline {
        patient.write(text).await;
        patient.wait_message("sending", text).await;
    }
    patient.screenshot("1-patient-offline-sending").await;

    // She reloads the page while the server is still down: the app comes back from the CDN
    // with her three messages still waiting in the outbox — sealed: the key to read them
    // comes with the session's first refresh, once the server answers (tests/e2e_outbox.rs
    // checks the storage itself). Meanwhile the app says that they wait.
    patient.refresh().await;
    let waiting = patient.wait_testid("outbox-waiting").await;
    let waiting = waiting.text().await.expect("the notice's text");
    assert!(waiting.contains("3 messages"), "{waiting}");
    patient.screenshot("2-patient-reloaded-still-waiting").await;

    // Logging out would wipe the outbox: the app asks first. She changes her mind, and stays
    // logged in with her three messages still waiting.
    patient.click_testid("menu-toggle").await;
    patient.click_testid("logout").await;
    let question = patient.wait_testid("logout-confirm").await;
    let question = question.text().await.expect("the question's text");
    assert!(question.contains("3 messages"), "{question}");
    patient.screenshot("2b-patient-logout-question").await;
    patient.click_testid("logout-cancel").await;
    assert!(
        patient
            .find_css("[data-testid='logout-confirm']")
            .await
            .is_none()
    );
    let waiting = patient.wait_testid("outbox-waiting").await;
    let waiting = waiting.text().await.expect("the notice's text");
    assert!(
        waiting.contains("3 messages"),
        "still logged in, still waiting: {waiting}"
    );

    // The server comes back: the key comes with the session's refresh, the outbox drains
    // and the doctor gets each message once, in order, without reloading his page.
    api.start().await;
    for text in offline {
        patient.wait_message("sent", text).await;
    }
    patient.screenshot("3-patient-all-sent").await;

    let received = doctor
        .wait_until(|| async {
            let texts = doctor.texts("[data-testid='message-body']").await;
            let offline_seen: Vec<String> = texts
                .into_iter()
                .filter(|t| offline.iter().any(|o| t.contains(o)))
                .collect();
            (offline_seen.len() >= offline.len()).then_some(offline_seen)
        })
        .await;
    assert_eq!(
        received,
        offline.map(String::from).to_vec(),
        "the doctor sees each offline message exactly once, in the order written"
    );
    doctor.assert_not_reloaded().await;
    doctor.screenshot("4-doctor-received-once-in-order").await;

    // And the patient's own view shows each of them once.
    let mine = patient.texts("[data-testid='message-body']").await;
    for text in offline {
        assert_eq!(
            mine.iter().filter(|t| t.contains(text)).count(),
            1,
            "the patient sees '{text}' exactly once"
        );
    }

    patient.close().await;
    doctor.close().await;
}

/// The network dies under a live socket: no close, no error, just silence (the proxy keeps
/// both TCP connections open and forwards nothing). Only the app's heartbeat can notice; it
/// must drop the dead socket, connect again and send what was written meanwhile, without a
/// reload. Without the heartbeat the message would stay "sending" for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_gone_silent_is_noticed_by_the_heartbeat_and_replaced() {
    let (e2e, _api, proxy) = E2e::start_cdn_with_ws_proxy("heartbeat").await;
    let patient = e2e.browser(390, 844).await;
    patient.login(PATIENT).await;
    patient
        .open_conversation_from_appointment("Claire Martin")
        .await;
    let before = "Avant la coupure.";
    patient.write(before).await;
    patient.wait_message("sent", before).await;
    patient.mark_page().await;
    let sockets_before = proxy.connections();

    proxy.freeze_open_connections();
    let during = "Écrit pendant que le réseau ne répond plus.";
    patient.write(during).await;
    patient.wait_message("sending", during).await;
    patient.screenshot("1-sending-into-silence").await;

    // The client pings every 20 s and gives up on an answer after 10 s: the bound covers that
    // and the reconnection.
    patient
        .wait_for_element_containing_within(
            std::time::Duration::from_secs(75),
            "[data-testid='message'][data-status='sent']",
            during,
        )
        .await;
    assert!(
        proxy.connections() > sockets_before,
        "a new socket replaced the silent one"
    );
    patient.assert_not_reloaded().await;
    patient.screenshot("2-sent-on-a-new-socket").await;

    // Stored once: after a reload the conversation comes from the server.
    patient.refresh().await;
    patient.wait_message("sent", during).await;
    let bodies = patient.texts("[data-testid='message-body']").await;
    assert_eq!(bodies.iter().filter(|t| t.contains(during)).count(), 1);
    patient.close().await;
}

/// DevTools' network emulation on the current tab: `offline` or not.
async fn network_offline(browser: &Browser, offline: bool) {
    browser
        .cdp(
            "Network.emulateNetworkConditions",
            json!({"offline": offline, "latency": 0, "downloadThroughput": -1,
                   "uploadThroughput": -1}),
        )
        .await;
}

/// Issue 13: with no network at all, the app starts from the shell its service worker kept,
/// and shows that the message written offline waits (sealed: the notice says only that one
/// does); when the network comes back it is sent, and shown once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_starts_offline_from_its_shell_and_shows_the_outbox() {
    let (e2e, mut api) = E2e::start_cdn("offline-outbox").await;
    let emma = e2e.browser(360, 740).await;

    // 1. Online: the first load registers the worker; the next loads go through it, which
    //    keeps the page, config.json and the files the page names.
    emma.login(EMMA).await;
    let ready = emma
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready.then(() => done(true), e => done(String(e)));",
        )
        .await;
    assert_eq!(ready, json!(true));
    emma.open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    emma.wait_until(|| async {
        let state = emma
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 const controlled = navigator.serviceWorker.controller !== null;
                 caches.open('colloque-shell-v1')
                     .then(c => c.keys())
                     .then(keys => done([controlled, keys.map(k => new URL(k.url).pathname)]),
                           e => done([controlled, []]));",
            )
            .await;
        let (controlled, kept): (bool, Vec<String>) =
            serde_json::from_value(state).unwrap_or_default();
        (controlled
            && kept.iter().any(|p| p == "/index.html")
            && kept.iter().any(|p| p == "/config.json")
            && kept.iter().any(|p| p.ends_with("_bg.wasm")))
        .then_some(())
    })
    .await;
    emma.wait_online().await;
    // A loaded page has no outbox key until something is pending and the server answers
    // (src/hooks/use_messaging.rs): without it a message written offline is held in memory
    // only, and a reload loses it. A message sent online first brings the key, as in
    // tests/e2e_outbox.rs.
    let before = "Bonjour, un message avant la coupure.";
    emma.write(before).await;
    emma.wait_message("sent", before).await;
    emma.screenshot("1-online-shell-kept").await;

    // 2. The network goes away entirely. DevTools' offline emulation fails every new request,
    //    but Chromium leaves the open WebSocket alone (seen: the app still says "online" 10 s
    //    later, until its heartbeat gives up), so the API server stops too, as the other tests here do.
    emma.cdp("Network.enable", json!({})).await;
    network_offline(&emma, true).await;
    let failed = emma
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/api/probe', {cache: 'no-store'}).then(() => done(false), () => done(true));",
        )
        .await;
    assert_eq!(failed, json!(true), "the page is offline");
    api.stop().await;
    // The emulation does not cover the service worker's own requests either (seen: without
    // the worker's fallback to its cache, the reload below still came up, from the network):
    // the app's origin goes away too.
    api.stop_site().await;
    emma.wait_until(|| async {
        let status = emma.find_css("[data-testid='connection-status']").await?;
        let state = status.attr("data-state").await.ok()??;
        (state != "online").then_some(())
    })
    .await;

    // 3. She writes: the message is kept, "sending".
    let text = "Écrit sans réseau, avant de recharger la page.";
    emma.write(text).await;
    emma.wait_message("sending", text).await;
    emma.screenshot("2-offline-sending").await;
    // Sealed into localStorage (WebCrypto is asynchronous: a reload before that would lose
    // it, as tests/e2e_outbox.rs also waits for), and not readable there.
    let stored = emma
        .wait_until(|| async {
            let found = emma
                .execute(
                    "return Object.keys(localStorage)
                         .filter(k => k.startsWith('colloque.outbox.'))
                         .map(k => localStorage.getItem(k));",
                    vec![],
                )
                .await;
            let found: Vec<String> = serde_json::from_value(found).unwrap_or_default();
            (found.len() == 1 && found[0].contains("\"sealed\"")).then_some(found)
        })
        .await;
    assert!(!stored[0].contains(text), "sealed: {stored:?}");

    // 4. She reloads with no network: the app starts from the worker's copy and says that one
    //    message waits. It cannot show the message itself yet (sealed; the key comes with the
    //    session's first refresh), and the notice says nothing of it.
    emma.refresh().await;
    let waiting = emma.wait_testid("outbox-waiting").await;
    let started = emma
        .execute("return document.getElementById('shell') === null;", vec![])
        .await;
    assert_eq!(started, json!(true), "the app took over the first screen");
    let controlled = emma
        .execute(
            "return navigator.serviceWorker.controller !== null;",
            vec![],
        )
        .await;
    assert_eq!(controlled, json!(true), "the page came from the worker");
    let notice = waiting.text().await.expect("the notice's text");
    assert!(
        notice.contains("Un message") || notice.contains("One message"),
        "one message waits: {notice}"
    );
    assert!(!notice.contains(text), "the notice is sealed: {notice}");
    let shown = emma.texts("[data-testid='message-body']").await;
    assert!(
        !shown.iter().any(|t| t.contains(text)),
        "sealed until the key comes: {shown:?}"
    );
    emma.screenshot("3-reloaded-offline-waiting").await;

    // 5. The network comes back (the emulation off, the API up; the app's origin stays down:
    //    the page has all it needs): the key comes with the session's refresh, and the
    //    message is sent, once.
    network_offline(&emma, false).await;
    api.start().await;
    emma.wait_message("sent", text).await;
    emma.wait_until(|| async {
        emma.find_css("[data-testid='outbox-waiting']")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    let mine = emma.texts("[data-testid='message-body']").await;
    assert_eq!(
        mine.iter().filter(|t| t.contains(text)).count(),
        1,
        "shown once: {mine:?}"
    );
    emma.screenshot("4-back-online-sent-once").await;

    // Stored once: after a reload (the page from the worker again) the conversation comes
    // from the server.
    emma.refresh().await;
    emma.wait_message("sent", text).await;
    let stored = emma.texts("[data-testid='message-body']").await;
    assert_eq!(stored.iter().filter(|t| t.contains(text)).count(), 1);
    emma.close().await;
}

/// A tab reloaded online has no outbox key until something is pending and the server answers
/// (docs/outbox.md): if the server is gone by then, a message written cannot be sealed into
/// the stored outbox, and lives in the page's memory only. The app says so plainly, while it
/// lasts, and the message still goes, once, when the server is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_cannot_be_kept_on_the_device_yet_says_so_and_still_goes() {
    let (e2e, mut api) = E2e::start_cdn("offline-unkept").await;
    let emma = e2e.browser(360, 740).await;
    emma.login(EMMA).await;
    emma.open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    // A reloaded tab: the session from storage, no outbox key yet.
    emma.refresh().await;
    emma.wait_testid("composer-input").await;
    emma.wait_online().await;

    api.stop().await;
    emma.wait_until(|| async {
        let status = emma.find_css("[data-testid='connection-status']").await?;
        let state = status.attr("data-state").await.ok()??;
        (state != "online").then_some(())
    })
    .await;
    let text = "Écrit pendant la coupure, avant que la clé soit venue.";
    emma.write(text).await;
    emma.wait_message("sending", text).await;
    let notice = emma.wait_testid("outbox-unkept").await;
    let words = notice.text().await.expect("the notice's text");
    assert!(
        words.contains("que dans cette page") || words.contains("in this page only"),
        "{words}"
    );
    // Indeed nothing of it is stored.
    let stored = emma
        .execute(
            "return Object.keys(localStorage).map(k => k + '=' + localStorage.getItem(k)).join('\\n');",
            vec![],
        )
        .await;
    let stored = stored.as_str().unwrap_or_default().to_owned();
    assert!(!stored.contains(text), "{stored}");
    emma.screenshot("1-kept-in-this-page-only").await;

    // Her account page is in the second build (src/second_build.rs): opening it reloads the
    // page, which would erase the message, so it waits, and says so; the message is still here.
    emma.follow_app_link("/patient/securite").await;
    emma.wait_testid("second-build-waits").await;
    emma.screenshot("1b-account-page-waits").await;

    // The server is back: the key comes, the message is kept on the device, and only then the
    // account page opens (a reload into the second build), which sends it.
    api.start().await;
    emma.wait_testid("devices").await;
    emma.open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    emma.wait_message("sent", text).await;
    emma.wait_until(|| async {
        emma.find_css("[data-testid='outbox-unkept']")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    let shown = emma.texts("[data-testid='message-body']").await;
    assert_eq!(
        shown.iter().filter(|t| t.contains(text)).count(),
        1,
        "{shown:?}"
    );
    emma.screenshot("2-sent-notice-gone").await;
    emma.close().await;
}
