//! Browser tests of the care workflow (issue 12): a patient refused by the doctor's setting is
//! told before typing; a request starts with its topic; the doctor's inbox is a queue; a closed
//! exchange shows its closing line and offers a new request instead of the composer; a patient
//! the doctor blocked is told what to do instead, in place of the composer; beside the thread
//! the doctor sees the patient's appointments and other exchanges. (The red flags are in
//! `tests/red_flags.rs`.)
//!
//! The whole app is rendered ([`common::app`]); `fetch` answers from a table, the WebSocket is
//! in memory. Waits are bounded polls, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

mod common;

use colloque_protocol::{
    ClientMsgId, ConversationId, Message, MessageId, MessageKind, MessagePage, Seq, ServerFrame,
    Timestamp, TriageState, UserProfile,
};
use common::app::*;
use common::care::*;
use common::{DOCTOR, PATIENT, bodies, calls, install_fetch};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_patient_refused_by_the_doctors_setting_is_told_before_typing() {
    reset_storage();
    install_fetch(&[
        ("GET /api/conversations", 200, json!([])),
        ("GET /api/care-team", 200, json_of(&vec![martin()])),
        (
            "GET /api/care-team/intake",
            200,
            json!([{"doctor_id": DOCTOR, "decision": "not_recent_patient", "months": 6}]),
        ),
    ]);
    let app = Setup::at("/patient/equipe")
        .logged_in(session(lucas()))
        .mount();
    app.until("the doctor's card", |a| a.testid("doctor-card").is_some())
        .await;

    click_css(
        &app,
        "[data-testid='doctor-card'] [data-testid='messaging-button']",
    );
    app.until("the notice", |a| a.testid("intake-notice").is_some())
        .await;

    let notice = text(&app, "intake-notice");
    assert!(
        notice.starts_with("Dr Claire Martin réserve la messagerie")
            && notice.contains("6 derniers mois")
            && notice.contains("Prenez rendez-vous"),
        "{notice}"
    );
    assert!(app.testid("topic-picker").is_none());
    assert!(app.testid("composer-input").is_none());
    assert_eq!(calls("POST /api/conversations"), 0, "nothing was started");
}

