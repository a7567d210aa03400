//! Browser tests of the care workflow (issue 12): a patient refused by the doctor's setting is
//! told before typing; a request starts with its topic; the doctor's inbox is a queue; a closed
//! exchange shows its closing line and offers a new request instead of the composer; a patient
//! the doctor blocked is told what to do instead, in place of the composer; a message that may
//! describe an emergency shows the red-flag screen before anything is sent, and the doctor's
//! queue puts an urgent conversation first.
//!
//! The whole app is rendered ([`common::app`]); `fetch` answers from a table, the WebSocket is
//! in memory. Waits are bounded polls, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

mod common;

use colloque::session::Session;
use colloque_protocol::{
    ClientMsgId, ConversationId, ConversationStatus, ConversationSummary, Message, MessageId,
    MessageKind, MessagePage, Role, Seq, ServerFrame, SessionHandle, Timestamp, Topic, TriageState,
    UserProfile,
};
use common::app::*;
use common::{DOCTOR, PATIENT, bodies, calls, install_fetch, profile};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> i64 {
    js_sys::Date::now() as i64
}

fn session(user: UserProfile) -> Session {
    Session {
        token: "t".into(),
        expires_at: Timestamp(now() + 600_000),
        user,
        handle: SessionHandle("5e55".into()),
        outbox_key: None,
        shared: false,
        mfa_enrolment_required: false,
    }
}

fn lucas() -> UserProfile {
    profile(PATIENT, Role::Patient, "Lucas Bernard")
}

fn martin() -> UserProfile {
    profile(DOCTOR, Role::Doctor, "Dr Claire Martin")
}

fn summary(id: i64, triage: TriageState, waiting_minutes: Option<i64>) -> ConversationSummary {
    let closed = triage == TriageState::Done;
    ConversationSummary {
        id: ConversationId(id),
        subject: format!("Demande {id}"),
        status: if closed {
            ConversationStatus::Closed
        } else {
            ConversationStatus::Open
        },
        patient: lucas(),
        doctor: martin(),
        created_at: Timestamp(0),
        last_activity_at: Timestamp(now() - id * 1000),
        last_message: None,
        last_seq: Seq(0),
        my_read_seq: Seq(0),
        other_read_seq: Seq(0),
        unread_count: 0,
        topic: Topic::PrescriptionRenewal,
        triage,
        triage_at: Timestamp(now() - 60_000),
        waiting_since: waiting_minutes.map(|m| Timestamp(now() - m * 60_000)),
        blocked: false,
        urgent_since: None,
        reply_due: None,
        absence: None,
    }
}

fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

fn item_ids(app: &Mounted) -> Vec<String> {
    let list = app
        .root
        .query_selector_all("[data-testid='conversation-item']")
        .unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
        .filter_map(|e| e.get_attribute("data-conversation-id"))
        .collect()
}

