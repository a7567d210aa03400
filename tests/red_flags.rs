//! Browser tests of the red flags (issue 12; docs/care.md, "Red flags"): a patient's message
//! that may describe an emergency shows the numbers to call before anything is sent, and sent
//! anyway it is marked urgent; a doctor's own message is never stopped; the doctor's queue puts
//! an urgent conversation first, with its mark, in every open stage.
//!
//! The whole app is rendered ([`common::app`]); `fetch` answers from a table, the WebSocket is
//! in memory. Waits are bounded polls, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

mod common;

use colloque_protocol::{
    ClientMsgId, ConversationId, Message, MessageId, MessageKind, Seq, ServerFrame, Timestamp,
    TriageState,
};
use common::app::*;
use common::care::*;
use common::{PATIENT, bodies, calls, install_fetch};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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
        attachments: Vec::new(),
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
