//! Attachments sent with messages: linked in the message's transaction, idempotent with it,
//! seen by both participants (answer, history, socket push, Documents lists) and by nobody
//! else (404 on every route).

use crate::attachment_fixtures::*;
use crate::helpers::*;
use colloque_protocol::{ClientFrame, ConversationSummary, DocumentPage, Message, ServerFrame};

/// Emma and Dr Martin's conversation (demo data), both logged in.
async fn emma_and_martin(app: &TestApp) -> (Session, Session, ConversationSummary) {
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&emma).await;
    assert_eq!(conversation.doctor.id, martin.id);
    (emma, martin, conversation)
}

#[tokio::test]
async fn a_message_carries_its_attachments_to_both_participants_and_nobody_else() {
    let app = spawn_app().await;
    let (emma, martin, conversation) = emma_and_martin(&app).await;
    let lucas = app.login(LUCAS).await;
    let photo = app.upload_ok(&emma, "bouton.jpg", jpeg_with_gps()).await;
    let letter = app.upload_ok(&emma, "analyse.pdf", pdf()).await;
    let file = format!("/api/attachments/{}", photo.id);
    let thumbnail = format!("{file}/thumbnail");
    // Before it is sent, only its uploader reads it.
    for (who, status) in [(&emma, 200), (&martin, 404), (&lucas, 404)] {
        assert_eq!(app.get(&file, &who.token).await.status(), status);
    }
    let mut martins_socket = app.socket(&martin).await;
    let response = app
        .send_with(
            &emma,
            conversation.id,
            new_client_id(),
            &[photo.id, letter.id],
        )
        .await;
    assert_eq!(response.status(), 201);
    let sent: Message = response.json().await.unwrap();
    assert_eq!(sent.attachments, vec![photo.clone(), letter.clone()]);
    match martins_socket.next_frame().await {
        ServerFrame::Message { message } => assert_eq!(message.attachments, sent.attachments),
        other => panic!("expected the message, got {other:?}"),
    }
    // In the history, among messages without files (the demo's before it, a word after it),
    // each with its own: the page reads the attachments of the messages that have some.
    let after = app.send_ok(&emma, conversation.id, "Merci docteur").await;
    let page = app.history(&martin, conversation.id, "").await;
    let files: Vec<(i64, usize)> = page
        .messages
        .iter()
        .map(|m| (m.seq.0, m.attachments.len()))
        .collect();
    let n = files.len();
    assert!(n >= 3, "{files:?}");
    assert!(
        files[..n - 2].iter().all(|(_, count)| *count == 0),
        "{files:?}"
    );
    assert_eq!(page.messages[n - 2].attachments, sent.attachments);
    assert_eq!(page.messages[n - 1].id, after.id);
    assert!(page.messages[n - 1].attachments.is_empty());
    // Both participants read the file and its thumbnail; the other patient gets 404 on every
    // route, as for an id that does not exist.
    let documents = format!("/api/conversations/{}/attachments", conversation.id);
    for who in [&emma, &martin] {
        assert_eq!(app.get(&file, &who.token).await.status(), 200);
        assert_eq!(app.get(&thumbnail, &who.token).await.status(), 200);
        let page: DocumentPage = app.get(&documents, &who.token).await.json().await.unwrap();
        assert_eq!(page.documents.len(), 2);
    }
    let unknown = format!("/api/attachments/{}", uuid::Uuid::new_v4());
    for path in [&file, &thumbnail, &documents, &unknown] {
        let response = app.get(path, &lucas.token).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "not_found");
    }
    let lucas_documents: DocumentPage = app
        .get("/api/me/attachments", &lucas.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(lucas_documents.documents.is_empty());
    // Without a session: 401.
    assert_eq!(
        app.client
            .get(app.url(&file))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn the_documents_lists_give_date_author_and_conversation_newest_first_by_pages() {
    let app = spawn_app().await;
    let (emma, martin, conversation) = emma_and_martin(&app).await;
    let mut sent = Vec::new();
    for n in 0..3 {
        let mut bytes = pdf();
        bytes.extend(format!("% {n}\n").bytes());
        let meta = app.upload_ok(&emma, &format!("{n}.pdf"), bytes).await;
        let response = app
            .send_with(&emma, conversation.id, new_client_id(), &[meta.id])
            .await;
        let message: Message = response.json().await.unwrap();
        sent.push((meta, message));
    }
    let reply = app.upload_ok(&martin, "ordonnance.pdf", pdf()).await;
    let response = app
        .send_with(&martin, conversation.id, new_client_id(), &[reply.id])
        .await;
    assert_eq!(response.status(), 201);
    let page: DocumentPage = app
        .get("/api/me/attachments?limit=3", &emma.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(page.has_more);
    let names: Vec<&str> = page
        .documents
        .iter()
        .map(|d| d.attachment.name.as_str())
        .collect();
    assert_eq!(names, ["ordonnance.pdf", "2.pdf", "1.pdf"]);
    assert_eq!(page.documents[0].author_id, martin.id);
    assert_eq!(page.documents[1].author_id, emma.id);
    assert_eq!(page.documents[1].message_id, sent[2].1.id);
    assert_eq!(page.documents[1].sent_at, sent[2].1.sent_at);
    assert!(
        page.documents
            .iter()
            .all(|d| d.conversation_id == conversation.id)
    );
    let before = page.documents[2].position;
    let next: DocumentPage = app
        .get(&format!("/api/me/attachments?before={before}"), &emma.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(!next.has_more);
    let names: Vec<&str> = next
        .documents
        .iter()
        .map(|d| d.attachment.name.as_str())
        .collect();
    assert_eq!(names, ["0.pdf"]);
    assert!(!app.audit_counts("documents_listed").await.is_empty());
}

#[tokio::test]
async fn a_resend_with_the_same_client_id_stores_nothing_twice() {
    let app = spawn_app().await;
    let (emma, martin, conversation) = emma_and_martin(&app).await;
    let photo = app.upload_ok(&emma, "photo.jpg", jpeg_with_gps()).await;
    let client_id = new_client_id();
    let first = app
        .send_with(&emma, conversation.id, client_id, &[photo.id])
        .await;
    assert_eq!(first.status(), 201);
    let first: Message = first.json().await.unwrap();
    let again = app
        .send_with(&emma, conversation.id, client_id, &[photo.id])
        .await;
    assert_eq!(again.status(), 200);
    let again: Message = again.json().await.unwrap();
    assert_eq!(again, first, "the original message, with its attachments");
    // And over the socket.
    let mut socket = app.socket(&emma).await;
    socket
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id,
            body: "Voici le document.".into(),
            urgent: false,
            attachment_ids: vec![photo.id],
            template_id: None,
        })
        .await;
    match socket.next_frame().await {
        ServerFrame::Ack { message, .. } => assert_eq!(message, first),
        other => panic!("expected an ack, got {other:?}"),
    }
    assert_eq!(app.attachment_rows().await, (1, 1));
    let page = app.history(&martin, conversation.id, "").await;
    assert_eq!(
        page.messages
            .iter()
            .filter(|m| m.client_id == client_id)
            .count(),
        1
    );
}

#[tokio::test]
async fn only_the_senders_own_unsent_uploads_may_be_sent() {
    let app = spawn_app().await;
    let (emma, martin, conversation) = emma_and_martin(&app).await;
    let lucas = app.login(LUCAS).await;
    let lucas_file = app.upload_ok(&lucas, "lucas.pdf", pdf()).await;
    let mine = app.upload_ok(&emma, "mine.pdf", pdf()).await;
    // Another user's upload, or an id that does not exist: the same 422 (the conversation,
    // which the path names, is there).
    for id in [
        lucas_file.id,
        colloque_protocol::AttachmentId(uuid::Uuid::new_v4()),
    ] {
        let response = app
            .send_with(&emma, conversation.id, new_client_id(), &[mine.id, id])
            .await;
        let (status, code, _) = refusal(response).await;
        assert_eq!((status, code.as_str()), (422, "unknown_reference"));
    }
    // Nothing was linked by the refused sends: the file is still Emma's to send.
    let sent = app
        .send_with(&emma, conversation.id, new_client_id(), &[mine.id])
        .await;
    assert_eq!(sent.status(), 201);
    // Sent once, it cannot go with another message.
    let (status, code, _) = refusal(
        app.send_with(&emma, conversation.id, new_client_id(), &[mine.id])
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "attachment_already_sent"));
    // Over the socket, the same rules.
    let mut socket = app.socket(&martin).await;
    let client_id = new_client_id();
    socket
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id,
            body: "Voici.".into(),
            urgent: false,
            attachment_ids: vec![lucas_file.id],
            template_id: None,
        })
        .await;
    let (code, refused) = socket.next_error().await;
    assert_eq!(
        (code, refused),
        (
            colloque_protocol::ErrorCode::UnknownReference,
            Some(client_id)
        )
    );
}

#[tokio::test]
async fn at_most_four_attachments_each_once() {
    let app = spawn_app().await;
    let (emma, _, conversation) = emma_and_martin(&app).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut bytes = pdf();
        bytes.extend(format!("% {n}\n").bytes());
        ids.push(app.upload_ok(&emma, "a.pdf", bytes).await.id);
    }
    let (status, code, message) = refusal(
        app.send_with(&emma, conversation.id, new_client_id(), &ids)
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "too_many_attachments"));
    assert!(message.contains("at most 4"), "{message}");
    let twice = [ids[0], ids[0]];
    let (status, code, _) = refusal(
        app.send_with(&emma, conversation.id, new_client_id(), &twice)
            .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "invalid_input"));
    let response = app
        .send_with(&emma, conversation.id, new_client_id(), &ids[..4])
        .await;
    assert_eq!(response.status(), 201);
    let message: Message = response.json().await.unwrap();
    assert_eq!(message.attachments.len(), 4);
}
