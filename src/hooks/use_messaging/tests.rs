use super::*;
use colloque_protocol::{
    ConversationSummary, ErrorCode, Message, MessageId, MessageKind, MessagePage, ReadCursor, Role,
    Timestamp, UserProfile,
};

const ME: UserId = UserId(1);
const DOCTOR: UserId = UserId(2);
const CONV: ConversationId = ConversationId(10);

fn profile(id: UserId, role: Role) -> UserProfile {
    UserProfile {
        id,
        role,
        display_name: format!("user {id}"),
        speciality: None,
    }
}

fn summary(last_seq: i64, unread: u32) -> ConversationSummary {
    ConversationSummary {
        id: CONV,
        subject: "Suivi".into(),
        status: ConversationStatus::Open,
        patient: profile(ME, Role::Patient),
        doctor: profile(DOCTOR, Role::Doctor),
        created_at: Timestamp(0),
        last_activity_at: Timestamp(last_seq * 1000),
        last_message: None,
        last_seq: Seq(last_seq),
        my_read_seq: Seq(last_seq - i64::from(unread)),
        other_read_seq: Seq(0),
        other_read_at: None,
        other_read_from: Seq(0),
        other_delivered_seq: Seq(0),
        unread_count: unread,
        topic: Default::default(),
        triage: Default::default(),
        triage_at: Timestamp(0),
        waiting_since: None,
        blocked: false,
        urgent_since: None,
        reply_due: None,
        absence: None,
    }
}

fn cid(n: u128) -> ClientMsgId {
    ClientMsgId(uuid::Uuid::from_u128(n))
}

fn message(seq: i64, sender: UserId) -> Message {
    Message {
        id: MessageId(100 + seq),
        conversation_id: CONV,
        seq: Seq(seq),
        sender_id: sender,
        client_id: cid(seq as u128),
        body: format!("message {seq}"),
        sent_at: Timestamp(seq * 1000),
        kind: Default::default(),
        attachments: Vec::new(),
    }
}

fn state_with(actions: Vec<Action>) -> Rc<MessagingState> {
    let mut state = Rc::new(MessagingState::default());
    state = state.reduce(Action::Identify(ME));
    for action in actions {
        state = state.reduce(action);
    }
    state
}

fn seqs(state: &MessagingState) -> Vec<i64> {
    state.threads[&CONV].messages.keys().map(|s| s.0).collect()
}

#[test]
fn an_incoming_message_from_the_doctor_counts_as_unread_once() {
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(3, 0)]),
        Action::Incoming(message(4, DOCTOR)),
        Action::Incoming(message(4, DOCTOR)),
    ]);
    assert_eq!(state.total_unread(), 1);
    assert_eq!(state.conversations[&CONV].last_seq, Seq(4));
    assert_eq!(state.last_incoming.as_ref().map(|m| m.seq), Some(Seq(4)));
}

#[test]
fn my_own_messages_never_count_as_unread() {
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(3, 0)]),
        Action::Incoming(message(4, ME)),
    ]);
    assert_eq!(state.total_unread(), 0);
    assert!(state.last_incoming.is_none());
}

#[test]
fn a_message_for_an_unknown_conversation_asks_for_a_refresh() {
    let state = state_with(vec![Action::Incoming(message(1, DOCTOR))]);
    assert_eq!(state.refresh_requests, 1);
}

#[test]
fn history_pages_merge_in_seq_order_without_duplicates() {
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(6, 0)]),
        Action::PageLoaded(
            CONV,
            Direction::Latest,
            MessagePage {
                messages: (4..=6).map(|s| message(s, DOCTOR)).collect(),
                has_more: true,
            },
        ),
        // Overlaps the latest page by one message.
        Action::PageLoaded(
            CONV,
            Direction::Older,
            MessagePage {
                messages: (2..=4).map(|s| message(s, ME)).collect(),
                has_more: true,
            },
        ),
    ]);
    assert_eq!(seqs(&state), vec![2, 3, 4, 5, 6]);
    assert!(state.threads[&CONV].has_more);
    let state = state.reduce(Action::PageLoaded(
        CONV,
        Direction::Older,
        MessagePage {
            messages: vec![message(1, ME)],
            has_more: false,
        },
    ));
    assert_eq!(seqs(&state), vec![1, 2, 3, 4, 5, 6]);
    assert!(!state.threads[&CONV].has_more);
}