#[wasm_bindgen_test]
async fn a_request_starts_with_the_topic_the_patient_chose() {
    reset_storage();
    let started = summary(10, TriageState::New, None);
    install_fetch(&[
        ("GET /api/conversations", 200, json!([])),
        ("GET /api/care-team", 200, json_of(&vec![martin()])),
        (
            "GET /api/care-team/intake",
            200,
            json!([{"doctor_id": DOCTOR, "decision": "open"}]),
        ),
        ("POST /api/conversations", 201, json_of(&started)),
        (
            "GET /api/conversations/10/messages",
            200,
            json!({"messages": [], "has_more": false}),
        ),
    ]);
    let app = Setup::at("/patient/equipe")
        .logged_in(session(lucas()))
        .mount();
    app.until("the doctor's card", |a| a.testid("doctor-card").is_some())
        .await;

    click_css(
        &app,
        "[data-testid='doctor-card'] [data-testid='messaging-button']",
    );
    app.until("the topics", |a| a.testid("topic-picker").is_some())
        .await;
    assert_eq!(
        calls("POST /api/conversations"),
        0,
        "nothing before a topic"
    );
    app.click("topic-test_results");
    app.until("the new conversation", |a| {
        a.path() == "/patient/messages/10"
    })
    .await;

    let started = || -> Vec<String> {
        bodies()
            .into_iter()
            .filter(|b| b.starts_with("POST /api/conversations "))
            .collect()
    };
    // Bodies are read asynchronously by the fake fetch.
    app.until("the request's body", |_| !started().is_empty())
        .await;
    let sent = started();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains(r#""topic":"test_results""#), "{}", sent[0]);
}

#[wasm_bindgen_test]
async fn the_doctors_inbox_is_a_queue_with_counts_and_the_longest_waiting_first() {
    reset_storage();
    let list = vec![
        summary(1, TriageState::New, Some(30)),
        summary(2, TriageState::New, Some(3 * 24 * 60)),
        summary(3, TriageState::New, None),
        summary(4, TriageState::Done, None),
        summary(5, TriageState::InProgress, Some(90)),
    ];
    install_fetch(&[("GET /api/conversations", 200, json_of(&list))]);
    let app = Setup::at("/medecin/messages")
        .logged_in(session(martin()))
        .mount();
    app.until("the new requests", |a| item_ids(a).len() == 3)
        .await;

    assert_eq!(item_ids(&app), ["2", "1", "3"], "the longest wait first");
    assert_eq!(text(&app, "stage-new"), "Nouveau (3)");
    assert_eq!(text(&app, "stage-in_progress"), "En cours (1)");
    assert_eq!(
        text(&app, "stage-waiting_patient"),
        "En attente du patient (0)"
    );
    assert_eq!(text(&app, "stage-done"), "Clos (1)");
    let waits: Vec<String> = {
        let nodes = app
            .root
            .query_selector_all("[data-testid='conversation-waiting']")
            .unwrap();
        (0..nodes.length())
            .filter_map(|i| nodes.item(i))
            .filter_map(|n| n.text_content())
            .collect()
    };
    assert_eq!(waits, ["attend depuis 3 j", "attend depuis 30 min"]);
    assert!(text(&app, "conversation-item-topic").contains("Renouvellement"));

    app.click("stage-done");
    app.until("the closed ones", |a| item_ids(a) == ["4"]).await;
    app.click("stage-in_progress");
    app.until("the ones in progress", |a| item_ids(a) == ["5"])
        .await;
}

#[wasm_bindgen_test]
async fn a_closed_exchange_shows_its_closing_line_and_offers_a_new_request() {
    reset_storage();
    let mut closed = summary(10, TriageState::Done, None);
    closed.last_seq = Seq(2);
    closed.my_read_seq = Seq(2);
    let line = |seq: i64, sender, body: &str, kind| Message {
        id: MessageId(100 + seq),
        conversation_id: ConversationId(10),
        seq: Seq(seq),
        sender_id: sender,
        client_id: ClientMsgId(uuid::Uuid::from_u128(seq as u128)),
        body: body.into(),
        sent_at: Timestamp(now() - 1000),
        kind,
        attachments: Vec::new(),
    };
    let page = MessagePage {
        messages: vec![
            line(1, PATIENT, "Bonjour, mon ordonnance ?", MessageKind::Text),
            line(
                2,
                DOCTOR,
                "Ordonnance envoyée à votre pharmacie.",
                MessageKind::Closed,
            ),
        ],
        has_more: false,
    };
    install_fetch(&[
        ("GET /api/conversations", 200, json_of(&vec![closed])),
        ("GET /api/conversations/10/messages", 200, json_of(&page)),
        (
            "GET /api/conversations/10/messages?after=2&limit=100",
            200,
            json!({"messages": [], "has_more": false}),
        ),
        (
            "GET /api/care-team/intake",
            200,
            json!([{"doctor_id": DOCTOR, "decision": "intake_closed"}]),
        ),
    ]);
    let app = Setup::at("/patient/messages/10")
        .logged_in(session(lucas()))
        .mount();
    app.until("the closing line", |a| a.testid("system-line").is_some())
        .await;

    assert_eq!(
        text(&app, "system-line")
            .split("Pour une nouvelle demande")
            .next()
            .unwrap(),
        "Échange clos par le Dr Claire Martin : Ordonnance envoyée à votre pharmacie. "
    );
    assert!(app.testid("composer-input").is_none(), "no composer");
    assert!(text(&app, "closed-notice").contains("Cet échange est clos"));
    assert_eq!(
        app.testid("conversation-stage")
            .and_then(|e| e.get_attribute("data-state"))
            .as_deref(),
        Some("done")
    );
    // The new request goes through the doctor's setting, which takes none now.
    click_css(
        &app,
        "[data-testid='closed-notice'] [data-testid='messaging-button']",
    );
    app.until("the doctor's answer", |a| {
        a.testid("intake-notice").is_some()
    })
    .await;
    assert!(text(&app, "intake-notice").contains("ne reçoit pas de nouvelle demande"));
}

#[wasm_bindgen_test]
async fn a_patient_whose_doctor_blocked_them_is_told_calmly_before_typing() {
    reset_storage();
    let open = summary(11, TriageState::InProgress, None);
    let mut blocked = open.clone();
    blocked.blocked = true;
    install_fetch(&[
        ("GET /api/conversations", 200, json_of(&vec![open])),
        (
            "GET /api/conversations/11/messages",
            200,
            json!({"messages": [], "has_more": false}),
        ),
    ]);
    let app = Setup::at("/patient/messages/11")
        .logged_in(session(lucas()))
        .mount();
    app.until("the composer", |a| a.testid("composer-input").is_some())
        .await;
    assert!(app.testid("blocked-notice").is_none());

    // The doctor blocks her while her screen is open: the summary comes with `blocked`.
    app.server.push(ServerFrame::Conversation {
        conversation: blocked,
    });
    app.until("the notice", |a| a.testid("blocked-notice").is_some())
        .await;

    assert!(app.testid("composer-input").is_none(), "no composer");
    assert_eq!(
        text(&app, "blocked-notice"),
        "Dr Claire Martin ne reçoit plus vos messages par la messagerie. Vous pouvez relire cet \
         échange ; pour le joindre, appelez le cabinet. En cas d’urgence, appelez le 15 ou le 112."
    );
}

#[wasm_bindgen_test]
async fn beside_the_thread_the_doctor_sees_the_patients_appointments_and_other_exchanges() {
    reset_storage();
    let appointment = |id: i64, patient: UserProfile, in_days: i64, reason: &str| {
        json!({
            "id": id, "patient": patient, "doctor": martin(),
            "starts_at": now() + in_days * 86_400_000, "duration_minutes": 20,
            "location": "Cabinet", "reason": reason,
        })
    };
    let mut older = summary(12, TriageState::Done, None);
    older.subject = "Certificat de sport".into();
    let someone_else = UserProfile {
        id: colloque_protocol::UserId(77),
        ..lucas()
    };
    let mut theirs = summary(13, TriageState::New, None);
    theirs.patient = someone_else.clone();
    theirs.subject = "Pas à Lucas".into();
    install_fetch(&[
        (
            "GET /api/conversations",
            200,
            json_of(&vec![
                summary(11, TriageState::InProgress, None),
                older,
                theirs,
            ]),
        ),
        (
            "GET /api/conversations/11/messages",
            200,
            json!({"messages": [], "has_more": false}),
        ),
        (
            "GET /api/appointments",
            200,
            json!([
                appointment(1, lucas(), -40, "Bilan annuel"),
                appointment(2, lucas(), -3, "Suivi tension"),
                appointment(3, someone_else, 1, "Autre patient"),
                appointment(4, lucas(), 9, "Résultats"),
                appointment(5, lucas(), 30, "Contrôle"),
            ]),
        ),
    ]);
    let app = Setup::at("/medecin/messages/11")
        .logged_in(session(martin()))
        .mount();
    app.until("the panel with the appointments", |a| {
        text(a, "patient-panel").contains("Suivi tension")
    })
    .await;
    let panel = text(&app, "patient-panel");
    assert!(
        panel.contains("Prochain rendez-vous : ") && panel.contains(" — Résultats"),
        "the next one: {panel}"
    );
    assert!(panel.contains("Dernier rendez-vous : "), "{panel}");
    assert!(panel.contains(" — Suivi tension"), "the last one: {panel}");
    for not_shown in ["Bilan annuel", "Contrôle", "Autre patient"] {
        assert!(!panel.contains(not_shown), "{not_shown} in {panel}");
    }
    let others: Vec<String> = {
        let nodes = app
            .root
            .query_selector_all("[data-testid='patient-other-conversation']")
            .unwrap();
        (0..nodes.length())
            .filter_map(|i| nodes.item(i))
            .filter_map(|n| n.text_content())
            .collect()
    };
    assert_eq!(
        others,
        ["Certificat de sport"],
        "this patient's other exchange only"
    );
    assert!(panel.contains("Clos"), "with its stage: {panel}");
}
