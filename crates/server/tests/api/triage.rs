//! Topics and triage states (issue 12): a request starts with a topic; the doctor's queue moves
//! new → in progress → waiting for the patient → done, by hand and on its own; closing takes a
//! reason and posts a system line with its own seq; reopening is audited; every tab hears it.

use crate::helpers::*;
use colloque_protocol::{
    ConversationId, ConversationStatus, ConversationSummary, Message, MessageKind, ServerFrame,
    Topic, TriageState,
};
use serde_json::{Value, json};

async fn refused(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, error_code(&body).to_owned())
}

async fn summary(response: reqwest::Response) -> ConversationSummary {
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn set_triage(
    app: &TestApp,
    who: &Session,
    id: ConversationId,
    state: &str,
) -> reqwest::Response {
    app.post(
        &format!("/api/conversations/{id}/triage"),
        &who.token,
        &json!({"state": state}),
    )
    .await
}

async fn close(
    app: &TestApp,
    who: &Session,
    id: ConversationId,
    reason: &str,
) -> reqwest::Response {
    app.post(
        &format!("/api/conversations/{id}/close"),
        &who.token,
        &json!({"reason": reason}),
    )
    .await
}

async fn reopen(app: &TestApp, who: &Session, id: ConversationId) -> reqwest::Response {
    app.post(
        &format!("/api/conversations/{id}/reopen"),
        &who.token,
        &json!({}),
    )
    .await
}

/// The next frame, which must be the conversation `id` as a `conversation` frame.
async fn next_summary(socket: &mut Socket, id: ConversationId) -> ConversationSummary {
    match socket.next_frame().await {
        ServerFrame::Conversation { conversation } if conversation.id == id => conversation,
        other => panic!("expected conversation {id}, got {other:?}"),
    }
}

/// The next frame, which must be a message.
async fn next_message(socket: &mut Socket) -> Message {
    match socket.next_frame().await {
        ServerFrame::Message { message } => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_request_needs_a_known_topic_and_enters_the_doctors_queue_as_new() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let martin = app.login(MARTIN).await;
    for body in [
        json!({"with_user_id": martin.id, "subject": "Ordonnance"}),
        json!({"with_user_id": martin.id, "topic": "gossip"}),
    ] {
        let response = app.post("/api/conversations", &lucas.token, &body).await;
        assert_eq!(refused(response).await, (400, "invalid_json".into()));
    }
    assert_eq!(app.conversations(&lucas).await.len(), 1, "nothing created");

    let started = app
        .post(
            "/api/conversations",
            &lucas.token,
            &json!({"with_user_id": martin.id, "subject": "Ordonnance", "topic": "prescription_renewal"}),
        )
        .await;
    assert_eq!(started.status(), 201);
    let mine: ConversationSummary = started.json().await.unwrap();
    assert_eq!(mine.topic, Topic::PrescriptionRenewal);
    assert_eq!(mine.triage, TriageState::New);
    assert_eq!(mine.waiting_since, None, "nothing written yet");
    let doctors = app.conversations(&martin).await;
    let seen = doctors.iter().find(|c| c.id == mine.id).unwrap();
    assert_eq!(
        (seen.topic, seen.triage),
        (Topic::PrescriptionRenewal, TriageState::New)
    );
    // The demo conversation from before topics existed, already answered by the doctor.
    let older = doctors.iter().find(|c| c.id != mine.id).unwrap();
    assert_eq!(
        (older.topic, older.triage),
        (Topic::TestResults, TriageState::InProgress)
    );
    assert!(
        older.waiting_since.is_some(),
        "Emma's last message is unanswered"
    );
}

#[tokio::test]
async fn messages_move_the_queue_and_the_waiting_time_on_their_own() {
    let app = spawn_app().await;
    let hugo = app.login(HUGO).await;
    let martin = app.login(MARTIN).await;
    let started: ConversationSummary = app
        .post(
            "/api/conversations",
            &hugo.token,
            &json!({"with_user_id": martin.id, "topic": "certificate"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = started.id;

    let first = app
        .send_ok(&hugo, id, "Bonjour, il me faut un certificat.")
        .await;
    app.send_ok(&hugo, id, "C'est pour le club de tennis.")
        .await;
    let waiting = summary(
        app.get(&format!("/api/conversations/{id}"), &martin.token)
            .await,
    )
    .await;
    assert_eq!(waiting.triage, TriageState::New);
    assert_eq!(
        waiting.waiting_since,
        Some(first.sent_at),
        "since the first unanswered"
    );

    let mut martin_socket = app.socket(&martin).await;
    let mut hugo_socket = app.socket(&hugo).await;
    app.send_ok(&martin, id, "Je vous le prépare.").await;
    next_message(&mut hugo_socket).await;
    let taken = next_summary(&mut hugo_socket, id).await;
    assert_eq!(
        (taken.triage, taken.waiting_since),
        (TriageState::InProgress, None)
    );
    next_message(&mut martin_socket).await;
    assert_eq!(
        next_summary(&mut martin_socket, id).await.triage,
        TriageState::InProgress
    );

    let moved = summary(set_triage(&app, &martin, id, "waiting_patient").await).await;
    assert_eq!(moved.triage, TriageState::WaitingPatient);
    for socket in [&mut martin_socket, &mut hugo_socket] {
        assert_eq!(
            next_summary(socket, id).await.triage,
            TriageState::WaitingPatient
        );
    }
    // The awaited answer gives the conversation back to the doctor.
    let answer = app.send_ok(&hugo, id, "Voici le formulaire du club.").await;
    next_message(&mut martin_socket).await;
    let back = next_summary(&mut martin_socket, id).await;
    assert_eq!(back.triage, TriageState::InProgress);
    assert_eq!(back.waiting_since, Some(answer.sent_at));
    assert!(back.triage_at >= answer.sent_at);
    let trail = app.audit_of(MARTIN).await;
    let change = trail.iter().find(|r| r.action == "triage_changed").unwrap();
    assert_eq!(
        change.detail.as_deref(),
        Some("in_progress→waiting_patient")
    );
    assert_eq!(change.conversation_id, Some(id.0));
}

#[tokio::test]
async fn only_the_doctor_moves_a_conversation_and_done_takes_a_reason() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let lucas = app.login(LUCAS).await;
    let id = app.only_conversation(&emma).await.id;

    assert_eq!(
        refused(set_triage(&app, &emma, id, "new").await).await.0,
        403
    );
    assert_eq!(
        refused(set_triage(&app, &lucas, id, "new").await).await.0,
        404
    );
    assert_eq!(
        refused(set_triage(&app, &martin, id, "done").await).await,
        (400, "invalid_input".into())
    );
    assert_eq!(
        refused(set_triage(&app, &martin, id, "later").await).await,
        (400, "invalid_json".into())
    );
    // Moving it where it is changes and records nothing.
    let same = summary(set_triage(&app, &martin, id, "in_progress").await).await;
    assert_eq!(same.triage, TriageState::InProgress);
    assert!(
        app.audit_of(MARTIN)
            .await
            .iter()
            .all(|r| r.action != "triage_changed")
    );

    assert_eq!(refused(close(&app, &emma, id, "Merci").await).await.0, 403);
    assert_eq!(
        refused(close(&app, &martin, id, "   ").await).await,
        (400, "invalid_input".into())
    );
    let missing = app
        .post(
            &format!("/api/conversations/{id}/close"),
            &martin.token,
            &json!({}),
        )
        .await;
    assert_eq!(refused(missing).await, (400, "invalid_json".into()));
    assert_eq!(app.last_seq(&emma, id).await, 3, "no line written");

    summary(close(&app, &martin, id, "Traitement prescrit").await).await;
    assert_eq!(
        refused(set_triage(&app, &martin, id, "in_progress").await).await,
        (409, "conversation_closed".into())
    );
    assert_eq!(refused(reopen(&app, &emma, id).await).await.0, 403);
}

#[tokio::test]
async fn closing_posts_one_system_line_that_every_tab_of_both_sides_receives() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let id = app.only_conversation(&emma).await.id;
    let mut tabs = vec![
        app.socket(&emma).await,
        app.socket(&emma).await,
        app.socket(&martin).await,
    ];

    let closed = summary(
        close(
            &app,
            &martin,
            id,
            "  Traitement prescrit, à revoir dans 3 mois.  ",
        )
        .await,
    )
    .await;

    assert_eq!(closed.status, ConversationStatus::Closed);
    assert_eq!(closed.triage, TriageState::Done);
    assert_eq!(closed.waiting_since, None);
    assert_eq!(closed.last_seq.0, 4);
    for tab in &mut tabs {
        let line = next_message(tab).await;
        assert_eq!((line.seq.0, line.kind), (4, MessageKind::Closed));
        assert_eq!(line.body, "Traitement prescrit, à revoir dans 3 mois.");
        assert_eq!(line.sender_id, martin.id);
        let view = next_summary(tab, id).await;
        assert_eq!(
            (view.status, view.triage),
            (ConversationStatus::Closed, TriageState::Done)
        );
        tab.assert_nothing_pending().await;
    }
    // It is in the history like any message, and counts as unread for the patient only.
    let page = app.history(&emma, id, "?after=3").await;
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].kind, MessageKind::Closed);
    assert_eq!(app.only_conversation(&emma).await.unread_count, 1);
    let preview = app.only_conversation(&emma).await.last_message.unwrap();
    assert_eq!(preview.kind, MessageKind::Closed);
    // Closing again changes nothing and writes no second line.
    summary(close(&app, &martin, id, "Encore").await).await;
    assert_eq!(app.last_seq(&emma, id).await, 4);
    for tab in &mut tabs {
        tab.assert_nothing_pending().await;
    }
    let send = app
        .send_message(&emma, id, new_client_id(), "Et ensuite ?")
        .await;
    assert_eq!(refused(send).await, (409, "conversation_closed".into()));
    let trail = app.audit_of(MARTIN).await;
    let closings: Vec<_> = trail
        .iter()
        .filter(|r| r.action == "conversation_closed")
        .collect();
    assert_eq!(closings.len(), 1);
    assert_eq!(closings[0].conversation_id, Some(id.0));
    assert!(
        !closings[0]
            .detail
            .clone()
            .unwrap_or_default()
            .contains("Traitement"),
        "the reason is in the thread, not in the trail"
    );
}

#[tokio::test]
async fn reopening_is_audited_and_refused_while_another_request_is_open() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let old = app.only_conversation(&emma).await.id;
    summary(close(&app, &martin, old, "Répondu").await).await;
    let newer: ConversationSummary = app
        .post(
            "/api/conversations",
            &emma.token,
            &json!({"with_user_id": martin.id, "topic": "administrative"}),
        )
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(
        refused(reopen(&app, &martin, old).await).await,
        (409, "open_conversation_exists".into())
    );
    summary(close(&app, &martin, newer.id, "Rendez-vous fixé").await).await;
    let mut emma_socket = app.socket(&emma).await;
    let reopened = summary(reopen(&app, &martin, old).await).await;

    assert_eq!(reopened.status, ConversationStatus::Open);
    assert_eq!(reopened.triage, TriageState::InProgress);
    let line = next_message(&mut emma_socket).await;
    assert_eq!((line.seq.0, line.kind), (5, MessageKind::Reopened));
    assert_eq!(
        next_summary(&mut emma_socket, old).await.status,
        ConversationStatus::Open
    );
    app.send_ok(&emma, old, "Merci de rouvrir").await;
    // Reopening an open conversation changes nothing.
    summary(reopen(&app, &martin, old).await).await;
    assert_eq!(app.last_seq(&emma, old).await, 6);
    let trail = app.audit_of(MARTIN).await;
    let count = |action: &str| trail.iter().filter(|r| r.action == action).count();
    assert_eq!(count("conversation_closed"), 2);
    assert_eq!(count("conversation_reopened"), 1);
}