#[test]
fn a_sent_message_goes_from_sending_to_sent_on_ack() {
    let pending = PendingMessage {
        client_id: cid(99),
        conversation_id: CONV,
        body: "Bonjour".into(),
        created_at: Timestamp(0),
        status: MessageStatus::Sending,
        order: 0,
        urgent: false,
        template_id: None,
        attachments: Vec::new(),
        awaiting: Vec::new(),
    };
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(1, 0)]),
        Action::Queued(pending),
    ]);
    let timeline = state.timeline(CONV);
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].status, MessageStatus::Sending);
    assert_eq!(timeline[0].dom_id, cid(99).to_string());

    let mut stored = message(2, ME);
    stored.client_id = cid(99);
    let state = state.reduce(Action::Acked(cid(99), stored));
    let timeline = state.timeline(CONV);
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].status, MessageStatus::Sent);
    assert_eq!(timeline[0].dom_id, "102");
    assert!(state.pending.is_empty());
}

#[test]
fn a_refused_message_fails_with_its_reason_and_can_be_retried_or_discarded() {
    let pending = PendingMessage {
        client_id: cid(7),
        conversation_id: CONV,
        body: "x".into(),
        created_at: Timestamp(0),
        status: MessageStatus::Sending,
        order: 0,
        urgent: false,
        template_id: None,
        attachments: Vec::new(),
        awaiting: Vec::new(),
    };
    let state = state_with(vec![
        Action::Queued(pending),
        Action::SendFailed(cid(7), ErrorCode::ConversationClosed),
    ]);
    assert_eq!(
        state.pending[&cid(7)].status,
        MessageStatus::Failed(ErrorCode::ConversationClosed)
    );
    let retried = state.clone().reduce(Action::Retrying(cid(7)));
    assert_eq!(retried.pending[&cid(7)].status, MessageStatus::Sending);
    let discarded = state.reduce(Action::Discard(cid(7)));
    assert!(discarded.timeline(CONV).is_empty());
}

#[test]
fn reading_a_conversation_clears_its_unread_count() {
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(5, 2)]),
        Action::ReadLocally(CONV, Seq(5)),
    ]);
    assert_eq!(state.total_unread(), 0);
    assert_eq!(state.conversations[&CONV].my_read_seq, Seq(5));
}

#[test]
fn the_other_participants_cursor_only_moves_forward() {
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(5, 0)]),
        Action::ReadCursor(ReadCursor {
            conversation_id: CONV,
            user_id: DOCTOR,
            seq: Seq(4),
            at: None,
            from: Seq(0),
        }),
        Action::ReadCursor(ReadCursor {
            conversation_id: CONV,
            user_id: DOCTOR,
            seq: Seq(2),
            at: None,
            from: Seq(0),
        }),
    ]);
    assert_eq!(state.conversations[&CONV].other_read_seq, Seq(4));
}

#[test]
fn conversations_are_sorted_by_latest_activity() {
    let mut older = summary(1, 0);
    older.id = ConversationId(1);
    let newer = summary(9, 0);
    let state = state_with(vec![Action::ListLoaded(vec![older, newer])]);
    let ids: Vec<_> = state.sorted_conversations().iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![CONV, ConversationId(1)]);
}

