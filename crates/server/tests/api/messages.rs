use crate::helpers::*;
use colloque_protocol::{ClientFrame, ErrorCode, MAX_MESSAGE_CHARS, Message, ServerFrame};
use serde_json::{Value, json};

#[tokio::test]
async fn a_message_sent_over_rest_reaches_every_socket_of_both_participants() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&emma).await;
    let mut sockets = vec![
        app.socket(&emma).await,
        app.socket(&emma).await,
        app.socket(&martin).await,
        app.socket(&martin).await,
    ];

    let sent = app
        .send_ok(&emma, conversation.id, "  Bonjour docteur  ")
        .await;

    assert_eq!(sent.body, "Bonjour docteur");
    assert_eq!(sent.seq.0, 4);
    for socket in &mut sockets {
        match socket.next_frame().await {
            ServerFrame::Message { message } => assert_eq!(message, sent),
            other => panic!("expected the message, got {other:?}"),
        }
        socket.assert_nothing_pending().await;
    }
}

#[tokio::test]
async fn a_message_sent_over_websocket_is_acked_and_reaches_every_other_socket() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&emma).await;
    let mut sender = app.socket(&emma).await;
    let mut others = vec![
        app.socket(&emma).await,
        app.socket(&martin).await,
        app.socket(&martin).await,
    ];
    let client_id = new_client_id();

    sender
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id,
            body: "Merci docteur".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;

    let stored = match sender.next_frame().await {
        ServerFrame::Ack {
            client_id: acked,
            message,
        } => {
            assert_eq!(acked, client_id);
            message
        }
        other => panic!("expected an ack, got {other:?}"),
    };
    assert_eq!(stored.body, "Merci docteur");
    assert_eq!(stored.sender_id, emma.id);
    sender.assert_nothing_pending().await;
    for socket in &mut others {
        match socket.next_frame().await {
            ServerFrame::Message { message } => assert_eq!(message, stored),
            other => panic!("expected the message, got {other:?}"),
        }
    }
    let page = app.history(&martin, conversation.id, "").await;
    assert_eq!(page.messages.last().unwrap(), &stored);
}

#[tokio::test]
async fn the_same_client_id_sent_twice_over_rest_is_stored_once() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let conversation = app.only_conversation(&lucas).await;
    let client_id = new_client_id();

    let first = app
        .send_message(&lucas, conversation.id, client_id, "Relevé du jour : 12/8")
        .await;
    let second = app
        .send_message(&lucas, conversation.id, client_id, "Relevé du jour : 12/8")
        .await;

    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 200);
    let first: Message = first.json().await.unwrap();
    let second: Message = second.json().await.unwrap();
    assert_eq!(first, second);
    let page = app.history(&lucas, conversation.id, "").await;
    assert_eq!(
        page.messages
            .iter()
            .filter(|m| m.client_id == client_id)
            .count(),
        1
    );
    assert_eq!(app.last_seq(&lucas, conversation.id).await, 3);
}

#[tokio::test]
async fn the_same_client_id_sent_twice_over_websocket_is_acked_twice_with_the_same_message() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let durand = app.login(DURAND).await;
    let conversation = app.only_conversation(&lucas).await;
    let mut socket = app.socket(&lucas).await;
    let mut doctor_socket = app.socket(&durand).await;
    let frame = ClientFrame::Send {
        conversation_id: conversation.id,
        client_id: new_client_id(),
        body: "Bonjour".into(),
        urgent: false,
        attachment_ids: Vec::new(),
        template_id: None,
    };

    socket.send(&frame).await;
    let first = socket.next_frame().await;
    socket.send(&frame).await;
    let second = socket.next_frame().await;

    let (
        ServerFrame::Ack { message: first, .. },
        ServerFrame::Ack {
            message: second, ..
        },
    ) = (first, second)
    else {
        panic!("expected two acks");
    };
    assert_eq!(first.id, second.id);
    assert_eq!(app.last_seq(&lucas, conversation.id).await, 3);
    // The doctor is told once.
    assert!(matches!(
        doctor_socket.next_frame().await,
        ServerFrame::Message { .. }
    ));
    doctor_socket.assert_nothing_pending().await;
}

#[tokio::test]
async fn empty_and_too_long_bodies_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;

    for (body, code) in [
        (String::new(), "empty_body"),
        (" \n\t ".to_owned(), "empty_body"),
        ("a".repeat(MAX_MESSAGE_CHARS + 1), "body_too_long"),
    ] {
        let response = app
            .send_message(&emma, conversation.id, new_client_id(), &body)
            .await;
        assert_eq!(response.status(), 400);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error_code(&error), code);
    }
    assert_eq!(app.last_seq(&emma, conversation.id).await, 3);
}

