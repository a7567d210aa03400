use super::*;

use colloque_protocol::*;

#[test]
fn backoff_ceiling_doubles_from_half_a_second_to_thirty() {
    let ceilings: Vec<u32> = (0..9).map(|a| backoff_delay_ms(a, 1.0) + 1).collect();
    assert_eq!(
        ceilings,
        [
            500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000
        ]
    );
    assert_eq!(backoff_delay_ms(u32::MAX, 1.0), 29_999);
}

#[test]
fn backoff_jitter_covers_the_whole_range_below_the_ceiling() {
    for attempt in 0..40 {
        let ceiling = backoff_delay_ms(attempt, 1.0) + 1;
        assert_eq!(backoff_delay_ms(attempt, 0.0), 0, "full jitter starts at 0");
        for i in 0..100 {
            let d = backoff_delay_ms(attempt, f64::from(i) / 100.0);
            assert!(d < ceiling, "{d} < {ceiling}");
        }
        let mid = backoff_delay_ms(attempt, 0.5);
        assert!(
            mid.abs_diff(ceiling / 2) <= 1,
            "uniform: {mid} ≈ {ceiling}/2"
        );
    }
    // Out-of-range randomness is clamped, never a panic or a huge delay.
    assert_eq!(backoff_delay_ms(2, -3.0), 0);
    assert_eq!(backoff_delay_ms(2, f64::NAN), 0);
    assert!(backoff_delay_ms(2, 7.0) < 2_000);
}

fn profile() -> UserProfile {
    UserProfile {
        id: UserId(4),
        role: Role::Patient,
        display_name: "Emma \"Petit\"".into(),
        speciality: None,
    }
}

fn message() -> Message {
    Message {
        id: MessageId(12),
        conversation_id: ConversationId(1),
        seq: Seq(4),
        sender_id: UserId(4),
        client_id: ClientMsgId(uuid::Uuid::from_u128(7)),
        body: "Bonjour \"docteur\"\n{\"type\":\"pong\"}".into(),
        sent_at: Timestamp(1_795_489_740_000),
        kind: colloque_protocol::MessageKind::Closed,
        attachments: Vec::new(),
    }
}

#[test]
fn frames_decode_exactly_as_the_protocol_defines_them() {
    let mut doctor = profile();
    doctor.role = Role::Doctor;
    doctor.speciality = Some("Médecin généraliste".into());
    let frames = [
        ServerFrame::Ready { user: profile() },
        ServerFrame::Ack {
            client_id: message().client_id,
            message: message(),
        },
        ServerFrame::Message { message: message() },
        ServerFrame::Read {
            cursor: ReadCursor {
                conversation_id: ConversationId(1),
                user_id: UserId(2),
                seq: Seq(3),
                at: Some(Timestamp(1_795_489_800_000)),
                from: Seq(1),
            },
        },
        ServerFrame::Delivered {
            cursor: ReadCursor {
                conversation_id: ConversationId(1),
                user_id: UserId(2),
                seq: Seq(3),
                at: None,
                from: Seq(0),
            },
        },
        ServerFrame::Conversation {
            conversation: ConversationSummary {
                id: ConversationId(1),
                subject: "Suivi".into(),
                status: ConversationStatus::Closed,
                patient: profile(),
                doctor,
                created_at: Timestamp(1),
                last_activity_at: Timestamp(2),
                last_message: Some(MessagePreview {
                    sender_id: UserId(4),
                    excerpt: "Bonjour".into(),
                    sent_at: Timestamp(2),
                    seq: Seq(4),
                    kind: Default::default(),
                }),
                last_seq: Seq(4),
                my_read_seq: Seq(3),
                other_read_seq: Seq(4),
                other_read_at: None,
                other_read_from: Seq(0),
                other_delivered_seq: Seq(0),
                unread_count: 1,
                topic: colloque_protocol::Topic::Certificate,
                triage: colloque_protocol::TriageState::Done,
                triage_at: Timestamp(2),
                waiting_since: Some(Timestamp(1)),
                blocked: false,
                urgent_since: None,
                reply_due: None,
                absence: None,
            },
        },
        ServerFrame::Typing {
            conversation_id: ConversationId(1),
            user_id: UserId(2),
        },
        ServerFrame::Pong { nonce: u64::MAX },
        ServerFrame::Error {
            error: ApiError::new(ErrorCode::ConversationClosed, "closed"),
            client_id: Some(message().client_id),
        },
        ServerFrame::Error {
            error: ApiError::new(ErrorCode::ResyncRequired, "behind"),
            client_id: None,
        },
    ];
    for frame in frames {
        // A new frame fails to compile here until it is listed above (and decoded).
        match &frame {
            ServerFrame::Ready { .. }
            | ServerFrame::Ack { .. }
            | ServerFrame::Message { .. }
            | ServerFrame::Read { .. }
            | ServerFrame::Delivered { .. }
            | ServerFrame::Conversation { .. }
            | ServerFrame::Typing { .. }
            | ServerFrame::Pong { .. }
            | ServerFrame::Error { .. } => {}
        }
        let text = serde_json::to_string(&frame).unwrap();
        assert_eq!(decode_frame(&text), Some(frame), "{text}");
    }
}

#[test]
fn unknown_or_malformed_frames_are_skipped() {
    assert_eq!(decode_frame(r#"{"type":"launch","user_id":2}"#), None);
    assert_eq!(decode_frame(r#"{"type":"typing","user_id":2}"#), None);
    assert_eq!(decode_frame(r#"{"type":"ack"}"#), None);
    assert_eq!(decode_frame("not json"), None);
    // A newer server's error code still decodes (as Unknown).
    let frame = decode_frame(r#"{"type":"error","error":{"code":"brand_new","message":"m"}}"#);
    assert!(matches!(
        frame,
        Some(ServerFrame::Error { error, client_id: None }) if error.code == ErrorCode::Unknown
    ));
}

#[test]
fn connection_states_have_stable_attribute_values() {
    assert_eq!(ConnectionState::Online.as_str(), "online");
    assert_eq!(ConnectionState::Connecting.as_str(), "connecting");
    assert_eq!(ConnectionState::Offline.as_str(), "offline");
    assert_eq!(ConnectionState::Paused.as_str(), "paused");
}
