//! End to end, the care workflow's red flags (issue 12; docs/care.md, "Red flags"): the release
//! build served by the real server (embedded SQLite, demo data, loopback), in headless Chromium
//! through ChromeDriver. A patient on a phone who writes about chest pain is offered the
//! emergency numbers before anything leaves; sent anyway, the message puts the conversation
//! first in the doctor's queue, marked urgent, until the doctor answers.
//!
//! Run through `cargo xtask test` (it builds `dist/` and installs the browser). Screenshots of
//! each step land in `COLLOQUE_E2E_OUT` (default `target/e2e/`). Waits are bounded polls, never
//! fixed sleeps.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use support::{E2e, child_testid};

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";
const URGENT_TEXT: &str = "J'ai une douleur thoracique depuis ce matin";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_writing_about_chest_pain_is_offered_the_numbers_to_call_and_the_doctor_sees_it_first()
 {
    let e2e = E2e::start("red-flag").await;
    let emma = e2e.browser(360, 740).await;
    let doctor = e2e.browser(1280, 900).await;

    // 1. Emma, on her phone, writes to Dr Martin about chest pain.
    emma.login(PATIENT).await;
    emma.open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    emma.write(URGENT_TEXT).await;

    // 2. Before anything leaves: the numbers to call, calling first.
    let screen = emma.wait_testid("red-flag-screen").await;
    assert!(
        screen
            .text()
            .await
            .unwrap()
            .contains("Votre message parle peut-être d’une urgence")
    );
    let call = emma.wait_testid("red-flag-call-15").await;
    assert_eq!(
        call.attr("href").await.unwrap().as_deref(),
        Some("tel:15"),
        "one tap dials the SAMU"
    );
    emma.wait_testid("red-flag-call-112").await;
    assert!(
        emma.find_css("[data-testid='message']").await.is_none()
            || emma
                .texts("[data-testid='message']")
                .await
                .iter()
                .all(|t| !t.contains(URGENT_TEXT)),
        "nothing sent yet"
    );
    emma.screenshot("1-patient-red-flag-screen").await;

    // 3. She sends it anyway: it is stored, marked urgent.
    emma.click_testid("red-flag-send-anyway").await;
    emma.wait_message("sent", URGENT_TEXT).await;
    assert!(
        emma.find_css("[data-testid='red-flag-screen']")
            .await
            .is_none()
    );
    emma.screenshot("2-patient-sent-anyway").await;

    // 4. Dr Martin's queue: Emma's conversation first, marked urgent, whatever the stage shown.
    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/messages").await;
    let first = doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Emma Petit")
        .await;
    let items = doctor.texts("[data-testid='conversation-item']").await;
    assert!(
        items[0].contains("Emma Petit"),
        "first in the queue: {items:?}"
    );
    let mark = child_testid(&first, "conversation-urgent")
        .await
        .expect("marked urgent");
    assert_eq!(mark.text().await.unwrap(), "Urgent");
    for stage in ["stage-new", "stage-waiting_patient"] {
        doctor.click_testid(stage).await;
        let items = doctor
            .wait_until(|| async {
                let items = doctor.texts("[data-testid='conversation-item']").await;
                items
                    .first()
                    .is_some_and(|i| i.contains("Emma Petit"))
                    .then_some(items)
            })
            .await;
        assert!(items[0].contains("Urgent"), "{stage}: {items:?}");
    }
    doctor.click_testid("stage-in_progress").await;
    doctor.screenshot("3-doctor-urgent-first").await;

    // 5. The doctor answers: the mark goes, on her screen at once.
    doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Emma Petit")
        .await
        .click()
        .await
        .expect("open Emma's conversation");
    doctor
        .write("Appelez le 15 maintenant, je préviens le cabinet.")
        .await;
    doctor
        .wait_message("sent", "Appelez le 15 maintenant")
        .await;
    doctor
        .wait_until(|| async {
            doctor
                .find_css("[data-testid='conversation-urgent']")
                .await
                .is_none()
                .then_some(())
        })
        .await;
    doctor.screenshot("4-doctor-answered").await;

    for browser in [emma, doctor] {
        browser.close().await;
    }
}
