//! The registry's rules: each message once, in order, gaps reported; slow sockets cut off.

use super::*;
use colloque_protocol::{ClientMsgId, Message, MessageId, Timestamp};

fn pong(nonce: u64) -> ServerFrame {
    ServerFrame::Pong { nonce }
}

fn session(name: &str) -> SessionId {
    SessionId(name.into())
}

fn register(registry: &Registry, user: i64, name: &str) -> Registration {
    let heads = vec![(ConversationId(1), Seq(4))];
    registry.register(UserId(user), Role::Patient, session(name), 0, heads)
}

fn message(seq: i64) -> Message {
    Message {
        id: MessageId(seq),
        conversation_id: ConversationId(1),
        seq: Seq(seq),
        sender_id: UserId(2),
        client_id: client_id(seq),
        body: format!("message {seq}"),
        sent_at: Timestamp(0),
        kind: Default::default(),
        attachments: Vec::new(),
    }
}

fn client_id(seq: i64) -> ClientMsgId {
    ClientMsgId(uuid::Uuid::from_u128(seq as u128))
}

fn texts(registration: &mut Registration) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(Outbound::Text(text)) = registration.rx.try_recv() {
        out.push(text.to_string());
    }
    out
}

#[test]
fn a_frame_reaches_every_socket_of_the_users_but_the_excluded_one() {
    let registry = Registry::default();
    let mut a1 = register(&registry, 1, "s1");
    let mut a2 = register(&registry, 1, "s2");
    let mut b = register(&registry, 2, "s3");
    let mut other = register(&registry, 3, "s4");

    registry.send_to_users(&[UserId(1), UserId(2)], &pong(1), Some(a1.id));

    assert!(a1.rx.try_recv().is_err());
    assert!(matches!(a2.rx.try_recv(), Ok(Outbound::Text(_))));
    assert!(matches!(b.rx.try_recv(), Ok(Outbound::Text(_))));
    assert!(other.rx.try_recv().is_err());
}

#[test]
fn a_message_is_pushed_once_in_order_and_a_gap_is_reported_not_skipped() {
    let registry = Registry::default();
    let mut socket = register(&registry, 1, "s1");
    let text = |seq| {
        serialize(&ServerFrame::Message {
            message: message(seq),
        })
    };

    let first = registry.offer(UserId(1), &message(5), &text(5), None);
    let again = registry.offer(UserId(1), &message(5), &text(5), None);
    let ahead = registry.offer(UserId(1), &message(7), &text(7), None);

    assert_eq!((first.gap, again.gap, ahead.gap), (false, false, true));
    assert_eq!(
        (first.pushed, again.pushed, ahead.pushed),
        (true, false, false)
    );
    assert_eq!(texts(&mut socket).len(), 1, "seq 5 once, seq 7 held back");
    assert_eq!(
        registry.behind(UserId(1), ConversationId(1), Seq(7)),
        Some((Seq(5), false))
    );
    let pushed = registry.fill(
        UserId(1),
        ConversationId(1),
        None,
        &[
            (Seq(5), client_id(5), text(5)),
            (Seq(6), client_id(6), text(6)),
            (Seq(7), client_id(7), text(7)),
        ],
    );
    assert_eq!(pushed, vec![Seq(6), Seq(7)]);
    let filled = texts(&mut socket);
    assert_eq!(filled.len(), 2);
    assert!(filled[0].contains("\"seq\":6") && filled[1].contains("\"seq\":7"));
    assert_eq!(registry.behind(UserId(1), ConversationId(1), Seq(7)), None);
}

#[test]
fn a_message_acked_while_its_socket_stood_further_back_is_passed_over_not_pushed() {
    let registry = Registry::default();
    let mut origin = register(&registry, 1, "s1");
    let text = |seq| {
        serialize(&ServerFrame::Message {
            message: message(seq),
        })
    };

    // Seq 5 (from another instance) is still on its way when the socket's own send is
    // stored as seq 6 and acked.
    let offered = registry.offer(UserId(1), &message(6), &text(6), Some(origin.id));
    let pushed = registry.fill(
        UserId(1),
        ConversationId(1),
        None,
        &[
            (Seq(5), client_id(5), text(5)),
            (Seq(6), client_id(6), text(6)),
        ],
    );

    assert!(offered.gap);
    assert_eq!(pushed, vec![Seq(5)]);
    assert_eq!(
        texts(&mut origin).len(),
        1,
        "seq 5 only: seq 6 came as the ack"
    );
    assert_eq!(registry.behind(UserId(1), ConversationId(1), Seq(6)), None);
}

#[test]
fn a_gap_filled_between_a_sends_commit_and_its_ack_does_not_echo_it_to_its_sender() {
    let registry = Registry::default();
    let mut origin = register(&registry, 1, "s1");
    let text = |seq| {
        serialize(&ServerFrame::Message {
            message: message(seq),
        })
    };
    registry.sending(UserId(1), origin.id, client_id(6));

    // A fill reads seqs 5 (another instance's) and 6 (this socket's send, just committed)
    // before the writer offers seq 6.
    let pushed = registry.fill(
        UserId(1),
        ConversationId(1),
        None,
        &[
            (Seq(5), client_id(5), text(5)),
            (Seq(6), client_id(6), text(6)),
        ],
    );
    let offered = registry.offer(UserId(1), &message(6), &text(6), Some(origin.id));
    registry.answered(UserId(1), origin.id, client_id(6));

    assert_eq!(pushed, vec![Seq(5)]);
    assert!(!offered.pushed && !offered.gap);
    assert_eq!(
        texts(&mut origin).len(),
        1,
        "seq 5 only: seq 6 comes as the ack"
    );
}

