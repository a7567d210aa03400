//! The typing indicator (issue 12): a participant writing is told to the other participant's
//! sockets, never stored, at most once per interval, and not at all when the writer turned it
//! off or the conversation is closed; anyone else's `typing` is refused like any foreign read.

use crate::helpers::*;
use colloque_protocol::{ClientFrame, ConversationId, ErrorCode, ServerFrame, TypingSettings};
use serde_json::json;

fn typing(conversation_id: ConversationId) -> ClientFrame {
    ClientFrame::Typing { conversation_id }
}

/// Sends `frame` and waits until the server has handled it (the pong of a ping sent after it).
async fn send_handled(socket: &mut Socket, frame: &ClientFrame) {
    socket.send(frame).await;
    socket.assert_nothing_pending().await;
}

async fn settings(app: &TestApp, who: &Session) -> TypingSettings {
    let response = app.get("/api/me/typing", &who.token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_doctor_writing_is_told_to_the_patients_sockets_only_and_at_most_once_an_interval() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let mut emma_phone = app.socket(&emma).await;
    let mut emma_laptop = app.socket(&emma).await;
    let mut martin_desk = app.socket(&martin).await;
    let mut martin_other = app.socket(&martin).await;

    send_handled(&mut martin_desk, &typing(id)).await;
    for socket in [&mut emma_phone, &mut emma_laptop] {
        match socket.next_frame().await {
            ServerFrame::Typing {
                conversation_id,
                user_id,
            } => assert_eq!((conversation_id, user_id), (id, martin.id)),
            other => panic!("expected the doctor's typing, got {other:?}"),
        }
        socket.assert_nothing_pending().await;
    }
    // The writer's other device is not told that he writes.
    martin_other.assert_nothing_pending().await;

    // A second frame within the interval is dropped, whatever the client sends.
    send_handled(&mut martin_desk, &typing(id)).await;
    emma_phone.assert_nothing_pending().await;

    // Nothing of it is stored: the history has no trace.
    let history: serde_json::Value = app
        .get(&format!("/api/conversations/{id}/messages"), &emma.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(!history.to_string().contains("typing"), "{history}");
}

#[tokio::test]
async fn a_patient_who_turned_it_off_is_never_shown_writing_and_the_choice_is_audited() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    assert_eq!(
        settings(&app, &emma).await,
        TypingSettings { share_typing: true }
    );

    let response = app
        .put(
            "/api/me/typing",
            &emma.token,
            &json!({"share_typing": false}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        settings(&app, &emma).await,
        TypingSettings {
            share_typing: false
        }
    );
    assert_eq!(
        settings(&app, &martin).await,
        TypingSettings { share_typing: true }
    );
    let audited = app.audit_of(EMMA).await;
    assert!(
        audited
            .iter()
            .any(|record| record.action == "typing_settings_changed"
                && record.detail.as_deref() == Some("off")),
        "{audited:?}"
    );

    let mut emma_socket = app.socket(&emma).await;
    let mut martin_socket = app.socket(&martin).await;
    send_handled(&mut emma_socket, &typing(id)).await;
    martin_socket.assert_nothing_pending().await;

    // She still sees him write.
    send_handled(&mut martin_socket, &typing(id)).await;
    assert!(matches!(
        emma_socket.next_frame().await,
        ServerFrame::Typing { user_id, .. } if user_id == martin.id
    ));

    // Back on: shown again.
    let response = app
        .put(
            "/api/me/typing",
            &emma.token,
            &json!({"share_typing": true}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut emma_again = app.socket(&emma).await;
    send_handled(&mut emma_again, &typing(id)).await;
    assert!(matches!(
        martin_socket.next_frame().await,
        ServerFrame::Typing { user_id, .. } if user_id == emma.id
    ));
}

#[tokio::test]
async fn typing_in_someone_elses_conversation_is_not_found_and_the_socket_stays_up() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let lucas = app.login(LUCAS).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let mut lucas_socket = app.socket(&lucas).await;
    let mut martin_socket = app.socket(&martin).await;

    lucas_socket.send(&typing(id)).await;
    assert_eq!(lucas_socket.next_error().await, (ErrorCode::NotFound, None));
    lucas_socket.send(&typing(ConversationId(999_999))).await;
    assert_eq!(lucas_socket.next_error().await, (ErrorCode::NotFound, None));
    lucas_socket.assert_nothing_pending().await;
    martin_socket.assert_nothing_pending().await;

    // A malformed one is an error frame too, and the socket goes on.
    lucas_socket
        .send_text(r#"{"type":"typing","conversation_id":"x"}"#)
        .await;
    assert_eq!(lucas_socket.next_error().await.0, ErrorCode::InvalidJson);
    lucas_socket.assert_nothing_pending().await;
}

#[tokio::test]
async fn nobody_is_shown_writing_in_a_closed_conversation() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let response = app
        .post(
            &format!("/api/conversations/{id}/close"),
            &martin.token,
            &json!({"reason": "Ordonnance envoyée"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut emma_socket = app.socket(&emma).await;
    let mut martin_socket = app.socket(&martin).await;
    send_handled(&mut emma_socket, &typing(id)).await;
    martin_socket.assert_nothing_pending().await;
}

#[tokio::test]
async fn the_choice_takes_a_boolean_only() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    for body in [json!({}), json!({"share_typing": "non"}), json!([])] {
        let response = app.put("/api/me/typing", &emma.token, &body).await;
        assert_eq!(response.status(), 400, "{body}");
    }
    let response = app
        .put(
            "/api/me/typing",
            "not-a-token",
            &json!({"share_typing": false}),
        )
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        settings(&app, &emma).await,
        TypingSettings { share_typing: true }
    );
}
