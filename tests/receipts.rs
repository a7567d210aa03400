//! Browser tests of a message's honest status (issue 12; docs/protocol.md, "Receipts"): under
//! each of the patient's stored messages, its step in words — Envoyé, Reçu, Lu à HH:MM, Traité —
//! moved only by what the server pushes (the doctor's delivery and read cursors, the
//! conversation's triage state); and the app tells the server what this device holds.
//!
//! The whole app is rendered ([`common::app`]); `fetch` answers from a table, the WebSocket is
//! in memory. Waits are bounded polls, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

mod common;

use colloque_protocol::{
    ClientFrame, ClientMsgId, ConversationId, ConversationSummary, Message, MessageId, MessageKind,
    ReadCursor, Seq, ServerFrame, Timestamp, TriageState, UserId,
};
use common::app::*;
use common::care::*;
use common::{DOCTOR, PATIENT, install_fetch};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CONV: ConversationId = ConversationId(11);

fn message(seq: i64, sender: UserId) -> Message {
    Message {
        id: MessageId(100 + seq),
        conversation_id: CONV,
        seq: Seq(seq),
        sender_id: sender,
        client_id: ClientMsgId(uuid::Uuid::from_u128(seq as u128)),
        body: format!("message {seq}"),
        sent_at: Timestamp(now() - 60_000 + seq),
        kind: MessageKind::Text,
        attachments: Vec::new(),
    }
}

fn conversation(last_seq: i64) -> ConversationSummary {
    let mut c = summary(11, TriageState::InProgress, None);
    c.last_seq = Seq(last_seq);
    c.my_read_seq = Seq(last_seq);
    c
}

fn cursor(seq: i64, at: Option<i64>, from: i64) -> ReadCursor {
    ReadCursor {
        conversation_id: CONV,
        user_id: DOCTOR,
        seq: Seq(seq),
        at: at.map(Timestamp),
        from: Seq(from),
    }
}

/// Lucas's conversation open, his message 1 in it, the socket ready.
async fn mounted() -> Mounted {
    reset_storage();
    install_fetch(&[
        (
            "GET /api/conversations",
            200,
            json_of(&vec![conversation(1)]),
        ),
        (
            "GET /api/conversations/11/messages",
            200,
            json!({"messages": [json_of(&message(1, PATIENT))], "has_more": false}),
        ),
    ]);
    let app = Setup::at("/patient/messages/11")
        .logged_in(session(lucas()))
        .mount();
    app.until("the socket", |a| a.server.events.borrow().is_some())
        .await;
    app.server.push(ServerFrame::Ready { user: lucas() });
    app
}

/// The step under the message: (`data-step`, words).
fn step(app: &Mounted) -> Option<(String, String)> {
    let step = app.one("[data-testid='message'] [data-testid='message-step']")?;
    Some((step.get_attribute("data-step")?, step.text_content()?))
}

fn receipts(app: &Mounted) -> Vec<(ConversationId, Seq)> {
    app.server
        .sent
        .borrow()
        .iter()
        .filter_map(|frame| match frame {
            ClientFrame::Received {
                conversation_id,
                seq,
            } => Some((*conversation_id, *seq)),
            _ => None,
        })
        .collect()
}

#[wasm_bindgen_test]
async fn a_patients_message_shows_each_step_in_words_as_the_server_moves_it() {
    let app = mounted().await;
    app.until("Envoyé", |a| {
        step(a) == Some(("sent".into(), "Envoyé".into()))
    })
    .await;

    app.server.push(ServerFrame::Delivered {
        cursor: cursor(1, None, 0),
    });
    app.until("Reçu", |a| {
        step(a) == Some(("received".into(), "Reçu".into()))
    })
    .await;

    // Read at 14:32 local time today.
    let at = js_sys::Date::new_0();
    at.set_hours(14);
    at.set_minutes(32);
    let at = at.get_time() as i64;
    app.server.push(ServerFrame::Read {
        cursor: cursor(1, Some(at), 0),
    });
    app.until("Lu à 14:32", |a| {
        step(a) == Some(("read".into(), "Lu à 14:32".into()))
    })
    .await;

    let mut done = conversation(1);
    done.triage = TriageState::Done;
    done.status = colloque_protocol::ConversationStatus::Closed;
    done.other_read_seq = Seq(1);
    app.server
        .push(ServerFrame::Conversation { conversation: done });
    app.until("Traité", |a| {
        step(a) == Some(("done".into(), "Traité".into()))
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_message_read_at_an_earlier_move_says_read_without_the_later_time() {
    let app = mounted().await;
    app.until("Envoyé", |a| step(a).is_some_and(|s| s.0 == "sent"))
        .await;
    // The doctor's cursor moved from 1 to 2 (his own answer): message 1 was read before.
    app.server.push(ServerFrame::Read {
        cursor: cursor(2, Some(now()), 1),
    });
    app.until("Lu", |a| step(a) == Some(("read".into(), "Lu".into())))
        .await;
}

#[wasm_bindgen_test]
async fn the_app_tells_the_server_what_it_holds_once_per_position_and_again_on_a_new_socket() {
    let app = mounted().await;
    app.until("the first receipt", |a| !receipts(a).is_empty())
        .await;
    assert_eq!(receipts(&app), [(CONV, Seq(1))]);

    app.server.push(ServerFrame::Message {
        message: message(2, DOCTOR),
    });
    app.until("the second receipt", |a| receipts(a).len() == 2)
        .await;
    assert_eq!(receipts(&app), [(CONV, Seq(1)), (CONV, Seq(2))]);

    // A late frame changes nothing; a new socket (ready again) tells again, once.
    app.server.push(ServerFrame::Delivered {
        cursor: cursor(2, None, 0),
    });
    app.server.push(ServerFrame::Ready { user: lucas() });
    app.until("the receipt on the new socket", |a| receipts(a).len() == 3)
        .await;
    assert_eq!(receipts(&app)[2], (CONV, Seq(2)));
}
