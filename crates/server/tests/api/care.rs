//! Authorization holds for the life of a conversation, not only at its start: every send
//! re-checks that both participants are enabled and still in a care relationship, and the
//! admin `unlink` ends one, closes its conversation and tells the sockets.

use crate::helpers::*;
use colloque_protocol::{
    ClientFrame, ConversationId, ConversationStatus, ErrorCode, Message, ServerFrame,
};
use colloque_server::admin;
use colloque_server::bus::{self, Event as Wakeup};
use serde_json::Value;
use std::time::Duration;

async fn refused_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, error_code(&body).to_owned())
}

fn no_care_relationship() -> (u16, String) {
    (403, "no_care_relationship".to_owned())
}

#[tokio::test]
async fn a_send_after_the_care_relationship_ended_is_refused() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let durand = app.login(DURAND).await;
    let conversation = app.only_conversation(&lucas).await.id;
    let before = app
        .send_ok(&lucas, conversation, "Avant la fin du suivi")
        .await;
    let mut durand_socket = app.socket(&durand).await;

    let unlinked = admin::unlink(&app.db().await, DURAND, LUCAS).await.unwrap();

    assert!(unlinked.was_linked);
    assert_eq!(unlinked.closed, Some(conversation));
    let after = app
        .send_message(&lucas, conversation, new_client_id(), "Après")
        .await;
    assert_eq!(refused_code(after).await, no_care_relationship());
    let client_id = new_client_id();
    durand_socket
        .send(&ClientFrame::Send {
            conversation_id: conversation,
            client_id,
            body: "Après, côté médecin".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    assert_eq!(
        durand_socket.next_error().await,
        (ErrorCode::NoCareRelationship, Some(client_id))
    );
    // A retry of what was stored before still gets its message, and nothing else was stored.
    let retry = app
        .send_message(
            &lucas,
            conversation,
            before.client_id,
            "Avant la fin du suivi",
        )
        .await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.json::<Message>().await.unwrap().id, before.id);
    let page = app.history(&lucas, conversation, "").await;
    assert_eq!(
        page.messages.last().unwrap().id,
        before.id,
        "still readable"
    );
    let summary = app.only_conversation(&lucas).await;
    assert_eq!(summary.status, ConversationStatus::Closed);
    let restart = app.start_conversation(&lucas, durand.id).await;
    assert_eq!(refused_code(restart).await, no_care_relationship());
    // Recorded for each of the two.
    for email in [LUCAS, DURAND] {
        let trail = app.audit_of(email).await;
        let entry = trail
            .iter()
            .find(|r| r.action == "care_unlinked")
            .expect(email);
        assert_eq!(entry.conversation_id, Some(conversation.0));
        assert_eq!(entry.transport, "cli");
    }
}

#[tokio::test]
async fn a_send_to_a_disabled_doctor_is_refused() {
    let app = spawn_app().await;
    let emma = app.login(EMMA).await;
    let durand = app.login(DURAND).await;
    let with_martin = app.only_conversation(&emma).await.id;
    let mut socket = app.socket(&emma).await;
    let db = app.db().await;

    admin::set_disabled(&db, MARTIN, true).await.unwrap();

    let rest = app
        .send_message(&emma, with_martin, new_client_id(), "Docteur ?")
        .await;
    assert_eq!(refused_code(rest).await, no_care_relationship());
    let client_id = new_client_id();
    socket
        .send(&ClientFrame::Send {
            conversation_id: with_martin,
            client_id,
            body: "Docteur ?".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    assert_eq!(
        socket.next_error().await,
        (ErrorCode::NoCareRelationship, Some(client_id))
    );
    // Her other doctor is not affected.
    let started = app.start_conversation(&emma, durand.id).await;
    assert_eq!(started.status(), 201);
    let with_durand: colloque_protocol::ConversationSummary = started.json().await.unwrap();
    app.send_ok(&emma, with_durand.id, "Bonjour Docteur Durand")
        .await;
    // The check is made on every send: enabled again, the doctor can be written to.
    admin::set_disabled(&db, MARTIN, false).await.unwrap();
    app.send_ok(&emma, with_martin, "Docteur ?").await;
}

/// Waits until a wake-up published for `user` reaches `socket`: the server subscribes to a
/// user's wake-ups once it holds one of their sockets, a moment after the socket is ready.
async fn until_the_bus_reaches(
    url: &str,
    session: &Session,
    conversation: ConversationId,
    socket: &mut Socket,
) {
    for _ in 0..50 {
        bus::announce(url, &[(session.id, Wakeup::Conversation { conversation })])
            .await
            .unwrap();
        if let Ok(Event::Frame(frame)) =
            tokio::time::timeout(Duration::from_millis(200), socket.next_event()).await
            && matches!(*frame, ServerFrame::Conversation { .. })
        {
            return;
        }
    }
    panic!("the server never subscribed to the user's wake-ups");
}

/// The next `conversation` frame that shows `conversation` closed (an earlier probe's frame,
/// still open, may come first).
async fn closed_frame(socket: &mut Socket, conversation: ConversationId) {
    loop {
        match socket.next_frame().await {
            ServerFrame::Conversation { conversation: seen }
                if seen.id == conversation && seen.status == ConversationStatus::Closed =>
            {
                return;
            }
            ServerFrame::Conversation { .. } => continue,
            other => panic!("expected the closed conversation, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn unlink_closes_the_open_conversation_and_tells_the_sockets() {
    let nats = tokio::task::spawn_blocking(colloque_testbed::Nats::start)
        .await
        .unwrap()
        .expect("a private nats-server starts");
    let url = nats.url();
    let app = spawn_app_with({
        let url = url.clone();
        move |config| config.nats_url = Some(url)
    })
    .await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&emma).await.id;
    let mut emma_socket = app.socket(&emma).await;
    let mut martin_socket = app.socket(&martin).await;
    until_the_bus_reaches(&url, &emma, conversation, &mut emma_socket).await;
    until_the_bus_reaches(&url, &martin, conversation, &mut martin_socket).await;

    let output = app
        .admin_command(&[
            "unlink",
            "--doctor",
            MARTIN,
            "--patient",
            EMMA,
            "--nats-url",
            &url,
        ])
        .await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains(&format!("conversation {conversation} closed")),
        "{stdout}"
    );
    closed_frame(&mut emma_socket, conversation).await;
    closed_frame(&mut martin_socket, conversation).await;
    let client_id = new_client_id();
    emma_socket
        .send(&ClientFrame::Send {
            conversation_id: conversation,
            client_id,
            body: "Docteur ?".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    assert_eq!(
        emma_socket.next_error().await,
        (ErrorCode::NoCareRelationship, Some(client_id))
    );
    // Run again, it changes nothing, and says so.
    let again = app
        .admin_command(&["unlink", "--doctor", MARTIN, "--patient", EMMA])
        .await;
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));
}