fn pending(n: u128) -> PendingMessage {
    PendingMessage {
        client_id: cid(n),
        conversation_id: CONV,
        body: format!("pending {n}"),
        created_at: Timestamp(0),
        status: MessageStatus::Sending,
        order: 0,
        urgent: false,
        template_id: None,
        attachments: Vec::new(),
        awaiting: Vec::new(),
    }
}

fn latest(seqs: std::ops::RangeInclusive<i64>) -> Action {
    Action::PageLoaded(
        CONV,
        Direction::Latest,
        MessagePage {
            messages: seqs.map(|s| message(s, DOCTOR)).collect(),
            has_more: false,
        },
    )
}

fn shown(state: &MessagingState) -> Vec<i64> {
    state
        .timeline(CONV)
        .iter()
        .filter_map(|i| i.seq.map(|s| s.0))
        .collect()
}

#[test]
fn a_message_after_a_gap_waits_until_the_gap_is_filled() {
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(2, 0)]),
        latest(1..=2),
        Action::Incoming(message(5, DOCTOR)),
        Action::Incoming(message(4, DOCTOR)),
    ]);
    assert_eq!(shown(&state), [1, 2], "no hole is ever shown");
    assert!(state.threads[&CONV].has_gap());
    assert_eq!(
        state.threads[&CONV].last_seq(),
        Some(Seq(2)),
        "catch up from 2"
    );

    let state = state.reduce(Action::PageLoaded(
        CONV,
        Direction::Newer,
        MessagePage {
            messages: (3..=5).map(|s| message(s, DOCTOR)).collect(),
            has_more: false,
        },
    ));
    assert_eq!(shown(&state), [1, 2, 3, 4, 5]);
    assert!(!state.threads[&CONV].has_gap());
}

#[test]
fn messages_arriving_in_any_order_and_twice_show_once_in_seq_order() {
    let mut orders = vec![
        vec![3, 1, 2, 3, 1],
        vec![2, 2, 3, 1],
        vec![1, 2, 3, 3, 2, 1],
    ];
    for order in orders.drain(..) {
        // An empty conversation, open on screen.
        let mut state = state_with(vec![Action::PageLoaded(
            CONV,
            Direction::Latest,
            MessagePage {
                messages: vec![],
                has_more: false,
            },
        )]);
        for seq in &order {
            state = state.reduce(Action::Incoming(message(*seq, DOCTOR)));
        }
        assert_eq!(shown(&state), [1, 2, 3], "{order:?}");
    }
}

#[test]
fn an_ack_a_push_and_a_catch_up_page_of_one_message_show_it_once() {
    let mut stored = message(3, ME);
    stored.client_id = cid(42);
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(2, 0)]),
        latest(1..=2),
        Action::Queued(pending(42)),
        // Another tab's push of the very message, then the catch-up page, then a late ack.
        Action::Incoming(stored.clone()),
        Action::PageLoaded(
            CONV,
            Direction::Newer,
            MessagePage {
                messages: vec![stored.clone()],
                has_more: false,
            },
        ),
        Action::Acked(cid(42), stored),
    ]);
    let timeline = state.timeline(CONV);
    assert_eq!(timeline.len(), 3);
    assert_eq!(timeline[2].status, MessageStatus::Sent);
    assert!(state.pending.is_empty());
}

#[test]
fn acks_out_of_order_leave_the_messages_in_seq_order() {
    let mut first = message(3, ME);
    first.client_id = cid(1001);
    let mut second = message(4, ME);
    second.client_id = cid(1002);
    let state = state_with(vec![
        latest(1..=2),
        Action::Queued(pending(1001)),
        Action::Queued(pending(1002)),
        Action::Acked(cid(1002), second),
    ]);
    // 4 is stored but waits for 3; 3 is still shown as sending meanwhile.
    let statuses: Vec<_> = state
        .timeline(CONV)
        .iter()
        .map(|i| (i.seq, i.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some(Seq(1)), MessageStatus::Sent),
            (Some(Seq(2)), MessageStatus::Sent),
            (None, MessageStatus::Sending),
        ]
    );
    let state = state.reduce(Action::Acked(cid(1001), first));
    assert_eq!(shown(&state), [1, 2, 3, 4]);
    assert!(state.pending.is_empty());
}