fn click_css(app: &Mounted, css: &str) {
    app.one(css)
        .unwrap_or_else(|| panic!("no {css}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

fn text(app: &Mounted, id: &str) -> String {
    app.testid(id)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

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

/// Types `text` in the composer and presses "Envoyer".
async fn write_and_send(app: &Mounted, text: &str) {
    let input = app.testid("composer-input").expect("a composer");
    let typer = js_sys::Function::new_with_args(
        "el, text",
        "el.value = text; el.dispatchEvent(new Event('input', {bubbles: true}));",
    );
    typer
        .call2(&wasm_bindgen::JsValue::NULL, &input, &text.into())
        .unwrap();
    app.until("the send button enabled", |a| {
        a.testid("composer-send")
            .is_some_and(|b| !b.has_attribute("disabled"))
    })
    .await;
    app.click("composer-send");
}

fn composer_text(app: &Mounted) -> String {
    app.testid("composer-input")
        .map(|e| e.unchecked_into::<web_sys::HtmlTextAreaElement>().value())
        .unwrap_or_default()
}

fn call_numbers(app: &Mounted) -> Vec<String> {
    let links = app.root.query_selector_all(".red-flag-screen a").unwrap();
    (0..links.length())
        .filter_map(|i| links.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
        .filter_map(|e| e.get_attribute("href"))
        .collect()
}

const SEND_11: &str = "POST /api/conversations/11/messages";

#[wasm_bindgen_test]
async fn a_message_that_may_be_an_emergency_shows_the_numbers_to_call_before_anything_is_sent() {
    reset_storage();
    let stored = Message {
        id: MessageId(1),
        conversation_id: ConversationId(11),
        seq: Seq(1),
        sender_id: PATIENT,
        client_id: ClientMsgId(uuid::Uuid::nil()),
        body: "x".into(),
        sent_at: Timestamp(now()),
        kind: MessageKind::Text,
    };
    install_fetch(&[
        (
            "GET /api/conversations",
            200,
            json_of(&vec![summary(11, TriageState::InProgress, None)]),
        ),
        (
            "GET /api/conversations/11/messages",
            200,
            json!({"messages": [], "has_more": false}),
        ),
        (SEND_11, 201, json_of(&stored)),
    ]);
    let app = Setup::at("/patient/messages/11")
        .logged_in(session(lucas()))
        .mount();
    app.until("the composer", |a| a.testid("composer-input").is_some())
        .await;

    write_and_send(&app, "J'ai une douleur thoracique depuis ce matin").await;
    app.until("the red-flag screen", |a| {
        a.testid("red-flag-screen").is_some()
    })
    .await;
    assert_eq!(call_numbers(&app), ["tel:15", "tel:112"]);
    assert_eq!(calls(SEND_11), 0, "nothing sent before the patient chooses");
    let focused = document()
        .active_element()
        .and_then(|e| e.get_attribute("href"));
    assert_eq!(focused.as_deref(), Some("tel:15"), "calling comes first");

    // Back to the text, kept as it was.
    app.click("red-flag-edit");
    app.until("the screen gone", |a| a.testid("red-flag-screen").is_none())
        .await;
    assert_eq!(
        composer_text(&app),
        "J'ai une douleur thoracique depuis ce matin"
    );
    assert_eq!(calls(SEND_11), 0);

    // Sent anyway: marked urgent.
    app.click("composer-send");
    app.until("the red-flag screen again", |a| {
        a.testid("red-flag-screen").is_some()
    })
    .await;
    app.click("red-flag-send-anyway");
    app.until("the message sent", |_| calls(SEND_11) == 1).await;
    let sent = |needle: &'static str| {
        move || -> Vec<String> {
            bodies()
                .into_iter()
                .filter(|b| b.starts_with(SEND_11) && b.contains(needle))
                .collect()
        }
    };
    // Bodies are read asynchronously by the fake fetch.
    let urgent = sent("douleur thoracique depuis");
    app.until("the request's body", |_| !urgent().is_empty())
        .await;
    let sent_urgent = urgent();
    assert_eq!(sent_urgent.len(), 1, "{:?}", bodies());
    assert!(
        sent_urgent[0].contains(r#""urgent":true"#),
        "{}",
        sent_urgent[0]
    );
    assert!(app.testid("red-flag-screen").is_none());
    assert_eq!(composer_text(&app), "", "the composer is emptied");

    // Suicidal thoughts: the suicide prevention line first.
    write_and_send(&app, "j'ai des idées suicidaires").await;
    app.until("the red-flag screen", |a| {
        a.testid("red-flag-screen").is_some()
    })
    .await;
    assert_eq!(call_numbers(&app), ["tel:3114", "tel:15", "tel:112"]);
    app.click("red-flag-edit");
    app.until("the screen gone", |a| a.testid("red-flag-screen").is_none())
        .await;

    // An ordinary message, or a negated phrase, goes at once and is not urgent.
    write_and_send(&app, "Pas de douleur thoracique, merci docteur").await;
    app.until("sent at once", |_| calls(SEND_11) == 2).await;
    assert!(app.testid("red-flag-screen").is_none());
    let plain = sent("merci docteur");
    app.until("the request's body", |_| !plain().is_empty())
        .await;
    assert!(!plain()[0].contains("urgent"), "{:?}", plain());
}

#[wasm_bindgen_test]
async fn a_doctors_own_message_is_never_stopped_by_the_red_flag_screen() {
    reset_storage();
    install_fetch(&[
        (
            "GET /api/conversations",
            200,
            json_of(&vec![summary(11, TriageState::InProgress, None)]),
        ),
        (
            "GET /api/conversations/11/messages",
            200,
            json!({"messages": [], "has_more": false}),
        ),
        (SEND_11, 500, json!({"code": "internal", "message": "x"})),
    ]);
    let app = Setup::at("/medecin/messages/11")
        .logged_in(session(martin()))
        .mount();
    app.until("the composer", |a| a.testid("composer-input").is_some())
        .await;
    write_and_send(&app, "Votre douleur thoracique : faites l'ECG demain.").await;
    app.until("sent at once", |_| calls(SEND_11) >= 1).await;
    assert!(app.testid("red-flag-screen").is_none());
}

#[wasm_bindgen_test]
async fn an_urgent_conversation_comes_first_with_its_mark_in_every_open_stage() {
    reset_storage();
    let mut urgent = summary(5, TriageState::InProgress, Some(2));
    urgent.urgent_since = Some(Timestamp(now() - 60_000));
    let list = vec![
        summary(1, TriageState::New, Some(30)),
        summary(2, TriageState::New, Some(3 * 24 * 60)),
        urgent.clone(),
    ];
    install_fetch(&[("GET /api/conversations", 200, json_of(&list))]);
    let app = Setup::at("/medecin/messages")
        .logged_in(session(martin()))
        .mount();
    app.until("the queue", |a| item_ids(a).len() == 3).await;
    assert_eq!(item_ids(&app), ["5", "2", "1"], "the urgent one first");
    assert_eq!(text(&app, "conversation-urgent"), "Urgent");
    assert_eq!(text(&app, "stage-in_progress"), "En cours (1)");

    // The doctor answers (pushed summary without the mark): back in its own stage only.
    urgent.urgent_since = None;
    app.server.push(ServerFrame::Conversation {
        conversation: urgent,
    });
    app.until("the mark gone", |a| item_ids(a) == ["2", "1"])
        .await;
    assert!(app.testid("conversation-urgent").is_none());
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
