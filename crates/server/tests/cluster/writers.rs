//! Concurrent writers on several instances, one conversation: PostgreSQL's row lock keeps the
//! seqs gap-free, and the (sender, client id) key stores each message once whichever
//! instance a retry reaches.

use crate::harness::*;
use colloque_protocol::{ClientMsgId, Message};
use std::collections::{HashMap, HashSet};

const WRITERS_PER_INSTANCE: usize = 8;
const MESSAGES_PER_WRITER: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_times_eight_writers_on_one_conversation_store_seq_1_to_n_once_each() {
    let cluster = start(3, false, &[]).await;
    let ports = cluster.ports();
    let emma = login(ports[0], EMMA).await;
    let martin = login(ports[0], MARTIN).await;
    let conversation = only_conversation(ports[0], &emma).await;
    let first_new = conversation.last_seq.0 + 1;

    let mut writers = Vec::new();
    for (instance, port) in ports.iter().copied().enumerate() {
        for writer in 0..WRITERS_PER_INSTANCE {
            // Both participants write; each message is also sent again, with the same client
            // id, through the next instance (a client retrying after a lost answer).
            let user = if writer % 2 == 0 {
                emma.clone()
            } else {
                martin.clone()
            };
            let retry_port = ports[(instance + 1) % ports.len()];
            writers.push(tokio::spawn(async move {
                let mut mine: Vec<(ClientMsgId, Message, Message)> = Vec::new();
                for n in 0..MESSAGES_PER_WRITER {
                    let client_id = new_client_id();
                    let body = format!("instance {instance} writer {writer} message {n}");
                    let first = send(port, &user, conversation.id, client_id, &body)
                        .await
                        .expect("stored");
                    let again = send(retry_port, &user, conversation.id, client_id, &body)
                        .await
                        .expect("the retry answered");
                    mine.push((client_id, first, again));
                }
                mine
            }));
        }
    }
    let mut sent = Vec::new();
    for writer in writers {
        sent.extend(writer.await.expect("a writer finished"));
    }

    let stored = read_all(ports[2], &emma, conversation.id).await;
    let new: Vec<&Message> = stored.iter().filter(|m| m.seq.0 >= first_new).collect();
    let total = 3 * WRITERS_PER_INSTANCE * MESSAGES_PER_WRITER;
    assert_eq!(new.len(), total, "every message stored, none twice");
    let seqs: Vec<i64> = new.iter().map(|m| m.seq.0).collect();
    let expected: Vec<i64> = (first_new..first_new + total as i64).collect();
    assert_eq!(seqs, expected, "seq runs without a gap");
    assert!(
        new.iter()
            .all(|m| m.sender_id == emma.id || m.sender_id == martin.id),
        "only the two participants wrote"
    );
    let keys: HashSet<(i64, ClientMsgId)> =
        new.iter().map(|m| (m.sender_id.0, m.client_id)).collect();
    assert_eq!(keys.len(), total, "each (sender, client id) once");
    let by_client: HashMap<ClientMsgId, &Message> = new.iter().map(|m| (m.client_id, *m)).collect();
    for (client_id, first, again) in &sent {
        assert_eq!(first.id, again.id, "the retry got the original message");
        assert_eq!(
            by_client[client_id].id, first.id,
            "the ack is what is stored"
        );
    }
}