#[test]
fn a_restored_outbox_entry_already_delivered_is_not_shown_again() {
    let mut stored = message(3, ME);
    stored.client_id = cid(9);
    let state = state_with(vec![
        latest(1..=2),
        Action::Incoming(stored),
        Action::Queued(pending(9)),
    ]);
    assert!(state.pending.is_empty());
    assert_eq!(state.timeline(CONV).len(), 3);
}

#[test]
fn every_change_to_pending_messages_is_counted_for_the_outbox() {
    let state = state_with(vec![]);
    let rev = state.pending_rev;
    let state = state.reduce(Action::Queued(pending(1001)));
    assert_eq!(state.pending_rev, rev + 1);
    let state = state.reduce(Action::SendFailed(cid(1001), ErrorCode::BodyTooLong));
    assert_eq!(state.pending_rev, rev + 2);
    let state = state.reduce(Action::Incoming(message(1, DOCTOR)));
    assert_eq!(state.pending_rev, rev + 2, "nothing pending changed");
    let state = state.reduce(Action::Discard(cid(1001)));
    assert_eq!(state.pending_rev, rev + 3);
}

#[test]
fn a_reloaded_conversation_starts_again_from_its_latest_page() {
    let state = state_with(vec![
        latest(1..=3),
        Action::Incoming(message(9, DOCTOR)),
        Action::Reloaded(
            CONV,
            MessagePage {
                messages: (5..=6).map(|s| message(s, DOCTOR)).collect(),
                has_more: true,
            },
        ),
    ]);
    assert_eq!(shown(&state), [5, 6]);
    assert!(state.threads[&CONV].has_more);
    assert!(!state.threads[&CONV].has_gap());
}

fn cursor(user: UserId, seq: i64, at: Option<i64>, from: i64) -> ReadCursor {
    ReadCursor {
        conversation_id: CONV,
        user_id: user,
        seq: Seq(seq),
        at: at.map(Timestamp),
        from: Seq(from),
    }
}

#[test]
fn the_doctors_delivery_cursor_only_moves_forward_and_mine_changes_nothing() {
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(5, 0)]),
        Action::Delivered(cursor(DOCTOR, 4, None, 0)),
        Action::Delivered(cursor(DOCTOR, 2, None, 0)),
        Action::Delivered(cursor(ME, 5, None, 0)),
    ]);
    let c = &state.conversations[&CONV];
    assert_eq!(c.other_delivered_seq, Seq(4));
    assert_eq!(c.other_read_seq, Seq(0), "received is not read");
}

#[test]
fn the_doctors_read_cursor_keeps_the_time_and_origin_of_its_last_forward_move() {
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(5, 0)]),
        Action::ReadCursor(cursor(DOCTOR, 3, Some(30_000), 0)),
        Action::ReadCursor(cursor(DOCTOR, 5, Some(50_000), 3)),
        // A late frame of an earlier move changes nothing.
        Action::ReadCursor(cursor(DOCTOR, 3, Some(30_000), 0)),
    ]);
    let c = &state.conversations[&CONV];
    assert_eq!(
        (c.other_read_seq, c.other_read_at, c.other_read_from),
        (Seq(5), Some(Timestamp(50_000)), Seq(3))
    );
}

#[test]
fn the_doctors_answer_moves_his_read_cursor_at_its_time_but_an_automatic_reply_does_not() {
    let mut auto = message(5, DOCTOR);
    auto.kind = MessageKind::AutoReply;
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(4, 0)]),
        Action::Incoming(auto),
    ]);
    assert_eq!(state.conversations[&CONV].other_read_seq, Seq(0));
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(4, 0)]),
        Action::Incoming(message(5, DOCTOR)),
    ]);
    let c = &state.conversations[&CONV];
    assert_eq!(
        (c.other_read_seq, c.other_read_at, c.other_read_from),
        (Seq(5), Some(Timestamp(5_000)), Seq(0))
    );
}

