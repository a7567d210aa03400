//! End to end, the typing indicator (issue 12; docs/protocol.md, "typing"): Dr Martin writes
//! an answer at his desk and Emma, on her phone, sees that he is writing; his message arrives
//! and the indicator goes. Then she chooses, on her account page, not to show her own writing,
//! and the choice holds after a reload. (That the server then drops her `typing` frames, on
//! one instance or a cluster, is proved by `crates/server/tests/api/typing.rs` and
//! `tests/cluster/typing.rs`: an absence is better proved by a frame that never comes than by
//! a wait in a browser.)
//!
//! Run it through `cargo xtask test` (see `tests/e2e.rs`). Waits are bounded polls, never
//! fixed sleeps.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::json;
use support::E2e;

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_sees_her_doctor_writing_until_his_answer_arrives() {
    let e2e = E2e::start("typing").await;
    let doctor = e2e.browser(1280, 900).await;
    let emma = e2e.browser(360, 740).await;

    emma.login(PATIENT).await;
    emma.open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    emma.wait_online().await;
    doctor.login(DOCTOR).await;
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    doctor.wait_online().await;

    // 1. He starts his answer (typed, not sent): she sees him writing.
    let answer = "Bonjour Emma, vos résultats sont normaux.";
    doctor
        .wait_testid("composer-input")
        .await
        .send_keys("Bonjour Emma, vos")
        .await
        .expect("type into the composer");
    let shown = emma.wait_testid("writing").await;
    let words = shown.text().await.expect("the indicator's text");
    assert!(
        words.contains("Claire Martin") && words.contains("écrit"),
        "{words}"
    );
    emma.screenshot("1-patient-sees-doctor-writing").await;
    assert!(
        doctor.find_css("[data-testid='writing']").await.is_none(),
        "he is not shown his own writing"
    );

    // 2. He sends it: the message arrives and the indicator goes at once (not after its 7 s).
    doctor
        .wait_testid("composer-input")
        .await
        .send_keys(" résultats sont normaux.")
        .await
        .expect("type the rest");
    doctor.click_testid("composer-send").await;
    emma.wait_message("sent", answer).await;
    emma.wait_until(|| async {
        emma.find_css("[data-testid='writing']")
            .await
            .is_none()
            .then_some(())
    })
    .await;
    emma.screenshot("2-patient-got-the-answer").await;

    // 3. She would rather not show her own writing: one tick on her account page, saved, and
    //    still so after a reload.
    emma.goto("/patient/securite").await;
    emma.wait_testid("typing-setting").await;
    let checked = || async {
        emma.wait_testid("share-typing").await;
        emma.execute(
            "return document.querySelector(\"[data-testid='share-typing']\").checked;",
            vec![],
        )
        .await
    };
    assert_eq!(checked().await, json!(true), "shown by default");
    emma.click_testid("share-typing").await;
    emma.wait_testid("typing-saved").await;
    assert_eq!(checked().await, json!(false));
    emma.screenshot("3-patient-hides-her-writing").await;
    emma.refresh().await;
    emma.wait_testid("typing-setting").await;
    assert_eq!(checked().await, json!(false), "saved");

    emma.close().await;
    doctor.close().await;
}
