//! End to end, issue 4's browser proof: the API server goes away while the patient writes and
//! reloads; when it comes back, the doctor receives each message exactly once, in order.
//!
//! The app is served as it would be from a CDN (its own origin, `config.json` naming the
//! API), so the page itself still loads while the API is down.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use support::E2e;

const PATIENT: &str = "lucas.bernard@colloque.test";
const DOCTOR: &str = "dr.martin@colloque.test";

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
    patient
        .wait_for_element_containing("[data-testid='message'][data-status='sent']", before)
        .await;

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
        patient
            .wait_for_element_containing("[data-testid='message'][data-status='sending']", text)
            .await;
    }
    patient.screenshot("1-patient-offline-sending").await;

    // She reloads the page while the server is still down: the app comes back from the CDN
    // with her three messages still waiting in the outbox.
    patient.refresh().await;
    for text in offline {
        patient
            .wait_for_element_containing("[data-testid='message'][data-status='sending']", text)
            .await;
    }
    patient.screenshot("2-patient-reloaded-still-sending").await;

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
    assert_eq!(
        patient
            .texts("[data-testid='message'][data-status='sending']")
            .await
            .len(),
        offline.len(),
        "still logged in, still pending"
    );

    // The server comes back: the outbox drains and the doctor gets each message once, in
    // order, without reloading his page.
    api.start().await;
    for text in offline {
        patient
            .wait_for_element_containing("[data-testid='message'][data-status='sent']", text)
            .await;
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
