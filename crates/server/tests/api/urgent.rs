//! Red flags (issue 12): a patient who sends a message past the red-flag screen marks it urgent;
//! the conversation says since when until the doctor writes, every tab of both sides hears it,
//! and only a patient may do it. docs/care.md, "Red flags".

use crate::helpers::*;
use colloque_protocol::{
    ClientFrame, ConversationId, ConversationSummary, ErrorCode, Message, ServerFrame,
};
use serde_json::{Value, json};

async fn send_urgent(
    app: &TestApp,
    who: &Session,
    id: ConversationId,
    body: &str,
) -> reqwest::Response {
    app.post(
        &format!("/api/conversations/{id}/messages"),
        &who.token,
        &json!({"client_id": new_client_id(), "body": body, "urgent": true}),
    )
    .await
}

async fn summary_of(app: &TestApp, who: &Session, id: ConversationId) -> ConversationSummary {
    let response = app
        .get(&format!("/api/conversations/{id}"), &who.token)
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Frames until the conversation `id` comes as a `conversation` frame (messages before it are
/// skipped: the change is pushed after the message that made it).
async fn next_summary(socket: &mut Socket, id: ConversationId) -> ConversationSummary {
    for _ in 0..5 {
        match socket.next_frame().await {
            ServerFrame::Conversation { conversation } if conversation.id == id => {
                return conversation;
            }
            ServerFrame::Message { .. } => {}
            other => panic!("expected conversation {id}, got {other:?}"),
        }
    }
    panic!("no conversation frame for {id}");
}

/// Skips every frame queued for `socket` (up to the pong of a ping sent now).
async fn drain(socket: &mut Socket) {
    socket.send(&ClientFrame::Ping { nonce: 7 }).await;
    while !matches!(socket.next_frame().await, ServerFrame::Pong { nonce: 7 }) {}
}

#[tokio::test]
async fn an_urgent_message_marks_the_conversation_until_the_doctor_answers_and_every_tab_hears_it()
{
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    assert_eq!(summary_of(&app, &martin, id).await.urgent_since, None);
    let mut martin_socket = app.socket(&martin).await;
    let mut emma_socket = app.socket(&emma).await;

    // An ordinary message changes nothing.
    app.send_ok(&emma, id, "Bonjour docteur").await;
    assert_eq!(summary_of(&app, &martin, id).await.urgent_since, None);
    let ServerFrame::Message { .. } = martin_socket.next_frame().await else {
        panic!("the message first");
    };
    let ServerFrame::Message { .. } = emma_socket.next_frame().await else {
        panic!("the patient's other tab gets it too");
    };

    let response = send_urgent(&app, &emma, id, "J'ai une douleur thoracique").await;
    assert_eq!(response.status(), 201);
    let urgent: Message = response.json().await.unwrap();
    let pushed = next_summary(&mut martin_socket, id).await;
    assert_eq!(
        pushed.urgent_since,
        Some(urgent.sent_at),
        "the doctor hears it"
    );
    assert_eq!(
        next_summary(&mut emma_socket, id).await.urgent_since,
        Some(urgent.sent_at)
    );
    // A second one keeps the first one's time; a plain one after it does not clear it.
    send_urgent(&app, &emma, id, "toujours une douleur thoracique").await;
    app.send_ok(&emma, id, "Je suis chez moi.").await;
    assert_eq!(
        summary_of(&app, &martin, id).await.urgent_since,
        Some(urgent.sent_at)
    );
    let trail = app.audit_of(EMMA).await;
    let marks: Vec<_> = trail.iter().filter(|r| r.action == "urgent_sent").collect();
    assert_eq!(marks.len(), 2, "each urgent message is recorded: {trail:?}");
    assert!(marks.iter().all(|r| r.conversation_id == Some(id.0)));
    assert!(
        marks.iter().all(|r| r.detail.is_none()),
        "never the text: {marks:?}"
    );

    // The doctor's answer ends it, and both sides hear that.
    drain(&mut martin_socket).await;
    drain(&mut emma_socket).await;
    app.send_ok(&martin, id, "Appelez le 15 tout de suite.")
        .await;
    assert_eq!(next_summary(&mut emma_socket, id).await.urgent_since, None);
    assert_eq!(summary_of(&app, &martin, id).await.urgent_since, None);
}

#[tokio::test]
async fn an_urgent_message_over_the_socket_marks_it_too_and_a_replay_marks_nothing_twice() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let mut socket = app.socket(&emma).await;
    let frame = ClientFrame::Send {
        conversation_id: id,
        client_id: new_client_id(),
        body: "difficulté à respirer".into(),
        urgent: true,
        attachment_ids: Vec::new(),
        template_id: None,
    };
    for _ in 0..2 {
        socket.send(&frame).await;
        loop {
            match socket.next_frame().await {
                ServerFrame::Ack { .. } => break,
                ServerFrame::Conversation { .. } => {}
                other => panic!("expected the ack, got {other:?}"),
            }
        }
    }
    assert!(summary_of(&app, &martin, id).await.urgent_since.is_some());
    let marks = app
        .audit_of(EMMA)
        .await
        .into_iter()
        .filter(|r| r.action == "urgent_sent")
        .count();
    assert_eq!(marks, 1, "the replay stored nothing and recorded nothing");
}

#[tokio::test]
async fn a_doctor_cannot_mark_a_message_urgent_and_nothing_is_stored() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&martin).await.id;
    let before = summary_of(&app, &martin, id).await;
    let response = send_urgent(&app, &martin, id, "Message du médecin").await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "forbidden");
    let after = summary_of(&app, &martin, id).await;
    assert_eq!(
        (after.last_seq, after.urgent_since),
        (before.last_seq, None),
        "nothing stored"
    );

    let mut socket = app.socket(&martin).await;
    let client_id = new_client_id();
    socket
        .send(&ClientFrame::Send {
            conversation_id: id,
            client_id,
            body: "Message du médecin".into(),
            urgent: true,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    match socket.next_frame().await {
        ServerFrame::Error {
            error,
            client_id: refused,
        } => {
            assert_eq!(error.code, ErrorCode::Forbidden);
            assert_eq!(refused, Some(client_id));
        }
        other => panic!("expected an error frame, got {other:?}"),
    }
    // The socket stays up, and the patient's side is untouched.
    app.send_ok(&martin, id, "Bonjour").await;
    assert_eq!(summary_of(&app, &emma, id).await.urgent_since, None);
}

#[tokio::test]
async fn closing_an_urgent_conversation_clears_it() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    assert_eq!(
        send_urgent(&app, &emma, id, "saignement abondant")
            .await
            .status(),
        201
    );
    let closed = app
        .post(
            &format!("/api/conversations/{id}/close"),
            &martin.token,
            &json!({"reason": "Traitement prescrit"}),
        )
        .await;
    assert_eq!(closed.status(), 200, "{:?}", closed.text().await);
    assert_eq!(summary_of(&app, &emma, id).await.urgent_since, None);
}