#[test]
fn a_device_tells_it_received_only_what_it_holds_without_a_gap_since_what_was_read() {
    // Read up to 3; the latest page (2..=6) and a pushed 8 (7 missing): held through 6.
    let page = MessagePage {
        messages: (2..=6).map(|s| message(s, DOCTOR)).collect(),
        has_more: true,
    };
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(8, 5)]),
        Action::PageLoaded(CONV, Direction::Latest, page),
        Action::Incoming(message(8, DOCTOR)),
    ]);
    assert_eq!(state.held_through(), vec![(CONV, Seq(6))]);
    // Only a push of 8, with 4..=7 unread and never loaded: nothing to tell.
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(7, 4)]),
        Action::Incoming(message(8, DOCTOR)),
    ]);
    assert_eq!(state.held_through(), vec![]);
    // Everything read: a push of the next message is held.
    let state = state_with(vec![
        Action::ListLoaded(vec![summary(7, 0)]),
        Action::Incoming(message(8, DOCTOR)),
    ]);
    assert_eq!(state.held_through(), vec![(CONV, Seq(8))]);
}

#[test]
fn a_patients_message_climbs_sent_received_read_with_its_time_then_done() {
    let mut c = summary(6, 0);
    assert_eq!(step(&c, ME, Seq(6)), Step::Sent);
    c.other_delivered_seq = Seq(6);
    assert_eq!(step(&c, ME, Seq(6)), Step::Received);
    c.other_read_seq = Seq(6);
    c.other_read_from = Seq(4);
    c.other_read_at = Some(Timestamp(60_000));
    assert_eq!(step(&c, ME, Seq(6)), Step::Read(Some(Timestamp(60_000))));
    // Read at an earlier move: read, but not at the last move's time.
    assert_eq!(step(&c, ME, Seq(4)), Step::Read(None));
    // Read with the delivery cursor behind (another device read it): still read.
    c.other_delivered_seq = Seq(0);
    assert!(matches!(step(&c, ME, Seq(5)), Step::Read(_)));
    c.triage = colloque_protocol::TriageState::Done;
    assert_eq!(step(&c, ME, Seq(6)), Step::Done);
    // The doctor's own messages stop at read: "done" is the patient's step.
    let mut theirs = c.clone();
    std::mem::swap(&mut theirs.patient, &mut theirs.doctor);
    assert_eq!(
        step(&theirs, ME, Seq(6)),
        Step::Read(Some(Timestamp(60_000)))
    );
}

#[test]
fn the_doctor_writing_shows_until_the_latest_showing_ends_or_his_message_arrives() {
    let start = vec![
        Action::Identify(ME),
        Action::ListLoaded(vec![summary(1, 0)]),
        Action::Writing(CONV, DOCTOR, 1),
    ];
    let state = state_with(start.clone());
    assert_eq!(state.writing_in(CONV), Some(DOCTOR));
    assert_eq!(state.writing_in(ConversationId(11)), None);

    // A later frame renewed the showing: the first one's end does not hide it.
    let mut renewed = start.clone();
    renewed.extend([
        Action::Writing(CONV, DOCTOR, 2),
        Action::WritingOver(CONV, 1),
    ]);
    assert_eq!(state_with(renewed.clone()).writing_in(CONV), Some(DOCTOR));
    renewed.push(Action::WritingOver(CONV, 2));
    assert_eq!(state_with(renewed).writing_in(CONV), None);

    // His message arrives: he is done writing it.
    let mut answered = start.clone();
    answered.push(Action::Incoming(message(2, DOCTOR)));
    assert_eq!(state_with(answered).writing_in(CONV), None);

    // Ours does not hide his.
    let mut ours = start.clone();
    ours.push(Action::Incoming(message(2, ME)));
    assert_eq!(state_with(ours).writing_in(CONV), Some(DOCTOR));

    // Logged out: forgotten.
    let mut reset = start;
    reset.push(Action::Reset);
    assert_eq!(state_with(reset).writing_in(CONV), None);
}