#[tokio::test]
async fn a_message_of_exactly_the_maximum_length_is_accepted() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;

    let sent = app
        .send_ok(&emma, conversation.id, &"é".repeat(MAX_MESSAGE_CHARS))
        .await;

    assert_eq!(sent.body.chars().count(), MAX_MESSAGE_CHARS);
}

#[tokio::test]
async fn marking_read_clears_the_unread_count_and_tells_both_users() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&martin).await;
    assert_eq!(conversation.unread_count, 1);
    let mut emma_socket = app.socket(&emma).await;
    let mut martin_socket = app.socket(&martin).await;
    let path = format!("/api/conversations/{}/read", conversation.id);

    let response = app.post(&path, &martin.token, &json!({"seq": 3})).await;

    assert_eq!(response.status(), 200);
    let cursor: Value = response.json().await.unwrap();
    assert_eq!(cursor["seq"], 3);
    assert_eq!(app.only_conversation(&martin).await.unread_count, 0);
    assert_eq!(app.only_conversation(&emma).await.other_read_seq.0, 3);
    for socket in [&mut emma_socket, &mut martin_socket] {
        match socket.next_frame().await {
            ServerFrame::Read { cursor } => {
                assert_eq!(cursor.user_id, martin.id);
                assert_eq!(cursor.seq.0, 3);
            }
            other => panic!("expected a read frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_read_cursor_never_moves_back_and_is_clamped_to_the_last_message() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&martin).await;
    let path = format!("/api/conversations/{}/read", conversation.id);

    let beyond: Value = app
        .post(&path, &martin.token, &json!({"seq": 99}))
        .await
        .json()
        .await
        .unwrap();
    let back: Value = app
        .post(&path, &martin.token, &json!({"seq": 1}))
        .await
        .json()
        .await
        .unwrap();
    let negative = app.post(&path, &martin.token, &json!({"seq": -1})).await;

    assert_eq!(beyond["seq"], 3);
    assert_eq!(back["seq"], 3);
    assert_eq!(negative.status(), 400);
}

#[tokio::test]
async fn a_patient_cannot_touch_another_patients_conversation_over_rest() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let hugo = app.login(HUGO).await;
    let durand = app.login(DURAND).await;
    let conversation = app.only_conversation(&emma).await;
    let id = conversation.id;

    for intruder in [&hugo, &durand] {
        let responses = [
            app.get(&format!("/api/conversations/{id}"), &intruder.token)
                .await,
            app.get(
                &format!("/api/conversations/{id}/messages"),
                &intruder.token,
            )
            .await,
            app.send_message(intruder, id, new_client_id(), "Intrusion")
                .await,
            app.post(
                &format!("/api/conversations/{id}/read"),
                &intruder.token,
                &json!({"seq": 3}),
            )
            .await,
            app.post(
                &format!("/api/conversations/{id}/close"),
                &intruder.token,
                &json!({"reason": "Intrusion"}),
            )
            .await,
        ];
        for response in responses {
            assert_eq!(response.status(), 404);
            let body: Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "not_found");
            assert!(body.get("messages").is_none());
        }
    }
    // A conversation that does not exist answers exactly the same.
    let missing = app.get("/api/conversations/999999", &hugo.token).await;
    assert_eq!(missing.status(), 404);
    // Nothing changed.
    let emma_view = app.only_conversation(&emma).await;
    assert_eq!(emma_view.last_seq.0, 3);
    assert_eq!(emma_view.status, conversation.status);
    assert_eq!(
        app.only_conversation(&app.login(MARTIN).await)
            .await
            .my_read_seq
            .0,
        2
    );
}

#[tokio::test]
async fn a_patient_cannot_touch_or_overhear_another_patients_conversation_over_websocket() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let hugo = app.login(HUGO).await;
    let conversation = app.only_conversation(&emma).await;
    let mut hugo_socket = app.socket(&hugo).await;
    let client_id = new_client_id();

    hugo_socket
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id,
            body: "Intrusion".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    match hugo_socket.next_frame().await {
        ServerFrame::Error {
            error,
            client_id: refused,
        } => {
            assert_eq!(error.code, ErrorCode::NotFound);
            assert_eq!(refused, Some(client_id));
        }
        other => panic!("expected an error, got {other:?}"),
    }
    hugo_socket
        .send(&ClientFrame::MarkRead {
            conversation_id: conversation.id,
            seq: colloque_protocol::Seq(3),
        })
        .await;
    match hugo_socket.next_frame().await {
        ServerFrame::Error { error, client_id } => {
            assert_eq!(error.code, ErrorCode::NotFound);
            assert_eq!(client_id, None);
        }
        other => panic!("expected an error, got {other:?}"),
    }

    // Emma and Martin talk and read, over REST and WebSocket.
    app.send_ok(&emma, conversation.id, "Message privé").await;
    let mut martin_socket = app.socket(&martin).await;
    martin_socket
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id: new_client_id(),
            body: "Réponse privée".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    assert!(matches!(
        martin_socket.next_frame().await,
        ServerFrame::Ack { .. }
    ));
    martin_socket
        .send(&ClientFrame::MarkRead {
            conversation_id: conversation.id,
            seq: colloque_protocol::Seq(5),
        })
        .await;
    assert!(matches!(
        martin_socket.next_frame().await,
        ServerFrame::Read { .. }
    ));

    // Hugo's socket received nothing of it, and the intrusion was not stored.
    hugo_socket.assert_nothing_pending().await;
    assert_eq!(app.last_seq(&emma, conversation.id).await, 5);
    let page = app.history(&emma, conversation.id, "").await;
    assert!(page.messages.iter().all(|m| m.sender_id != hugo.id));
}