#[test]
fn the_sending_socket_moves_on_without_a_copy_of_its_own_message() {
    let registry = Registry::default();
    let mut origin = register(&registry, 1, "s1");
    let mut other_tab = register(&registry, 1, "s2");
    let text = serialize(&ServerFrame::Message {
        message: message(5),
    });

    registry.offer(UserId(1), &message(5), &text, Some(origin.id));

    assert!(texts(&mut origin).is_empty());
    assert_eq!(texts(&mut other_tab).len(), 1);
    assert_eq!(registry.behind(UserId(1), ConversationId(1), Seq(5)), None);
}

#[test]
fn a_socket_that_does_not_keep_up_is_kicked_and_others_are_not_blocked() {
    let registry = Registry::default();
    let mut slow = register(&registry, 1, "s1");
    let mut fast = register(&registry, 1, "s2");
    for nonce in 0..=SOCKET_QUEUE as u64 {
        registry.send_to_user(UserId(1), &pong(nonce));
        while fast.rx.try_recv().is_ok() {}
    }
    let kick = slow.kicked.try_recv().unwrap();
    assert_eq!(kick.code, 1013);
    assert_eq!(kick.error.unwrap().0, ErrorCode::ResyncRequired);
    assert_eq!(registry.connection_count(UserId(1)), 1);
}

#[test]
fn closing_a_session_kicks_only_its_sockets() {
    let registry = Registry::default();
    let mut revoked = register(&registry, 1, "s1");
    let mut kept = register(&registry, 1, "s2");
    registry.close_session(&session("s1"));
    let kick = revoked.kicked.try_recv().unwrap();
    assert_eq!(kick.code, 1008);
    assert_eq!(kick.error.unwrap().0, ErrorCode::Unauthorized);
    assert!(kept.kicked.try_recv().is_err());
    assert_eq!(registry.connection_count(UserId(1)), 1);
}

#[test]
fn a_socket_left_on_an_ended_generation_is_kicked_and_a_re_authenticated_one_kept() {
    let registry = Registry::default();
    let mut stale = register(&registry, 1, "s1");
    let mut renewed = register(&registry, 1, "s1");
    registry.set_session(UserId(1), renewed.id, session("s1"), 1);

    let users = registry.close_ended(|session, generation| session.0 == "s1" && generation < 1);

    assert_eq!(users, vec![UserId(1)]);
    assert_eq!(stale.kicked.try_recv().unwrap().code, 1008);
    assert!(renewed.kicked.try_recv().is_err());
    assert_eq!(registry.connection_count(UserId(1)), 1);
}

#[test]
fn past_a_users_cap_their_oldest_socket_is_kicked_and_no_one_elses() {
    let registry = Registry::new(SOCKET_QUEUE, 2);
    let mut oldest = register(&registry, 1, "s1");
    let mut second = register(&registry, 1, "s1");
    let mut other_user = register(&registry, 2, "s2");
    let mut third = register(&registry, 2, "s2");

    let mut newest = register(&registry, 1, "s1");

    let kick = oldest.kicked.try_recv().expect("the oldest is kicked");
    assert_eq!(kick.code, 1008);
    assert_eq!(kick.error.map(|e| e.0), Some(ErrorCode::TooManySockets));
    for kept in [&mut second, &mut newest, &mut other_user, &mut third] {
        assert!(kept.kicked.try_recv().is_err(), "only the oldest");
    }
    assert_eq!(registry.connection_count(UserId(1)), 2);
    assert_eq!(registry.connection_count(UserId(2)), 2);
}

#[test]
fn presence_follows_the_first_and_last_socket_in_the_order_of_the_changes() {
    let events: Arc<Mutex<Vec<(i64, bool)>>> = Arc::default();
    let registry = {
        let events = events.clone();
        Registry::with_presence(
            SOCKET_QUEUE,
            SOCKETS_PER_USER,
            Box::new(move |user, here| events.lock().unwrap().push((user.0, here))),
        )
    };
    let first = register(&registry, 1, "s1");
    let second = register(&registry, 1, "s2");
    assert_eq!(
        *events.lock().unwrap(),
        [(1, true)],
        "one subscription a user"
    );

    registry.unregister(UserId(1), first.id);
    registry.unregister(UserId(1), second.id);
    // The socket that comes back right after the last one closed subscribes again, after the
    // news of the close: the bus ends up subscribed.
    let again = register(&registry, 1, "s3");
    assert_eq!(*events.lock().unwrap(), [(1, true), (1, false), (1, true)]);

    // A socket dropped because its task ended (closed queue) also ends the presence.
    drop(again);
    registry.send_to_user(UserId(1), &pong(1));
    assert_eq!(events.lock().unwrap().last(), Some(&(1, false)));
    assert_eq!(registry.connection_count(UserId(1)), 0);
}