#[test]
fn i_am_never_shown_writing_to_myself() {
    let state = state_with(vec![
        Action::Identify(ME),
        Action::ListLoaded(vec![summary(1, 0)]),
        Action::Writing(CONV, ME, 1),
    ]);
    assert_eq!(state.writing_in(CONV), None);
}

fn meta(n: u128, name: &str) -> colloque_protocol::AttachmentMeta {
    colloque_protocol::AttachmentMeta {
        id: colloque_protocol::AttachmentId(uuid::Uuid::from_u128(n)),
        name: name.into(),
        content_type: colloque_protocol::AttachmentType::Jpeg,
        size: 1234,
        has_thumbnail: true,
    }
}

#[test]
fn a_message_waiting_for_files_takes_each_upload_and_tells_of_each_failed_one() {
    let mut waiting = pending(5);
    waiting.attachments = vec![meta(1, "ordonnance.pdf")];
    waiting.awaiting = vec!["photo.jpg".into(), "scan.png".into()];
    let state = state_with(vec![Action::Queued(waiting)]);
    assert_eq!(state.timeline(CONV)[0].awaiting, ["photo.jpg", "scan.png"]);

    let rev = state.pending_rev;
    let state = state.reduce(Action::FileSettled {
        client_id: cid(5),
        name: "photo.jpg".into(),
        meta: Some(meta(2, "photo.jpg")),
    });
    assert!(state.pending_rev > rev, "the outbox is written again");
    let state = state.reduce(Action::FileSettled {
        client_id: cid(5),
        name: "scan.png".into(),
        meta: None,
    });
    let p = &state.pending[&cid(5)];
    assert!(p.awaiting.is_empty());
    let names: Vec<&str> = p.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["ordonnance.pdf", "photo.jpg"]);
    assert_eq!(state.lost_files, [(CONV, "scan.png".to_owned())]);

    // A second report for a file no longer awaited changes nothing.
    let again = state.clone().reduce(Action::FileSettled {
        client_id: cid(5),
        name: "scan.png".into(),
        meta: None,
    });
    assert_eq!(again.lost_files.len(), 1);
    let dismissed = again.reduce(Action::DismissLostFiles(CONV));
    assert!(dismissed.lost_files.is_empty());
}

#[test]
fn a_message_waiting_for_its_file_can_be_cancelled_and_its_text_comes_back_once() {
    let mut waiting = pending(5);
    waiting.awaiting = vec!["mauvaise-photo.jpg".into()];
    let state = state_with(vec![Action::Queued(waiting), Action::Queued(pending(6))]);
    let rev = state.pending_rev;

    let state = state.reduce(Action::CancelWaiting(cid(5)));
    assert!(!state.pending.contains_key(&cid(5)), "never sent");
    assert!(state.pending_rev > rev, "the outbox is written without it");
    assert_eq!(state.returned, [(CONV, pending(5).body)]);
    // Its file ending afterwards settles nothing and asks for no file again.
    let state = state.reduce(Action::FileSettled {
        client_id: cid(5),
        name: "mauvaise-photo.jpg".into(),
        meta: None,
    });
    assert!(state.lost_files.is_empty());

    // A message waiting for no file is on its way: it cannot be called back.
    let state = state.reduce(Action::CancelWaiting(cid(6)));
    assert!(state.pending.contains_key(&cid(6)));
    assert_eq!(state.returned.len(), 1);

    let state = state.reduce(Action::ReturnedTaken(CONV));
    assert!(state.returned.is_empty(), "taken back once");
}
