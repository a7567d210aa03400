//! End to end (issue 13): a patient on a phone chooses how she is told of a new message (the
//! account page's "Être prévenu"), and an e-mail reaches a real SMTP server (aiosmtpd on
//! loopback) when the doctor writes to her: it says only that a message waits.
//!
//! Run it through `cargo xtask test` (see `tests/e2e.rs`). Waits are bounded polls, never
//! fixed sleeps, and no test asserts a wall-clock duration.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use colloque_protocol::NOTICE_FR;
use colloque_server::notify::{NotifyConfig, Rules};
use colloque_testbed::SmtpSink;
use serde_json::json;
use std::time::Duration;
use support::{Browser, E2e};

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

/// Whether the checkbox `testid` is checked.
async fn checked(browser: &Browser, testid: &str) -> bool {
    browser.wait_testid(testid).await;
    browser
        .execute(
            "return document.querySelector(`[data-testid='${arguments[0]}']`).checked;",
            vec![json!(testid)],
        )
        .await
        .as_bool()
        .expect("a checkbox")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_chooses_her_notifications_and_gets_a_content_free_e_mail() {
    let smtp = SmtpSink::start();
    let url = smtp.url();
    let e2e = E2e::start_with("notifications", move |config| {
        config.notify = NotifyConfig {
            smtp_url: Some(url.into()),
            public_url: Some("https://colloque.example.org".into()),
            rules: Rules {
                delay_ms: 0,
                ..Rules::default()
            },
            every: Duration::from_millis(100),
            ..NotifyConfig::default()
        };
    })
    .await;
    let patient = e2e.browser(360, 740).await;
    let doctor = e2e.browser(1280, 900).await;

    // 1. Emma opens her account page: e-mail on, quiet at night (21:00–08:00) by default.
    patient.login(PATIENT).await;
    patient.goto("/patient/securite").await;
    patient.wait_testid("notifications").await;
    assert!(checked(&patient, "notify-email").await);
    assert!(checked(&patient, "notify-quiet").await);
    let hours = patient
        .execute(
            "return [document.getElementById('quiet-from').value,
                     document.getElementById('quiet-to').value];",
            vec![],
        )
        .await;
    assert_eq!(hours, json!(["21:00", "08:00"]));
    patient.screenshot("1-patient-notification-choices").await;

    // 2. She wants to hear at any hour: she unticks the quiet hours and saves; it holds after
    //    a reload.
    patient.click_testid("notify-quiet").await;
    patient.click_testid("save-notifications").await;
    patient.wait_testid("notifications-saved").await;
    assert!(
        !checked(&patient, "notify-quiet").await,
        "the box shows what she chose"
    );
    patient.screenshot("2-patient-choices-saved").await;
    patient.refresh().await;
    patient.wait_testid("notifications").await;
    assert!(!checked(&patient, "notify-quiet").await, "saved");
    assert!(checked(&patient, "notify-email").await);

    // 3. Dr Martin answers her; she has not read it: an e-mail tells her a message waits, and
    //    nothing else.
    doctor.login(DOCTOR).await;
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    let text = "Votre ferritine est basse : prenez le complément trois mois.";
    doctor.write(text).await;
    doctor.wait_message("sent", text).await;

    // (The notifier's own clock: a bound on the wait, not a timing assertion.)
    let mail = patient
        .wait_until_within(Duration::from_secs(30), || async {
            smtp.mails_to(PATIENT).into_iter().next()
        })
        .await;
    let everything = format!("{}\n{}", mail.raw, mail.body);
    for secret in [
        text,
        "ferritine",
        "Martin",
        "Emma",
        "Petit",
        "prise de sang",
    ] {
        assert!(
            !everything.contains(secret),
            "the e-mail carries {secret:?}"
        );
    }
    assert!(mail.body.contains(NOTICE_FR), "{}", mail.body);
    assert!(mail.header("list-unsubscribe").is_some());

    patient.close().await;
    doctor.close().await;
}

/// Records every notification the page shows (the real one is still shown) and tells a second
/// tab of the same origin through a `BroadcastChannel`: the first tab must stay in the
/// background, so it cannot be asked itself.
const SPY: &str = "
    const Real = window.Notification;
    const told = new BroadcastChannel('e2e-notifications');
    window.Notification = class extends Real {
        constructor(title, options) {
            super(title, options);
            told.postMessage({title, body: options && options.body, tag: options && options.tag,
                              visibility: document.visibilityState});
        }
    };";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_arriving_in_a_hidden_tab_shows_a_content_free_browser_notification() {
    let e2e = E2e::start("tab-notifications").await;
    // A patient who allowed notifications (Chromium's setting for every site).
    let allowed = json!({"profile.default_content_setting_values.notifications": 1});
    let patient = e2e.browser_with_prefs(360, 740, Some(allowed)).await;
    let doctor = e2e.browser(1280, 900).await;

    // 1. Emma's account page says this browser will tell her.
    patient.login(PATIENT).await;
    patient.goto("/patient/securite").await;
    patient
        .wait_for_element_containing(
            "[data-testid='browser-notices']",
            "Ce navigateur vous prévient",
        )
        .await;
    patient.screenshot("1-patient-browser-notices-on").await;

    // 2. She opens her messages, then another tab: Colloque is in the background.
    patient.goto("/patient/messages").await;
    patient.wait_testid("conversation-item").await;
    patient.execute(SPY, vec![]).await;
    let colloque = patient.open_tab("/404").await;
    patient
        .execute(
            "window.heard = [];
             new BroadcastChannel('e2e-notifications').onmessage = e => window.heard.push(e.data);",
            vec![],
        )
        .await;

    // 3. Dr Martin writes to her.
    doctor.login(DOCTOR).await;
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    let text = "Pensez à apporter votre carte Vitale.";
    doctor.write(text).await;
    doctor.wait_message("sent", text).await;

    // 4. The hidden tab showed one notification that says only that a message waits.
    let heard = patient
        .wait_until(|| async {
            let heard = patient.execute("return window.heard;", vec![]).await;
            heard.as_array().filter(|h| !h.is_empty()).cloned()
        })
        .await;
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0]["title"], "Colloque");
    assert_eq!(heard[0]["body"], NOTICE_FR);
    assert_eq!(heard[0]["visibility"], "hidden");
    assert!(!heard[0].to_string().contains("Vitale") && !heard[0].to_string().contains("Martin"));

    // 5. Back in Colloque, the message is there to read.
    patient.switch_to(colloque).await;
    patient
        .wait_for_element_containing("[data-testid='conversation-item']", "Claire Martin")
        .await;

    patient.close().await;
    doctor.close().await;
}
