use crate::helpers::*;
use colloque_protocol::{ConversationStatus, ConversationSummary, ServerFrame, UserProfile};
use serde_json::{Value, json};

#[tokio::test]
async fn each_user_lists_exactly_their_own_conversations() {
    let app = spawn_app().await;

    let mut seen = Vec::new();
    for (email, expected) in [
        (MARTIN, vec!["Résultats de prise de sang"]),
        (DURAND, vec!["Suivi tension"]),
        (EMMA, vec!["Résultats de prise de sang"]),
        (LUCAS, vec!["Suivi tension"]),
        (HUGO, vec![]),
    ] {
        let session = app.login(email).await;
        let list = app.conversations(&session).await;
        let subjects: Vec<&str> = list.iter().map(|c| c.subject.as_str()).collect();
        assert_eq!(subjects, expected, "{email}");
        for conversation in &list {
            assert!(
                conversation.patient.id == session.id || conversation.doctor.id == session.id,
                "{email} sees a conversation they are not part of"
            );
        }
        seen.push((email, list));
    }
    // The demo conversation Emma–Martin: one message from Emma is unread by Martin.
    let martin_view = &seen[0].1[0];
    assert_eq!(martin_view.unread_count, 1);
    assert_eq!(martin_view.last_seq.0, 3);
    assert_eq!(martin_view.my_read_seq.0, 2);
    assert_eq!(martin_view.other_read_seq.0, 3);
    let preview = martin_view.last_message.as_ref().unwrap();
    assert_eq!(preview.seq.0, 3);
    assert!(preview.excerpt.chars().count() <= 140);
    let emma_view = &seen[2].1[0];
    assert_eq!(emma_view.unread_count, 0);
}

#[tokio::test]
async fn the_list_is_sorted_by_latest_activity_and_previews_are_short() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let martin = app.login(MARTIN).await;
    let created: ConversationSummary = app
        .start_conversation(&lucas, martin.id)
        .await
        .json()
        .await
        .unwrap();
    app.send_ok(&lucas, created.id, &"é".repeat(500)).await;

    let list = app.conversations(&lucas).await;

    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, created.id);
    assert!(list[0].last_activity_at >= list[1].last_activity_at);
    assert_eq!(
        list[0]
            .last_message
            .as_ref()
            .unwrap()
            .excerpt
            .chars()
            .count(),
        140
    );
}

#[tokio::test]
async fn starting_a_conversation_creates_it_once_and_pushes_it_to_both_users() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let martin = app.login(MARTIN).await;
    let mut lucas_socket = app.socket(&lucas).await;
    let mut martin_socket = app.socket(&martin).await;

    let first = app.start_conversation(&lucas, martin.id).await;
    let second = app.start_conversation(&lucas, martin.id).await;

    assert_eq!(first.status(), 201);
    assert_eq!(second.status(), 200);
    let first: ConversationSummary = first.json().await.unwrap();
    let second: ConversationSummary = second.json().await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(first.status, ConversationStatus::Open);
    for socket in [&mut lucas_socket, &mut martin_socket] {
        match socket.next_frame().await {
            ServerFrame::Conversation { conversation } => assert_eq!(conversation.id, first.id),
            other => panic!("expected a conversation frame, got {other:?}"),
        }
        socket.assert_nothing_pending().await;
    }
}

#[tokio::test]
async fn a_doctor_can_start_a_conversation_with_a_patient_and_gets_the_default_subject() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let hugo = app.login(HUGO).await;

    let response = app
        .post(
            "/api/conversations",
            &martin.token,
            &json!({"with_user_id": hugo.id, "topic": "test_results"}),
        )
        .await;

    assert_eq!(response.status(), 201);
    let summary: ConversationSummary = response.json().await.unwrap();
    assert_eq!(summary.subject, "Nouvelle conversation");
    assert_eq!(summary.patient.id, hugo.id);
    // A conversation the doctor starts is already in their hands.
    assert_eq!(summary.triage, colloque_protocol::TriageState::InProgress);
}

