//! Receipts (issue 12, "an honest status for every patient message"): a patient's message is
//! stored (Envoyé), received by one of the doctor's devices (Reçu: the doctor's delivery
//! cursor), read (Lu: the doctor's read cursor, with the time it moved) and dealt with (Traité:
//! the conversation is done). Each step is moved by a real event and pushed to the patient.

use crate::helpers::*;
use colloque_protocol::{
    ClientFrame, ConversationId, ConversationSummary, ErrorCode, ReadCursor, Seq, ServerFrame,
    TriageState,
};
use serde_json::{Value, json};

async fn summary(app: &TestApp, who: &Session, id: ConversationId) -> ConversationSummary {
    let response = app
        .get(&format!("/api/conversations/{id}"), &who.token)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn post_received(
    app: &TestApp,
    who: &Session,
    id: ConversationId,
    seq: Value,
) -> (u16, Value) {
    let response = app
        .post(
            &format!("/api/conversations/{id}/received"),
            &who.token,
            &json!({ "seq": seq }),
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The next `read` or `delivered` frame, skipping the messages and conversation changes pushed
/// before it (the patient's own message comes back to her socket when sent over REST).
async fn next_cursor(socket: &mut Socket) -> ServerFrame {
    loop {
        match socket.next_frame().await {
            ServerFrame::Message { .. } | ServerFrame::Conversation { .. } => continue,
            frame @ (ServerFrame::Read { .. } | ServerFrame::Delivered { .. }) => return frame,
            other => panic!("expected a cursor, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_patient_message_climbs_from_sent_to_received_read_and_done_by_real_events() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let mut emma_socket = app.socket(&emma).await;
    let mut martin_socket = app.socket(&martin).await;

    // Envoyé: stored, nothing more.
    let sent = app.send_ok(&emma, id, "Ma tension est à 15").await;
    let seen = summary(&app, &emma, id).await;
    assert!(seen.other_delivered_seq < sent.seq, "not received yet");
    assert!(seen.other_read_seq < sent.seq, "not read yet");
    assert_ne!(seen.triage, TriageState::Done);

    // Reçu: the doctor's device got the message and says so.
    match martin_socket.next_frame().await {
        ServerFrame::Message { message } => assert_eq!(message.seq, sent.seq),
        other => panic!("expected the message, got {other:?}"),
    }
    martin_socket
        .send(&ClientFrame::Received {
            conversation_id: id,
            seq: sent.seq,
        })
        .await;
    match martin_socket.next_frame().await {
        ServerFrame::Delivered { cursor } => {
            assert_eq!((cursor.user_id, cursor.seq), (martin.id, sent.seq));
        }
        other => panic!("expected the doctor's own delivery cursor, got {other:?}"),
    }
    match next_cursor(&mut emma_socket).await {
        ServerFrame::Delivered { cursor } => {
            assert_eq!(cursor.conversation_id, id);
            assert_eq!((cursor.user_id, cursor.seq), (martin.id, sent.seq));
            assert_eq!(cursor.at, None);
        }
        other => panic!("expected the doctor's delivery cursor, got {other:?}"),
    }
    let seen = summary(&app, &emma, id).await;
    assert_eq!(seen.other_delivered_seq, sent.seq);
    assert!(seen.other_read_seq < sent.seq, "received is not read");

    // Lu: the doctor's read cursor passes it, and the patient learns when.
    let before = seen.other_read_seq;
    martin_socket
        .send(&ClientFrame::MarkRead {
            conversation_id: id,
            seq: sent.seq,
        })
        .await;
    assert!(matches!(
        martin_socket.next_frame().await,
        ServerFrame::Read { .. }
    ));
    let read = match next_cursor(&mut emma_socket).await {
        ServerFrame::Read { cursor } => cursor,
        other => panic!("expected the doctor's read cursor, got {other:?}"),
    };
    assert_eq!(
        (read.user_id, read.seq, read.from),
        (martin.id, sent.seq, before)
    );
    let at = read.at.expect("a read cursor that moved says when");
    assert!(at >= sent.sent_at, "read after it was sent");
    let seen = summary(&app, &emma, id).await;
    assert_eq!(seen.other_read_seq, sent.seq);
    assert_eq!(seen.other_read_at, Some(at));
    assert_eq!(seen.other_read_from, before);
    assert_ne!(seen.triage, TriageState::Done, "read is not dealt with");

    // Traité: the doctor closes the conversation.
    let response = app
        .post(
            &format!("/api/conversations/{id}/close"),
            &martin.token,
            &json!({"reason": "Traitement ajusté"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let seen = summary(&app, &emma, id).await;
    assert_eq!(seen.triage, TriageState::Done);
    assert!(
        seen.other_read_seq > sent.seq,
        "closing wrote a line after it"
    );
}

#[tokio::test]
async fn only_a_participant_moves_a_delivery_cursor_and_a_refusal_keeps_the_socket() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let hugo = app.login(HUGO).await;
    let id = app.only_conversation(&emma).await.id;
    let delivered = summary(&app, &emma, id).await.other_delivered_seq;
    let emma_delivered = summary(&app, &martin, id).await.other_delivered_seq;

    let mut hugo_socket = app.socket(&hugo).await;
    hugo_socket
        .send(&ClientFrame::Received {
            conversation_id: id,
            seq: Seq(3),
        })
        .await;
    assert_eq!(hugo_socket.next_error().await, (ErrorCode::NotFound, None));
    hugo_socket.assert_nothing_pending().await;

    let (status, body) = post_received(&app, &hugo, id, json!(3)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    assert!(body["message"].is_string());
    let (status, body) = post_received(&app, &hugo, ConversationId(987_654), json!(1)).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));

    // Nothing moved, for either participant.
    assert_eq!(
        summary(&app, &emma, id).await.other_delivered_seq,
        delivered
    );
    assert_eq!(
        summary(&app, &martin, id).await.other_delivered_seq,
        emma_delivered
    );
}

#[tokio::test]
async fn a_delivery_cursor_never_moves_backward_nor_past_the_latest_message() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let last = Seq(app.last_seq(&martin, id).await);

    let (status, body) = post_received(&app, &martin, id, json!(last.0 + 1_000)).await;
    assert_eq!(status, 200);
    let cursor: ReadCursor = serde_json::from_value(body).unwrap();
    assert_eq!((cursor.user_id, cursor.seq), (martin.id, last), "clamped");

    let (status, body) = post_received(&app, &martin, id, json!(1)).await;
    assert_eq!(status, 200);
    let cursor: ReadCursor = serde_json::from_value(body).unwrap();
    assert_eq!(cursor.seq, last, "never backward");

    for bad in [json!(-1), json!("3"), json!(1.5), Value::Null] {
        let (status, body) = post_received(&app, &martin, id, bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{bad}"
        );
    }
    assert_eq!(summary(&app, &emma, id).await.other_delivered_seq, last);

    // Over the socket, a negative seq is an error frame; the socket stays up.
    let mut socket = app.socket(&martin).await;
    socket
        .send(&ClientFrame::Received {
            conversation_id: id,
            seq: Seq(-4),
        })
        .await;
    assert_eq!(socket.next_error().await.0, ErrorCode::InvalidCursor);
    socket
        .send_text(r#"{"type":"received","conversation_id":1}"#)
        .await;
    assert_eq!(socket.next_error().await.0, ErrorCode::InvalidJson);
    socket.assert_nothing_pending().await;

    // A new message: the cursor may move again, up to it.
    let sent = app.send_ok(&emma, id, "Encore une question").await;
    let (_, body) = post_received(&app, &martin, id, json!(sent.seq.0)).await;
    let cursor: ReadCursor = serde_json::from_value(body).unwrap();
    assert_eq!(cursor.seq, sent.seq);
}

#[tokio::test]
async fn a_read_cursor_keeps_when_and_from_where_it_last_moved() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let first = app.send_ok(&emma, id, "Première").await;
    let second = app.send_ok(&emma, id, "Seconde").await;
    let before = summary(&app, &emma, id).await.other_read_seq;

    let read = |seq: Seq| {
        let (app, martin) = (&app, &martin);
        async move {
            let response = app
                .post(
                    &format!("/api/conversations/{id}/read"),
                    &martin.token,
                    &json!({ "seq": seq }),
                )
                .await;
            assert_eq!(response.status(), 200);
            response.json::<ReadCursor>().await.unwrap()
        }
    };
    let moved = read(first.seq).await;
    assert_eq!((moved.seq, moved.from), (first.seq, before));
    let first_at = moved.at.expect("when it moved");

    // Not moving keeps the time and the origin.
    let again = read(first.seq).await;
    assert_eq!(again, moved);

    let moved = read(second.seq).await;
    assert_eq!((moved.seq, moved.from), (second.seq, first.seq));
    assert!(moved.at.expect("when it moved") >= first_at);

    // The doctor's answer moves his read cursor too, at the answer's time.
    let answer = app.send_ok(&martin, id, "Bien reçu").await;
    let seen = summary(&app, &emma, id).await;
    assert_eq!(seen.other_read_seq, answer.seq);
    assert_eq!(seen.other_read_from, second.seq);
    assert_eq!(seen.other_read_at, Some(answer.sent_at));
}
