//! The WebSocket protocol itself: authentication, errors that keep the socket open, limits.

use crate::helpers::*;
use colloque_protocol::{ClientFrame, ErrorCode, MAX_FRAME_BYTES, ServerFrame};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn error_of(frame: ServerFrame) -> (ErrorCode, Option<colloque_protocol::ClientMsgId>) {
    match frame {
        ServerFrame::Error { error, client_id } => (error.code, client_id),
        other => panic!("expected an error frame, got {other:?}"),
    }
}

#[tokio::test]
async fn frames_before_auth_are_refused_and_auth_still_works_after() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let mut socket = app.raw_socket().await;

    socket.send(&ClientFrame::Ping { nonce: 1 }).await;
    let (code, _) = error_of(socket.next_frame().await);
    socket.send_text("{oops").await;
    let (malformed, _) = error_of(socket.next_frame().await);
    socket
        .send(&ClientFrame::Auth {
            token: emma.token.clone(),
        })
        .await;

    assert_eq!(code, ErrorCode::NotAuthenticated);
    assert_eq!(malformed, ErrorCode::InvalidJson);
    match socket.next_frame().await {
        ServerFrame::Ready { user } => assert_eq!(user.display_name, "Emma Petit"),
        other => panic!("expected ready, got {other:?}"),
    }
}

#[tokio::test]
async fn ping_is_answered_with_the_same_nonce() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let mut socket = app.socket(&emma).await;

    socket.send(&ClientFrame::Ping { nonce: u64::MAX }).await;

    assert_eq!(
        socket.next_frame().await,
        ServerFrame::Pong { nonce: u64::MAX }
    );
}

#[tokio::test]
async fn malformed_unknown_and_binary_frames_get_an_error_and_the_socket_keeps_working() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let mut socket = app.socket(&emma).await;

    socket.send_text("this is not json").await;
    let (not_json, _) = error_of(socket.next_frame().await);
    socket.send_text(r#"{"type":"launch_missiles"}"#).await;
    let (unknown, _) = error_of(socket.next_frame().await);
    socket.send_text(r#"{"no_type":true}"#).await;
    let (untyped, _) = error_of(socket.next_frame().await);
    let client_id = new_client_id();
    socket
        .send_text(&format!(
            r#"{{"type":"send","client_id":"{}","conversation_id":"x","body":"b"}}"#,
            client_id.0
        ))
        .await;
    let (bad_send, bad_send_id) = error_of(socket.next_frame().await);
    socket
        .stream
        .send(WsMessage::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    let (binary, _) = error_of(socket.next_frame().await);

    assert_eq!(not_json, ErrorCode::InvalidJson);
    assert_eq!(unknown, ErrorCode::UnknownFrame);
    assert_eq!(untyped, ErrorCode::InvalidJson);
    assert_eq!(bad_send, ErrorCode::InvalidJson);
    assert_eq!(bad_send_id, Some(client_id));
    assert_eq!(binary, ErrorCode::InvalidInput);

    // Still open and working.
    socket.assert_nothing_pending().await;
    socket
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id: new_client_id(),
            body: "Toujours là".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    assert!(matches!(socket.next_frame().await, ServerFrame::Ack { .. }));
}

#[tokio::test]
async fn refused_sends_carry_their_client_id_and_the_socket_keeps_working() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;
    let mut socket = app.socket(&emma).await;

    let mut refused = Vec::new();
    for (body, expected) in [
        ("   ".to_owned(), ErrorCode::EmptyBody),
        (
            "a".repeat(colloque_protocol::MAX_MESSAGE_CHARS + 1),
            ErrorCode::BodyTooLong,
        ),
    ] {
        let client_id = new_client_id();
        socket
            .send(&ClientFrame::Send {
                conversation_id: conversation.id,
                client_id,
                body,
                urgent: false,
                attachment_ids: Vec::new(),
                template_id: None,
            })
            .await;
        let (code, refused_id) = error_of(socket.next_frame().await);
        refused.push((code, expected, refused_id, client_id));
    }

    for (code, expected, refused_id, client_id) in refused {
        assert_eq!(code, expected);
        assert_eq!(refused_id, Some(client_id));
    }
    assert_eq!(app.last_seq(&emma, conversation.id).await, 3);
    socket.assert_nothing_pending().await;
}

#[tokio::test]
async fn an_oversized_frame_closes_the_socket_with_1009() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let mut socket = app.socket(&emma).await;

    socket.send_text(&"x".repeat(MAX_FRAME_BYTES + 1)).await;

    assert_eq!(socket.closed_with().await, Some(1009));
}

#[tokio::test]
async fn a_frame_of_exactly_the_maximum_size_is_accepted() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let mut socket = app.socket(&emma).await;
    let prefix = r#"{"type":"ping","nonce":7,"padding":""#;
    let frame = format!(
        "{prefix}{}\"}}",
        "p".repeat(MAX_FRAME_BYTES - prefix.len() - 2)
    );
    assert_eq!(frame.len(), MAX_FRAME_BYTES);

    socket.send_text(&frame).await;

    assert_eq!(socket.next_frame().await, ServerFrame::Pong { nonce: 7 });
}

#[tokio::test]
async fn a_bad_token_gets_an_unauthorized_error_then_a_1008_close() {
    let app = spawn_app().await;
    let mut socket = app.raw_socket().await;

    socket
        .send(&ClientFrame::Auth {
            token: "nope".into(),
        })
        .await;

    let (code, _) = error_of(socket.next_frame().await);
    assert_eq!(code, ErrorCode::Unauthorized);
    assert_eq!(socket.closed_with().await, Some(1008));
}

#[tokio::test]
async fn mark_read_over_websocket_answers_the_cursor_and_tells_the_other_participant() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&martin).await;
    let mut martin_socket = app.socket(&martin).await;
    let mut martin_other_tab = app.socket(&martin).await;
    let mut emma_socket = app.socket(&emma).await;

    martin_socket
        .send(&ClientFrame::MarkRead {
            conversation_id: conversation.id,
            seq: colloque_protocol::Seq(3),
        })
        .await;

    for socket in [&mut martin_socket, &mut martin_other_tab, &mut emma_socket] {
        match socket.next_frame().await {
            ServerFrame::Read { cursor } => {
                assert_eq!(cursor.user_id, martin.id);
                assert_eq!(cursor.seq.0, 3);
            }
            other => panic!("expected a read frame, got {other:?}"),
        }
        socket.assert_nothing_pending().await;
    }
    assert_eq!(app.only_conversation(&martin).await.unread_count, 0);
}