#[tokio::test]
async fn starting_a_conversation_outside_the_care_team_is_forbidden() {
    let app = spawn_app().await;
    let hugo = app.login(HUGO).await;
    let durand = app.login(DURAND).await;
    let emma = app.login(EMMA).await;

    for (session, with) in [(&hugo, durand.id), (&durand, hugo.id), (&hugo, emma.id)] {
        let response = app.start_conversation(session, with).await;
        assert_eq!(response.status(), 403);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "no_care_relationship");
    }
    assert!(app.conversations(&hugo).await.is_empty());
}

#[tokio::test]
async fn the_care_team_and_patient_lists_follow_the_care_relationships() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let durand = app.login(DURAND).await;

    let doctors: Vec<UserProfile> = app
        .get("/api/care-team", &lucas.token)
        .await
        .json()
        .await
        .unwrap();
    let patients: Vec<UserProfile> = app
        .get("/api/patients", &durand.token)
        .await
        .json()
        .await
        .unwrap();

    let names = |list: &[UserProfile]| {
        list.iter()
            .map(|u| u.display_name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&doctors), ["Dr Claire Martin", "Dr Paul Durand"]);
    assert_eq!(names(&patients), ["Emma Petit", "Lucas Bernard"]);
    assert_eq!(app.get("/api/patients", &lucas.token).await.status(), 403);
    assert_eq!(app.get("/api/care-team", &durand.token).await.status(), 403);
}

#[tokio::test]
async fn appointments_are_the_users_own_in_ascending_order() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let martin = app.login(MARTIN).await;
    let hugo = app.login(HUGO).await;

    let lucas_list: Vec<Value> = app
        .get("/api/appointments", &lucas.token)
        .await
        .json()
        .await
        .unwrap();
    let martin_list: Vec<Value> = app
        .get("/api/appointments", &martin.token)
        .await
        .json()
        .await
        .unwrap();
    let hugo_list: Vec<Value> = app
        .get("/api/appointments", &hugo.token)
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(lucas_list.len(), 3);
    assert_eq!(martin_list.len(), 4);
    assert_eq!(hugo_list.len(), 1);
    for list in [&lucas_list, &martin_list] {
        let starts: Vec<i64> = list
            .iter()
            .map(|a| a["starts_at"].as_i64().unwrap())
            .collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    }
    assert!(lucas_list.iter().all(|a| a["patient"]["id"] == lucas.id.0));
    assert!(
        lucas_list
            .iter()
            .any(|a| a["reason"] == "Renouvellement d'ordonnance")
    );
}

#[tokio::test]
async fn only_the_doctor_closes_a_conversation_and_then_nothing_can_be_sent() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&emma).await;
    let mut emma_socket = app.socket(&emma).await;
    let path = format!("/api/conversations/{}/close", conversation.id);

    let reason = json!({"reason": "Traitement prescrit"});
    let by_patient = app.post(&path, &emma.token, &reason).await;
    let by_doctor = app.post(&path, &martin.token, &reason).await;

    assert_eq!(by_patient.status(), 403);
    assert_eq!(by_doctor.status(), 200);
    match emma_socket.next_frame().await {
        ServerFrame::Message { message } => assert_eq!(message.seq.0, 4, "the closing line"),
        other => panic!("expected the closing line, got {other:?}"),
    }
    match emma_socket.next_frame().await {
        ServerFrame::Conversation { conversation } => {
            assert_eq!(conversation.status, ConversationStatus::Closed);
        }
        other => panic!("expected a conversation frame, got {other:?}"),
    }
    let response = app
        .send_message(
            &emma,
            conversation.id,
            new_client_id(),
            "Encore une question",
        )
        .await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "conversation_closed");
    assert_eq!(app.last_seq(&emma, conversation.id).await, 4);
    emma_socket.assert_nothing_pending().await;
    // A new conversation can be started once the old one is closed.
    assert_eq!(app.start_conversation(&emma, martin.id).await.status(), 201);
}
