//! End to end, accessibility (issue 12): axe-core, the engine behind most accessibility
//! checkers, runs on every screen of the release build — the patient's on a 360 px phone, the
//! doctor's at 1280 px — and must find no serious or critical violation (WCAG 2.x A and AA
//! rules, axe's best practices, and its experimental label-in-name rule, WCAG 2.5.3).
//!
//! axe-core is installed from npm into `.tools/` by `cargo xtask`, which passes its path in
//! `COLLOQUE_AXE`. The script is run through WebDriver, with each screen in the state a user
//! sees it (data loaded, conversation open, dialogs shown). Waits are bounded polls.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use support::axe::{axe_source, serious_violations};
use support::{Browser, E2e};

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

/// Checks the current screen; collects what axe found under `name`.
async fn check(browser: &Browser, axe: &str, name: &str, found: &mut Vec<String>) {
    browser.screenshot(name).await;
    for violation in serious_violations(browser, axe).await {
        found.push(format!("{name}: {violation}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_serious_or_critical_violation_on_any_screen() {
    let axe = axe_source();
    let e2e = E2e::start("a11y").await;
    let mut found = Vec::new();

    // The patient, on a phone.
    let patient = e2e.browser(360, 740).await;
    patient.goto("/login").await;
    patient.wait_testid("login-email").await;
    check(&patient, &axe, "patient-login", &mut found).await;
    patient.login(PATIENT).await;
    for (path, ready, name) in [
        (
            "/patient",
            "[data-testid='messaging-button']",
            "patient-dashboard",
        ),
        (
            "/patient/rendez-vous",
            "[data-testid='appointment-card']",
            "patient-appointments",
        ),
        (
            "/patient/equipe",
            "[data-testid='messaging-button']",
            "patient-care-team",
        ),
        (
            "/patient/messages",
            "[data-testid='conversation-item']",
            "patient-messages",
        ),
        (
            "/patient/securite",
            "[data-testid='device']",
            "patient-security",
        ),
    ] {
        patient.goto(path).await;
        patient.wait_for_element_containing(ready, "").await;
        check(&patient, &axe, name, &mut found).await;
    }
    patient
        .open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    check(&patient, &axe, "patient-conversation", &mut found).await;
    patient.write("J'ai une douleur thoracique").await;
    patient.wait_testid("red-flag-screen").await;
    check(&patient, &axe, "patient-red-flag-screen", &mut found).await;
    patient.click_testid("red-flag-edit").await;

    // The doctor, at a desk.
    let doctor = e2e.browser(1280, 900).await;
    doctor.login(DOCTOR).await;
    for (path, ready, name) in [
        (
            "/medecin/messages",
            "[data-testid='conversation-item']",
            "doctor-inbox",
        ),
        (
            "/medecin/patients",
            "[data-testid='messaging-button']",
            "doctor-patients",
        ),
        (
            "/medecin/reglages",
            "[data-testid='intake-form']",
            "doctor-settings",
        ),
        (
            "/medecin/securite",
            "[data-testid='device']",
            "doctor-security",
        ),
    ] {
        doctor.goto(path).await;
        doctor.wait_for_element_containing(ready, "").await;
        check(&doctor, &axe, name, &mut found).await;
    }
    doctor.goto("/medecin/messages").await;
    doctor.click_testid("stage-in_progress").await;
    doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Emma Petit")
        .await
        .click()
        .await
        .expect("open the conversation");
    doctor.wait_testid("composer-input").await;
    check(&doctor, &axe, "doctor-conversation", &mut found).await;

    assert!(
        found.is_empty(),
        "axe-core found serious or critical violations:\n{}",
        found.join("\n")
    );
    for browser in [patient, doctor] {
        browser.close().await;
    }
}
