//! End to end (issue 12, reply templates): a doctor writes a template with variables on the
//! Modèles de réponse page, inserts it in Emma's conversation in two keystrokes (`/`, then
//! `1`) with its variables filled — her name, her next appointment as the patient panel shows
//! it, the doctor's name — sends it citing the template, and Emma, on her phone, receives it.
//! axe-core checks the templates page and the open picker.
//!
//! Run it through `cargo xtask test` (see `tests/e2e.rs`). Waits are bounded polls for a DOM
//! condition, never fixed sleeps, and no test asserts a wall-clock duration.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use serde_json::{Value, json};
use support::axe::{axe_source, serious_violations};
use support::{Browser, E2e};

const PATIENT: &str = "emma.petit@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";
const BODY: &str = "Bonjour {prénom} {nom}, je vous confirme votre rendez-vous : {date_rdv}. Bien à vous, {médecin}";

/// The composer's text as the app holds it.
async fn composer_text(browser: &Browser) -> String {
    browser
        .execute(
            "return document.querySelector(\"[data-testid='composer-input']\").value;",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_is_inserted_in_two_keystrokes_with_its_variables_filled_and_received() {
    let axe = axe_source();
    let e2e = E2e::start("templates").await;
    let doctor = e2e.browser(1280, 900).await;
    let patient = e2e.browser(360, 740).await;
    let mut violations = Vec::new();

    // 1. Dr Martin writes a template on its page, reached from the navigation.
    doctor.login(DOCTOR).await;
    doctor.goto("/medecin/messages").await;
    doctor
        .wait_for_element_containing("nav a", "Modèles de réponse")
        .await
        .click()
        .await
        .expect("the navigation leads to the templates");
    doctor
        .wait_testid("template-title")
        .await
        .send_keys("Confirmation du rendez-vous")
        .await
        .expect("type the title");
    doctor
        .wait_testid("template-text")
        .await
        .send_keys(BODY)
        .await
        .expect("type the text");
    doctor.click_testid("template-save").await;
    doctor
        .wait_for_element_containing(
            "[data-testid='template-row']",
            "Confirmation du rendez-vous",
        )
        .await;
    doctor.wait_testid("template-saved").await;
    doctor.screenshot("1-doctor-template-written").await;
    for v in serious_violations(&doctor, &axe).await {
        violations.push(format!("templates page: {v}"));
    }

    // 2. In Emma's conversation: `/` in the empty composer opens the picker...
    doctor.goto("/medecin/messages").await;
    doctor
        .wait_for_element_containing("[data-testid='conversation-item']", "Emma Petit")
        .await
        .click()
        .await
        .expect("open Emma's exchange");
    let panel = doctor
        .wait_for_element_containing("[data-testid='patient-panel']", "Prochain rendez-vous")
        .await;
    // The date of her next appointment, as the panel writes it ("… : <date> — <reason>").
    let panel_text = panel.text().await.unwrap();
    let next = panel_text
        .lines()
        .find_map(|line| line.strip_prefix("Prochain rendez-vous : "))
        .and_then(|rest| rest.split(" — ").next())
        .unwrap_or_else(|| panic!("a next appointment in {panel_text:?}"))
        .to_owned();
    // The frames the app sends, recorded in the page (to read the send's template_id).
    doctor
        .execute(
            "window.__frames = [];
             const send = WebSocket.prototype.send;
             WebSocket.prototype.send = function (data) {
                 window.__frames.push(String(data));
                 return send.call(this, data);
             };",
            vec![],
        )
        .await;
    doctor
        .wait_testid("composer-input")
        .await
        .send_keys("/")
        .await
        .expect("type /");
    doctor
        .wait_for_element_containing(
            "[data-testid='template-option']",
            "Confirmation du rendez-vous",
        )
        .await;
    assert_eq!(
        composer_text(&doctor).await,
        "",
        "the / opened the list, it is not text"
    );
    doctor.screenshot("2-doctor-picker-open").await;
    for v in serious_violations(&doctor, &axe).await {
        violations.push(format!("open picker: {v}"));
    }

    // ...and `1` inserts the first template, its variables filled.
    doctor
        .wait_testid("template-filter")
        .await
        .send_keys("1")
        .await
        .expect("type 1");
    let expected = format!(
        "Bonjour Emma Petit, je vous confirme votre rendez-vous : {next}. Bien à vous, Dr Claire Martin"
    );
    doctor
        .wait_until(|| async { (composer_text(&doctor).await == expected).then_some(()) })
        .await;
    assert!(
        doctor
            .find_css("[data-testid='template-picker']")
            .await
            .is_none()
    );
    assert!(
        doctor
            .find_css("[data-testid='template-missing']")
            .await
            .is_none()
    );
    let focused = doctor
        .execute("return document.activeElement.dataset.testid;", vec![])
        .await;
    assert_eq!(
        focused,
        json!("composer-input"),
        "back in the composer to review it"
    );
    doctor.screenshot("3-doctor-template-filled").await;

    // 3. Sent (Enter): the send cites the template.
    doctor
        .wait_testid("composer-input")
        .await
        .send_keys("\u{E007}")
        .await
        .expect("press Enter");
    doctor
        .wait_message("sent", "je vous confirme votre rendez-vous")
        .await;
    let frames = doctor.execute("return window.__frames;", vec![]).await;
    let sends: Vec<Value> = frames
        .as_array()
        .expect("the recorded frames")
        .iter()
        .filter_map(|f| serde_json::from_str::<Value>(f.as_str()?).ok())
        .filter(|f| f["type"] == "send")
        .collect();
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert!(sends[0]["template_id"].as_i64().is_some(), "{:?}", sends[0]);
    assert_eq!(sends[0]["body"], json!(expected));
    doctor.screenshot("4-doctor-template-sent").await;

    // 4. Emma, on her phone, receives it.
    patient.login(PATIENT).await;
    patient
        .open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    patient
        .wait_for_element_containing("[data-testid='message']", &expected)
        .await;
    patient.screenshot("5-patient-received").await;

    assert!(violations.is_empty(), "axe: {violations:#?}");
    patient.close().await;
    doctor.close().await;
}

/// The composer's unsent text, in the composer's value once it has the conversation's one.
async fn composer_value(browser: &Browser) -> Value {
    browser
        .execute(
            "const el = document.querySelector(\"[data-testid='composer-input']\");
             return el ? el.value : null;",
            vec![],
        )
        .await
}

/// Leaves the open conversation for another page of the app and comes back to it, in-app
/// (no reload), then waits for its composer.
async fn away_and_back(browser: &Browser, elsewhere: &str, name: &str) {
    browser.follow_app_link(elsewhere).await;
    browser
        .wait_until(|| async { composer_value(browser).await.is_null().then_some(()) })
        .await;
    browser.click_testid("messaging-button").await;
    browser.open_listed_conversation(name).await;
}

/// A reply half written is not lost to a look elsewhere: Dr Martin starts answering Emma,
/// checks his settings, comes back, and his text is there; Emma, on her phone, the same. What
/// Emma left unsent is not kept past her logout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_written_reply_waits_in_its_conversation_while_the_writer_looks_elsewhere() {
    const HIS: &str = "Bonjour Emma, oui : prenez-le au début du repas, avec un verre d'eau.";
    const HERS: &str = "Et si j'oublie une prise, docteur ?";
    let e2e = E2e::start("drafts").await;
    let doctor = e2e.browser(1280, 900).await;
    let patient = e2e.browser(360, 740).await;

    doctor.login(DOCTOR).await;
    doctor
        .open_conversation_named("/medecin/messages", "Emma Petit")
        .await;
    doctor.mark_page().await;
    doctor
        .wait_testid("composer-input")
        .await
        .send_keys(HIS)
        .await
        .expect("type the reply");
    away_and_back(&doctor, "/medecin/reglages", "Emma Petit").await;
    doctor
        .wait_until(|| async { (composer_value(&doctor).await == json!(HIS)).then_some(()) })
        .await;
    doctor.assert_not_reloaded().await;
    doctor
        .execute(
            "document.querySelector(\"[data-testid='composer-input']\")
                .scrollIntoView({block: 'center'}); return true;",
            vec![],
        )
        .await;
    doctor.screenshot("1-doctor-reply-still-there").await;

    patient.login(PATIENT).await;
    patient
        .open_conversation_named("/patient/messages", "Claire Martin")
        .await;
    patient
        .wait_testid("composer-input")
        .await
        .send_keys(HERS)
        .await
        .expect("type her question");
    away_and_back(&patient, "/patient", "Claire Martin").await;
    patient
        .wait_until(|| async { (composer_value(&patient).await == json!(HERS)).then_some(()) })
        .await;
    patient.screenshot("2-patient-question-still-there").await;

    // He sends his: it goes once, and his composer is empty after it, here and on return.
    doctor.click_testid("composer-send").await;
    doctor.wait_message("sent", HIS).await;
    patient.wait_message("sent", HIS).await;
    away_and_back(&doctor, "/medecin/reglages", "Emma Petit").await;
    assert_eq!(composer_value(&doctor).await, json!(""));
    assert_eq!(
        doctor
            .texts("[data-testid='message-body']")
            .await
            .iter()
            .filter(|b| *b == HIS)
            .count(),
        1
    );

    // She logs out with hers unsent, and back in on the same page (no reload: what the tab
    // still held would be there): nothing of it stayed.
    patient.mark_page().await;
    patient.click_testid("menu-toggle").await;
    patient.click_testid("logout").await;
    patient
        .login_on_screen(PATIENT, support::DEMO_PASSWORD)
        .await;
    patient.click_testid("messaging-button").await;
    patient.open_listed_conversation("Claire Martin").await;
    patient.wait_message("sent", HIS).await;
    patient.assert_not_reloaded().await;
    assert_eq!(composer_value(&patient).await, json!(""));
}
