//! End to end (issue 12): a doctor records an absence with a colleague who covers; the patient,
//! on a phone, reads it before sending; their message gets one automatic reply naming the
//! covering doctor, shown as a system line to both sides.
//!
//! Run it through `cargo xtask test` (see `tests/e2e.rs`). Waits are bounded polls for a DOM
//! condition, never fixed sleeps, and no test asserts a wall-clock duration.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::json;
use support::{Browser, E2e};

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

/// Sets a form control's value and fires `change`, as the browser does after a choice (a date
/// typed into `<input type=date>` depends on the browser's locale; the value does not).
async fn choose(browser: &Browser, testid: &str, value: &str) {
    browser.wait_testid(testid).await;
    browser
        .execute(
            "const el = document.querySelector(`[data-testid='${arguments[0]}']`);
             el.value = arguments[1];
             el.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(testid), json!(value)],
        )
        .await;
}

/// A day `YYYY-MM-DD` in Paris, `days` from today (the practice's calendar).
async fn paris_day(browser: &Browser, days: i64) -> String {
    browser
        .execute(
            "const at = new Date(Date.now() + arguments[0] * 86400000);
             return at.toLocaleDateString('sv-SE', {timeZone: 'Europe/Paris'});",
            vec![json!(days)],
        )
        .await
        .as_str()
        .expect("a day")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absence_with_a_covering_doctor_is_shown_before_sending_and_answered_automatically() {
    let e2e = E2e::start("hours").await;
    let doctor = e2e.browser(1280, 900).await;
    let patient = e2e.browser(360, 740).await;

    // 1. Dr Martin is away from yesterday to next week; Dr Durand covers.
    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/reglages").await;
    doctor.wait_testid("absence-form").await;
    let (from, to) = (paris_day(&doctor, -1).await, paris_day(&doctor, 7).await);
    choose(&doctor, "absence-from", &from).await;
    choose(&doctor, "absence-to", &to).await;
    let durand = doctor
        .execute(
            "return [...document.querySelectorAll(\"[data-testid='absence-covering'] option\")]
               .find(o => o.textContent.includes('Durand')).value;",
            vec![],
        )
        .await;
    choose(
        &doctor,
        "absence-covering",
        durand.as_str().expect("Dr Durand is a colleague"),
    )
    .await;
    doctor.click_testid("absence-add").await;
    doctor
        .wait_for_element_containing("[data-testid='absence-row']", "relais : Dr Paul Durand")
        .await;
    doctor.screenshot("1-doctor-absence-covered").await;

    // 2. Emma, on her phone, opens her exchange with Dr Martin: she reads it before sending.
    patient.login(PATIENT).await;
    patient
        .open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    let notice = patient
        .wait_for_element_containing(
            "[data-testid='absence-notice']",
            "Dr Paul Durand assure le relais",
        )
        .await;
    assert!(
        notice
            .text()
            .await
            .unwrap()
            .starts_with("Dr Claire Martin ne consulte pas ses messages jusqu’au")
    );
    patient.screenshot("2-patient-absence-before-sending").await;

    // 3. She writes: one automatic reply, a system line naming the covering doctor.
    let first = "Bonjour, puis-je avancer mon rendez-vous ?";
    patient.write(first).await;
    patient.wait_message("sent", first).await;
    patient
        .wait_for_element_containing(
            "[data-testid='system-line'][data-kind='auto_reply']",
            "Réponse automatique : Dr Claire Martin ne consulte pas ses messages",
        )
        .await;
    let second = "Merci, j'attendrai.";
    patient.write(second).await;
    patient.wait_message("sent", second).await;
    patient.screenshot("3-patient-automatic-reply").await;

    // 4. The doctor's conversation shows the same line; it is not the doctor's bubble.
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    doctor
        .wait_for_element_containing(
            "[data-testid='system-line'][data-kind='auto_reply']",
            "Dr Paul Durand assure le relais",
        )
        .await;
    doctor
        .wait_for_element_containing("[data-testid='message']", second)
        .await;
    let replies = doctor
        .texts("[data-testid='system-line'][data-kind='auto_reply']")
        .await;
    assert_eq!(replies.len(), 1, "one automatic reply a day: {replies:?}");
    doctor.screenshot("4-doctor-sees-automatic-reply").await;

    patient.close().await;
    doctor.close().await;
}
