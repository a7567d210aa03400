//! End to end, the honest status of a patient's message (issue 12; docs/protocol.md,
//! "Receipts"): the release build served by the real server (embedded SQLite, demo data,
//! loopback; the WebSocket through a proxy whose connections can go silent), in headless
//! Chromium through ChromeDriver. One message of Emma's, on her phone, climbs Envoyé → Reçu →
//! Lu à HH:MM → Traité, each step moved by what Dr Martin's app really does: its socket comes
//! back and catches up (received), he opens the conversation (read), he closes it (done).
//!
//! Run through `cargo xtask test` (it builds `dist/` and installs the browser). Screenshots of
//! each step land in `COLLOQUE_E2E_OUT` (default `target/e2e/`): the patient at 360 px, the
//! doctor at 1280 px. Waits are bounded polls, never fixed sleeps.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::json;
use std::time::Duration;
use support::axe::{axe_source, serious_violations};
use support::{Browser, E2e};

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";
const TEXT: &str = "Ma tension ce matin : 15/9, est-ce normal ?";

/// The step shown under Emma's message, `(data-step, words)`, if it is shown.
async fn step_of(browser: &Browser) -> Option<(String, String)> {
    let found = browser
        .execute(
            "for (const li of document.querySelectorAll(\"[data-testid='message']\")) {
                 if (!li.textContent.includes(arguments[0])) continue;
                 const step = li.querySelector(\"[data-testid='message-step']\");
                 return step ? [step.getAttribute('data-step'), step.textContent] : null;
             }
             return null;",
            vec![json!(TEXT)],
        )
        .await;
    let found = found.as_array()?;
    Some((
        found.first()?.as_str()?.to_owned(),
        found.get(1)?.as_str()?.to_owned(),
    ))
}

/// The words of the step under Emma's message, once it is `step`. The bound covers the
/// doctor's app noticing its dead socket (a ping every 20 s, 10 s for the answer).
async fn wait_step(browser: &Browser, step: &str) -> String {
    browser
        .wait_until_within(Duration::from_secs(75), || async {
            let (now, words) = step_of(browser).await?;
            (now == step).then_some(words)
        })
        .await
}

/// Records, in the page, every step the message shows, in order (a step that lasted less
/// than a screenshot is still seen).
const RECORD_STEPS: &str = "
    window.__steps = [];
    const note = () => {
        for (const li of document.querySelectorAll(\"[data-testid='message']\")) {
            if (!li.textContent.includes(arguments[0])) continue;
            const step = li.querySelector(\"[data-testid='message-step']\");
            const now = step && step.getAttribute('data-step');
            if (now && window.__steps[window.__steps.length - 1] !== now) window.__steps.push(now);
        }
    };
    new MutationObserver(note).observe(document.body,
        {subtree: true, childList: true, characterData: true, attributes: true});
    return true;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_patient_message_climbs_sent_received_read_and_done() {
    let (e2e, _api, proxy) = E2e::start_cdn_with_ws_proxy("ladder").await;
    let doctor = e2e.browser(1280, 900).await;
    let emma = e2e.browser(360, 740).await;

    // 1. Dr Martin has read Emma's conversation, then moved on to his patients' list: his app
    //    keeps the conversation. Then his network dies under the socket (no close).
    doctor.login(DOCTOR).await;
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    doctor.wait_testid("message-body").await;
    doctor.click_css("a[href='/medecin/patients']").await;
    doctor
        .wait_until(|| async {
            let path = doctor.execute("return location.pathname;", vec![]).await;
            (path == json!("/medecin/patients")).then_some(())
        })
        .await;
    doctor.mark_page().await;
    doctor.wait_online().await;
    proxy.freeze_open_connections();

    // 2. Emma writes from her phone: stored, and nothing more yet (Envoyé).
    emma.login(PATIENT).await;
    emma.open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    emma.execute(RECORD_STEPS, vec![json!(TEXT)]).await;
    emma.write(TEXT).await;
    emma.wait_message("sent", TEXT).await;
    // Unless the doctor's app came back already (it takes 10 to 30 s to notice): the steps
    // seen are recorded anyway.
    if let Some((step, words)) = step_of(&emma).await
        && step == "sent"
    {
        assert_eq!(words, "Envoyé");
        emma.screenshot("1-patient-envoye").await;
    }

    // 3. The doctor's app notices its silent socket, connects again, catches up on Emma's
    //    conversation and says it holds her message: Reçu, though nobody read it.
    assert_eq!(wait_step(&emma, "received").await, "Reçu");
    emma.screenshot("2-patient-recu").await;
    doctor.assert_not_reloaded().await;
    doctor.screenshot("2-doctor-elsewhere").await;

    // 4. He opens the conversation: Lu, at the time his read cursor moved.
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    doctor
        .wait_for_element_containing("[data-testid='message-body']", TEXT)
        .await;
    doctor.screenshot("3-doctor-reads").await;
    let read = wait_step(&emma, "read").await;
    assert!(read.starts_with("Lu à "), "{read}");
    assert!(
        read.chars().any(|c| c.is_ascii_digit()),
        "with the time: {read}"
    );
    emma.screenshot("3-patient-lu").await;

    // 5. He closes the exchange: Traité.
    doctor.click_testid("close-conversation").await;
    doctor
        .wait_testid("close-reason")
        .await
        .send_keys("Tension à recontrôler dans une semaine")
        .await
        .expect("type the reason");
    doctor.click_testid("close-confirm").await;
    doctor.wait_testid("closed-notice").await;
    doctor.screenshot("4-doctor-closed").await;
    assert_eq!(wait_step(&emma, "done").await, "Traité");
    emma.screenshot("4-patient-traite").await;

    // Every step, in order, none skipped nor guessed: the page saw each one.
    let steps = emma.execute("return window.__steps;", vec![]).await;
    assert_eq!(steps, json!(["sent", "received", "read", "done"]));

    // The status is words a screen reader reads, and the screen passes axe.
    let violations = serious_violations(&emma, &axe_source()).await;
    assert!(violations.is_empty(), "axe: {violations:?}");

    for browser in [emma, doctor] {
        browser.close().await;
    }
}