#[tokio::test]
async fn concurrent_sends_get_gap_free_seqs_and_are_pushed_in_seq_order() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&emma).await;
    let mut watcher = app.socket(&martin).await;

    let sends = (0..30).map(|n| {
        let app = &app;
        let sender = if n % 2 == 0 { &emma } else { &martin };
        async move {
            app.send_ok(sender, conversation.id, &format!("concurrent {n}"))
                .await
        }
    });
    let sent = futures_util::future::join_all(sends).await;

    let mut seqs: Vec<i64> = sent.iter().map(|m| m.seq.0).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (4..=33).collect::<Vec<_>>());
    let mut pushed = Vec::new();
    for _ in 0..30 {
        match watcher.next_frame().await {
            ServerFrame::Message { message } => pushed.push(message.seq.0),
            other => panic!("expected a message, got {other:?}"),
        }
    }
    assert_eq!(
        pushed,
        (4..=33).collect::<Vec<_>>(),
        "pushed in commit order"
    );
}

/// Concurrent sends are committed together by the message writer (group commit). Batched or
/// not, each send keeps its own rules: replays of one client id store one message, a refusal
/// stores nothing and does not fail its neighbours, seqs stay gap-free, and each sender's read
/// cursor ends on their own last message.
#[tokio::test]
async fn sends_committed_together_keep_their_own_rules() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let hugo = app.login(HUGO).await;
    let conversation = app.only_conversation(&emma).await;
    let start = app.last_seq(&emma, conversation.id).await;
    let replayed = new_client_id();

    let fresh = (0..20).map(|n| {
        let (app, sender) = (&app, if n % 2 == 0 { &emma } else { &martin });
        async move {
            let response = app
                .send_message(
                    sender,
                    conversation.id,
                    new_client_id(),
                    &format!("lot {n}"),
                )
                .await;
            assert_eq!(response.status(), 201, "send {n}");
            response.json::<Message>().await.unwrap()
        }
    });
    let replays = (0..5).map(|_| {
        let app = &app;
        let emma = &emma;
        async move {
            let response = app
                .send_message(emma, conversation.id, replayed, "une seule fois")
                .await;
            assert!(response.status().is_success(), "{}", response.status());
            response.json::<Message>().await.unwrap()
        }
    });
    let intruder = app.send_message(&hugo, conversation.id, new_client_id(), "intrus");
    let (fresh, replays, intruder) = tokio::join!(
        futures_util::future::join_all(fresh),
        futures_util::future::join_all(replays),
        intruder
    );

    assert_eq!(intruder.status(), 404);
    let replay_ids: Vec<_> = replays.iter().map(|m| m.id).collect();
    assert!(
        replay_ids.iter().all(|id| *id == replay_ids[0]),
        "one message for one client id: {replay_ids:?}"
    );
    let mut seqs: Vec<i64> = fresh.iter().map(|m| m.seq.0).collect();
    seqs.push(replays[0].seq.0);
    seqs.sort_unstable();
    assert_eq!(seqs, (start + 1..=start + 21).collect::<Vec<_>>());
    let page = app.history(&emma, conversation.id, "?limit=100").await;
    assert_eq!(page.messages.len() as i64, start + 21);
    assert!(page.messages.iter().all(|m| m.sender_id != hugo.id));

    let last_by = |sender: i64| {
        page.messages
            .iter()
            .filter(|m| m.sender_id.0 == sender)
            .map(|m| m.seq)
            .max()
            .unwrap()
    };
    let for_emma = app.only_conversation(&emma).await;
    assert_eq!(for_emma.last_seq.0, start + 21);
    assert_eq!(for_emma.my_read_seq, last_by(emma.id.0));
    let for_martin = app
        .conversations(&martin)
        .await
        .into_iter()
        .find(|c| c.id == conversation.id)
        .unwrap();
    assert_eq!(for_martin.my_read_seq, last_by(martin.id.0));
    assert!(for_emma.last_activity_at >= conversation.last_activity_at);
}
