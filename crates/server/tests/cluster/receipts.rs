//! Receipts across instances: the doctor's device on one instance says it received and read
//! the patient's message; the patient's socket on another instance is told, through the bus,
//! with the time of the read.

use crate::harness::*;
use colloque_protocol::{ClientFrame, ServerFrame};

/// The next `read` or `delivered` frame on `socket`, skipping pushed messages.
async fn next_cursor(socket: &mut Socket, who: &str) -> ServerFrame {
    loop {
        match socket.next(PATIENCE).await {
            Seen::Frame(frame) => match *frame {
                ServerFrame::Message { .. } | ServerFrame::Conversation { .. } => continue,
                frame => return frame,
            },
            other => panic!("{who}: expected a cursor, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doctors_receipt_and_read_on_one_instance_reach_the_patient_on_another() {
    let cluster = start(2, false, &[]).await;
    let ports = cluster.ports();
    let emma = login(ports[0], EMMA).await;
    let martin = login(ports[1], MARTIN).await;
    let conversation = only_conversation(ports[0], &emma).await.id;
    let mut emma_on_1 = Socket::open(ports[0], &emma).await;
    let mut martin_on_2 = Socket::open(ports[1], &martin).await;

    let sent = emma_on_1
        .send_and_ack(conversation, "Ma tension est à 15")
        .await;
    let pushed = martin_on_2.messages(conversation, 1).await;
    assert_eq!(pushed[0].seq, sent.seq);

    martin_on_2
        .send(&ClientFrame::Received {
            conversation_id: conversation,
            seq: sent.seq,
        })
        .await;
    match next_cursor(&mut emma_on_1, "emma on 1").await {
        ServerFrame::Delivered { cursor } => {
            assert_eq!((cursor.user_id, cursor.seq), (martin.id, sent.seq));
        }
        other => panic!("expected the doctor's delivery cursor, got {other:?}"),
    }

    martin_on_2
        .send(&ClientFrame::MarkRead {
            conversation_id: conversation,
            seq: sent.seq,
        })
        .await;
    match next_cursor(&mut emma_on_1, "emma on 1").await {
        ServerFrame::Read { cursor } => {
            assert_eq!((cursor.user_id, cursor.seq), (martin.id, sent.seq));
            assert!(cursor.at.is_some_and(|at| at >= sent.sent_at), "{cursor:?}");
        }
        other => panic!("expected the doctor's read cursor, got {other:?}"),
    }
}
