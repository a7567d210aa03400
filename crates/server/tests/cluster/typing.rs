//! The typing indicator across instances: the doctor writes on one instance, the patient's
//! socket on another is told through the bus; her choice to hide her own writing, made on one
//! instance, holds on the other.

use crate::harness::*;
use colloque_protocol::{ClientFrame, ConversationId, ServerFrame, TYPING_INTERVAL_MS, UserId};
use std::time::Duration;

/// Sends `typing` from `writer` until `reader` is told (a socket's bus subscription may still
/// be starting when the test begins, and a typing frame lost meanwhile is never sent again:
/// it is ephemeral), for at most [`PATIENCE`].
async fn told(writer: &mut Socket, reader: &mut Socket, conversation: ConversationId) -> UserId {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        writer
            .send(&ClientFrame::Typing {
                conversation_id: conversation,
            })
            .await;
        let interval = Duration::from_millis(TYPING_INTERVAL_MS.unsigned_abs() + 200);
        loop {
            match reader.next(interval).await {
                Seen::Frame(frame) => match *frame {
                    ServerFrame::Typing {
                        conversation_id,
                        user_id,
                    } if conversation_id == conversation => return user_id,
                    _ => continue,
                },
                Seen::Nothing => break,
                Seen::Closed(code) => panic!("the reader's socket closed: {code:?}"),
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the typing frame never reached the other instance"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctor_writing_on_one_instance_is_shown_to_the_patient_on_another() {
    let cluster = start(2, false, &[]).await;
    let ports = cluster.ports();
    let emma = login(ports[0], EMMA).await;
    let martin = login(ports[1], MARTIN).await;
    let conversation = only_conversation(ports[0], &emma).await.id;
    let mut emma_on_1 = Socket::open(ports[0], &emma).await;
    let mut martin_on_2 = Socket::open(ports[1], &martin).await;

    assert_eq!(
        told(&mut martin_on_2, &mut emma_on_1, conversation).await,
        martin.id
    );
    assert_eq!(
        told(&mut emma_on_1, &mut martin_on_2, conversation).await,
        emma.id
    );

    // She hides her writing on instance 2; instance 1 honours it.
    let response = http()
        .put(format!("http://127.0.0.1:{}/api/me/typing", ports[1]))
        .bearer_auth(&emma.token)
        .json(&serde_json::json!({"share_typing": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    tokio::time::sleep(Duration::from_millis(
        TYPING_INTERVAL_MS.unsigned_abs() + 200,
    ))
    .await;
    emma_on_1
        .send(&ClientFrame::Typing {
            conversation_id: conversation,
        })
        .await;
    // Waited for as long as the bus took above, and more: nothing comes.
    loop {
        match martin_on_2.next(Duration::from_secs(3)).await {
            Seen::Nothing => break,
            Seen::Frame(frame) => assert!(
                !matches!(*frame, ServerFrame::Typing { .. }),
                "her writing was shown: {frame:?}"
            ),
            Seen::Closed(code) => panic!("closed: {code:?}"),
        }
    }
}
