//! Browser tests of office hours and absences (issue 12): the patient reads the doctor's
//! absence and when an answer is due above the composer, the due date goes once the doctor
//! answers, the automatic reply is a labelled system line; the doctor records an absence with a
//! colleague who covers from the settings page.
//!
//! The whole app is rendered ([`common::app`]); `fetch` answers from a table, the WebSocket is
//! in memory. Waits are bounded polls, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

mod common;

use colloque_protocol::{
    AbsenceNotice, ClientMsgId, ConversationId, ConversationStatus, ConversationSummary, Message,
    MessageId, MessageKind, ReplySettings, Role, Seq, ServerFrame, Timestamp, Topic, TriageState,
    UserId,
};
use common::app::*;
use common::care::*;
use common::{DOCTOR, bodies, install_fetch, profile};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlInputElement, HtmlSelectElement};

wasm_bindgen_test_configure!(run_in_browser);

/// An open request nobody answered yet, its doctor away until 14 May 2027 and covered.
fn waiting() -> ConversationSummary {
    ConversationSummary {
        id: ConversationId(11),
        subject: "Demande".into(),
        status: ConversationStatus::Open,
        patient: lucas(),
        doctor: martin(),
        created_at: Timestamp(0),
        last_activity_at: Timestamp(now() - 60_000),
        last_message: None,
        last_seq: Seq(0),
        my_read_seq: Seq(0),
        other_read_seq: Seq(0),
        other_read_at: None,
        other_read_from: Seq(0),
        other_delivered_seq: Seq(0),
        unread_count: 0,
        topic: Topic::MedicalQuestion,
        triage: TriageState::New,
        triage_at: Timestamp(now() - 60_000),
        waiting_since: None,
        blocked: false,
        urgent_since: None,
        reply_due: Some(Timestamp(now() + 2 * 24 * 3600 * 1000)),
        absence: Some(AbsenceNotice {
            until: "2027-05-14".into(),
            covering_doctor: Some("Dr Paul Durand".into()),
        }),
    }
}

fn line(seq: i64, kind: MessageKind, body: &str) -> Message {
    Message {
        id: MessageId(100 + seq),
        conversation_id: ConversationId(11),
        seq: Seq(seq),
        sender_id: DOCTOR,
        client_id: ClientMsgId(uuid::Uuid::new_v4()),
        body: body.into(),
        sent_at: Timestamp(now()),
        kind,
        attachments: Vec::new(),
    }
}

#[wasm_bindgen_test]
async fn the_patient_reads_the_absence_and_the_due_date_before_sending_until_the_doctor_answers() {
    reset_storage();
    install_fetch(&[
        ("GET /api/conversations", 200, json_of(&vec![waiting()])),
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
    assert_eq!(
        text(&app, "absence-notice"),
        "Dr Claire Martin ne consulte pas ses messages jusqu’au 14 mai 2027 inclus : votre \
         message sera lu au retour. Dr Paul Durand assure le relais. Pour une demande qui ne peut \
         pas attendre, appelez le cabinet ; en cas d’urgence, le 15 ou le 112."
    );
    assert!(
        text(&app, "reply-due").starts_with("Réponse attendue au plus tard le "),
        "{}",
        text(&app, "reply-due")
    );

    // The automatic reply is a system line, labelled, never a bubble of the doctor's.
    app.server.push(ServerFrame::Message {
        message: line(
            1,
            MessageKind::AutoReply,
            "Dr Claire Martin ne consulte pas ses messages.",
        ),
    });
    app.until("the automatic reply", |a| {
        a.one("[data-kind='auto_reply']").is_some()
    })
    .await;
    let reply = app.one("[data-kind='auto_reply']").unwrap();
    assert_eq!(
        reply.get_attribute("data-testid").as_deref(),
        Some("system-line")
    );
    assert!(
        reply
            .text_content()
            .unwrap_or_default()
            .starts_with("Réponse automatique : Dr Claire Martin ne consulte pas ses messages."),
    );
    assert!(
        app.testid("reply-due").is_some(),
        "an automatic reply is no answer"
    );

    // The doctor's answer ends the promise.
    app.server.push(ServerFrame::Message {
        message: line(2, MessageKind::Text, "Bonjour, je regarde."),
    });
    app.until("no due date", |a| a.testid("reply-due").is_none())
        .await;
    assert!(app.testid("composer-input").is_some());
}

/// Sets an input's or a select's value, then fires `change` as the browser does.
fn set_value(app: &Mounted, id: &str, value: &str) {
    let element = app.testid(id).unwrap_or_else(|| panic!("no {id}"));
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
        select.set_value(value);
    }
    let event = web_sys::Event::new_with_event_init_dict("change", &{
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        init
    })
    .unwrap();
    element.dispatch_event(&event).unwrap();
}

#[wasm_bindgen_test]
async fn the_doctor_records_an_absence_with_a_colleague_who_covers() {
    reset_storage();
    let durand = profile(UserId(2), Role::Doctor, "Dr Paul Durand");
    let settings = ReplySettings {
        working_days: Some(2),
        hours: vec![None; 7],
        time_zone: "Europe/Paris".into(),
        absences: vec![],
    };
    let mut after = settings.clone();
    after.absences.push(colloque_protocol::Absence {
        id: colloque_protocol::AbsenceId(5),
        from: "2027-05-03".into(),
        to: "2027-05-14".into(),
        covering_doctor: Some(durand.clone()),
    });
    install_fetch(&[
        ("GET /api/conversations", 200, json!([])),
        (
            "GET /api/me/intake",
            200,
            json!({"mode": "care_team", "months": 12, "blocked": []}),
        ),
        ("GET /api/patients", 200, json!([])),
        ("GET /api/me/reply-settings", 200, json_of(&settings)),
        ("GET /api/me/colleagues", 200, json_of(&vec![durand])),
        ("POST /api/me/absences", 200, json_of(&after)),
    ]);
    let app = Setup::at("/medecin/reglages")
        .logged_in(session(martin()))
        .mount();
    app.until("the absence form", |a| a.testid("absence-form").is_some())
        .await;
    set_value(&app, "absence-from", "2027-05-03");
    set_value(&app, "absence-to", "2027-05-14");
    set_value(&app, "absence-covering", "2");
    app.click("absence-add");
    app.until("the absence listed", |a| a.testid("absence-row").is_some())
        .await;
    assert_eq!(
        text(&app, "absence-row"),
        "Du 3 mai 2027 au 14 mai 2027 — relais : Dr Paul Durand Supprimer"
    );
    let sent: Vec<String> = bodies()
        .into_iter()
        .filter(|b| b.starts_with("POST /api/me/absences "))
        .collect();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].contains(r#"{"from":"2027-05-03","to":"2027-05-14","covering_doctor_id":2}"#),
        "{}",
        sent[0]
    );
}
