use super::*;
use serde_json::json;

fn client_id() -> ClientMsgId {
    ClientMsgId(uuid::Uuid::from_u128(
        0x1234_5678_9abc_def0_1234_5678_9abc_def0,
    ))
}

#[test]
fn client_frames_are_tagged_with_a_snake_case_type() {
    let frame = ClientFrame::MarkRead {
        conversation_id: ConversationId(7),
        seq: Seq(3),
    };
    assert_eq!(
        serde_json::to_value(&frame).unwrap(),
        json!({"type": "mark_read", "conversation_id": 7, "seq": 3})
    );
}

#[test]
fn a_send_frame_round_trips_with_its_uuid_client_id() {
    let frame = ClientFrame::Send {
        conversation_id: ConversationId(1),
        client_id: client_id(),
        body: "Bonjour docteur".into(),
        urgent: false,
        attachment_ids: Vec::new(),
        template_id: None,
    };
    let text = serde_json::to_string(&frame).unwrap();
    assert!(text.contains("\"client_id\":\"12345678-9abc-def0-1234-56789abcdef0\""));
    assert!(!text.contains("urgent"), "absent when false: {text}");
    assert!(!text.contains("attachment_ids"), "an older server reads it");
    assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
}

#[test]
fn an_urgent_send_says_so_and_an_older_client_without_the_field_is_not_urgent() {
    let frame = ClientFrame::Send {
        conversation_id: ConversationId(1),
        client_id: client_id(),
        body: "douleur thoracique".into(),
        urgent: true,
        attachment_ids: Vec::new(),
        template_id: None,
    };
    let text = serde_json::to_string(&frame).unwrap();
    assert!(text.contains("\"urgent\":true"), "{text}");
    assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
    let older = text.replace(",\"urgent\":true", "");
    let ClientFrame::Send { urgent, .. } = serde_json::from_str(&older).unwrap() else {
        panic!("a send");
    };
    assert!(!urgent);
}

#[test]
fn a_send_cites_its_template_only_when_it_came_from_one() {
    let frame = ClientFrame::Send {
        conversation_id: ConversationId(1),
        client_id: client_id(),
        body: "Bonjour Lucas".into(),
        urgent: false,
        attachment_ids: Vec::new(),
        template_id: Some(TemplateId(7)),
    };
    let text = serde_json::to_string(&frame).unwrap();
    assert!(text.contains("\"template_id\":7"), "{text}");
    assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
    // An older client's send cites none, and a send without one does not write the field.
    let old = r#"{"client_id":"12345678-9abc-def0-1234-56789abcdef0","body":"x"}"#;
    let request: SendMessageRequest = serde_json::from_str(old).unwrap();
    assert_eq!(request.template_id, None);
    assert!(
        !serde_json::to_string(&request)
            .unwrap()
            .contains("template_id")
    );
    // A whole number written as a float is that id, like the other ids; a fraction is not.
    let float =
        r#"{"client_id":"12345678-9abc-def0-1234-56789abcdef0","body":"x","template_id":120.0}"#;
    let request: SendMessageRequest = serde_json::from_str(float).unwrap();
    assert_eq!(request.template_id, Some(TemplateId(120)));
    let null = float.replace("120.0", "null");
    let request: SendMessageRequest = serde_json::from_str(&null).unwrap();
    assert_eq!(request.template_id, None);
    assert!(serde_json::from_str::<SendMessageRequest>(&float.replace("120.0", "1.5")).is_err());
}

#[test]
fn a_template_request_is_personal_unless_it_says_shared() {
    let request: TemplateRequest =
        serde_json::from_str(r#"{"title":"Résultats","body":"Bonjour {prénom}"}"#).unwrap();
    assert!(!request.shared);
    assert_eq!(TEMPLATE_VARIABLES, ["prénom", "nom", "date_rdv", "médecin"]);
}

#[test]
fn attachments_are_optional_both_ways_and_typed_by_their_mime_type() {
    // An older client's send, and an older server's message, read with no attachments.
    let old = r#"{"client_id":"12345678-9abc-def0-1234-56789abcdef0","body":"x"}"#;
    let request: SendMessageRequest = serde_json::from_str(old).unwrap();
    assert!(request.attachment_ids.is_empty());
    let message = r#"{"id":1,"conversation_id":2,"seq":3,"sender_id":4,
        "client_id":"12345678-9abc-def0-1234-56789abcdef0","body":"x","sent_at":5}"#;
    let message: Message = serde_json::from_str(message).unwrap();
    assert!(message.attachments.is_empty());
    let meta = AttachmentMeta {
        id: AttachmentId(uuid::Uuid::nil()),
        name: "ordonnance.pdf".into(),
        content_type: AttachmentType::Pdf,
        size: 1234,
        has_thumbnail: false,
    };
    let text = serde_json::to_string(&meta).unwrap();
    assert!(
        text.contains(r#""content_type":"application/pdf""#),
        "{text}"
    );
    assert_eq!(serde_json::from_str::<AttachmentMeta>(&text).unwrap(), meta);
    assert!(ErrorCode::UnsupportedFileType.is_permanent());
    assert_eq!(
        serde_json::to_string(&ErrorCode::TooManyAttachments).unwrap(),
        r#""too_many_attachments""#
    );
}

#[test]
fn an_unknown_frame_type_is_a_decode_error_not_a_panic() {
    assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"launch_missiles"}"#).is_err());
    assert!(serde_json::from_str::<ClientFrame>(r#"{"token":"x"}"#).is_err());
    assert!(serde_json::from_str::<ClientFrame>("not json").is_err());
}

#[test]
fn an_error_frame_carries_the_api_error_and_the_refused_client_id() {
    let frame = ServerFrame::Error {
        error: ApiError::new(ErrorCode::BodyTooLong, "too long"),
        client_id: Some(client_id()),
    };
    let value = serde_json::to_value(&frame).unwrap();
    assert_eq!(value["type"], "error");
    assert_eq!(value["error"]["code"], "body_too_long");
    assert_eq!(serde_json::from_value::<ServerFrame>(value).unwrap(), frame);
}

#[test]
fn an_error_code_from_a_newer_server_decodes_as_unknown() {
    let error: ApiError =
        serde_json::from_str(r#"{"code":"brand_new_code","message":"m"}"#).unwrap();
    assert_eq!(error.code, ErrorCode::Unknown);
}

#[test]
fn only_transient_error_codes_are_worth_retrying() {
    assert!(!ErrorCode::Internal.is_permanent());
    assert!(!ErrorCode::RateLimited.is_permanent());
    assert!(!ErrorCode::Unauthorized.is_permanent());
    assert!(ErrorCode::ConversationClosed.is_permanent());
    assert!(ErrorCode::BodyTooLong.is_permanent());
}

#[test]
fn history_query_omits_absent_fields() {
    let query = HistoryQuery {
        before: Some(Seq(10)),
        ..HistoryQuery::default()
    };
    assert_eq!(serde_json::to_value(&query).unwrap(), json!({"before": 10}));
}

#[test]
fn roles_are_lowercase_on_the_wire() {
    assert_eq!(serde_json::to_value(Role::Doctor).unwrap(), json!("doctor"));
    assert_eq!(Role::Patient.as_str(), "patient");
}

#[test]
fn a_login_names_its_session_by_a_plain_string() {
    let response = LoginResponse {
        token: "t".into(),
        expires_at: Timestamp(1),
        user: UserProfile {
            id: UserId(4),
            role: Role::Patient,
            display_name: "Emma Petit".into(),
            speciality: None,
        },
        session: SessionHandle("a1b2".into()),
        outbox_key: OutboxKey("k".repeat(43)),
        mfa_enrolment_required: false,
    };
    let value = serde_json::to_value(&response).unwrap();
    assert_eq!(value["session"], "a1b2");
    assert_eq!(value["outbox_key"], "k".repeat(43), "a plain string");
    assert!(
        !format!("{response:?}").contains("kkkk"),
        "a debug dump never shows the key"
    );
    assert_eq!(
        serde_json::from_value::<LoginResponse>(value).unwrap(),
        response
    );
}

#[test]
fn a_session_without_a_known_address_omits_it() {
    let info = SessionInfo {
        id: SessionHandle("s".into()),
        device: "Firefox · Android".into(),
        address: None,
        created_at: Timestamp(1),
        last_seen_at: Timestamp(2),
        current: true,
    };
    let value = serde_json::to_value(&info).unwrap();
    assert!(value.get("address").is_none(), "{value}");
    assert_eq!(serde_json::from_value::<SessionInfo>(value).unwrap(), info);
}

#[test]
fn a_password_change_never_shows_its_passwords_in_a_debug_dump() {
    let request = ChangePasswordRequest {
        current_password: "old-secret-1".into(),
        new_password: "new-secret-2".into(),
    };
    let dump = format!("{request:?}");
    assert!(!dump.contains("secret"), "{dump}");
}

#[test]
fn the_password_change_refusals_are_permanent_snake_case_codes() {
    assert_eq!(
        serde_json::to_value(ErrorCode::WrongPassword).unwrap(),
        json!("wrong_password")
    );
    assert_eq!(
        serde_json::to_value(ErrorCode::WeakPassword).unwrap(),
        json!("weak_password")
    );
    assert!(ErrorCode::WrongPassword.is_permanent());
    assert!(ErrorCode::WeakPassword.is_permanent());
}

#[test]
fn request_integers_are_read_as_json_schema_reads_them() {
    let read: MarkReadRequest = serde_json::from_str(r#"{"seq": 3.0}"#).unwrap();
    assert_eq!(read.seq, Seq(3));
    let start: StartConversationRequest =
        serde_json::from_str(r#"{"with_user_id": 1e1, "subject": null, "topic": "certificate"}"#)
            .unwrap();
    assert_eq!(start.with_user_id, UserId(10));
    for refused in [
        r#"{"seq": 3.5}"#,
        r#"{"seq": 9223372036854775808}"#,
        r#"{"seq": 1e19}"#,
        r#"{"seq": "3"}"#,
        // Outside i64: read as a float, it would round to i64::MIN.
        r#"{"seq": -9223372036854775809}"#,
        // A float beyond 2^53 may stand for another integer than the one written.
        r#"{"seq": 1234567890123456789.0}"#,
        r#"{"seq": 9007199254740994.0}"#,
    ] {
        assert!(
            serde_json::from_str::<MarkReadRequest>(refused).is_err(),
            "{refused}"
        );
    }
    let largest: MarkReadRequest = serde_json::from_str(r#"{"seq": 9223372036854775807}"#).unwrap();
    assert_eq!(largest.seq, Seq(i64::MAX));
    let smallest: MarkReadRequest =
        serde_json::from_str(r#"{"seq": -9223372036854775808}"#).unwrap();
    assert_eq!(smallest.seq, Seq(i64::MIN));
    let exact: MarkReadRequest = serde_json::from_str(r#"{"seq": 9007199254740992.0}"#).unwrap();
    assert_eq!(exact.seq, Seq(9_007_199_254_740_992));
    let away: NewAbsenceRequest = serde_json::from_str(
        r#"{"from": "2027-05-03", "to": "2027-05-07", "covering_doctor_id": 4.0}"#,
    )
    .unwrap();
    assert_eq!(away.covering_doctor_id, Some(UserId(4)));
    assert!(
        serde_json::from_str::<NewAbsenceRequest>(
            r#"{"from": "2000-01-09", "to": "0012-01-09", "covering_doctor_id": -9223372036854775809}"#
        )
        .is_err(),
        "the contract fuzzing's case"
    );
}

#[test]
fn the_intake_look_back_is_read_as_json_schema_reads_it() {
    let months = |json: &str| {
        serde_json::from_str::<UpdateIntakeRequest>(json).map(|request| request.months)
    };
    assert_eq!(
        months(r#"{"mode": "off", "months": 6.0}"#).unwrap(),
        Some(6)
    );
    assert_eq!(months(r#"{"mode": "off", "months": 6}"#).unwrap(), Some(6));
    assert_eq!(months(r#"{"mode": "off", "months": null}"#).unwrap(), None);
    assert_eq!(months(r#"{"mode": "off"}"#).unwrap(), None);
    for refused in [
        r#"{"mode": "off", "months": 6.5}"#,
        r#"{"mode": "off", "months": -1}"#,
        r#"{"mode": "off", "months": 4294967296}"#,
        r#"{"mode": "off", "months": "6"}"#,
    ] {
        assert!(months(refused).is_err(), "{refused}");
    }
    // Written back without a float.
    let request = UpdateIntakeRequest {
        mode: IntakeMode::RecentPatients,
        months: Some(6),
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"mode": "recent_patients", "months": 6})
    );
}

#[test]
fn topics_and_triage_states_have_stable_snake_case_names() {
    for topic in Topic::ALL {
        assert_eq!(serde_json::to_value(topic).unwrap(), json!(topic.as_str()));
        assert_eq!(Topic::parse(topic.as_str()), Some(topic));
    }
    assert_eq!(Topic::PrescriptionRenewal.as_str(), "prescription_renewal");
    for state in TriageState::ALL {
        assert_eq!(serde_json::to_value(state).unwrap(), json!(state.as_str()));
        assert_eq!(TriageState::parse(state.as_str()), Some(state));
    }
    assert_eq!(TriageState::WaitingPatient.as_str(), "waiting_patient");
    assert!(serde_json::from_value::<Topic>(json!("gossip")).is_err());
}

#[test]
fn a_text_message_omits_its_kind_and_a_system_line_names_it() {
    let text = Message {
        id: MessageId(1),
        conversation_id: ConversationId(1),
        seq: Seq(1),
        sender_id: UserId(1),
        client_id: client_id(),
        body: "Bonjour".into(),
        sent_at: Timestamp(1),
        kind: MessageKind::Text,
        attachments: Vec::new(),
    };
    let value = serde_json::to_value(&text).unwrap();
    assert!(value.get("kind").is_none(), "{value}");
    assert_eq!(serde_json::from_value::<Message>(value).unwrap(), text);
    let line = Message {
        kind: MessageKind::Closed,
        ..text
    };
    let value = serde_json::to_value(&line).unwrap();
    assert_eq!(value["kind"], "closed");
    assert_eq!(serde_json::from_value::<Message>(value).unwrap(), line);
}

#[test]
fn a_start_request_without_a_topic_is_refused() {
    assert!(
        serde_json::from_value::<StartConversationRequest>(json!({"with_user_id": 1})).is_err()
    );
    let request: StartConversationRequest =
        serde_json::from_value(json!({"with_user_id": 1, "topic": "test_results"})).unwrap();
    assert_eq!(request.topic, Topic::TestResults);
}

#[test]
fn the_care_refusals_are_permanent() {
    for code in [
        ErrorCode::IntakeClosed,
        ErrorCode::PatientBlocked,
        ErrorCode::OpenConversationExists,
    ] {
        assert!(code.is_permanent());
    }
    assert_eq!(
        serde_json::to_value(ErrorCode::IntakeClosed).unwrap(),
        json!("intake_closed")
    );
}

#[test]
fn receipts_travel_as_a_received_frame_and_a_delivered_cursor_without_a_time() {
    let frame = ClientFrame::Received {
        conversation_id: ConversationId(7),
        seq: Seq(3),
    };
    assert_eq!(
        serde_json::to_value(&frame).unwrap(),
        json!({"type": "received", "conversation_id": 7, "seq": 3})
    );
    let delivered = ServerFrame::Delivered {
        cursor: ReadCursor {
            conversation_id: ConversationId(7),
            user_id: UserId(2),
            seq: Seq(3),
            at: None,
            from: Seq(0),
        },
    };
    assert_eq!(
        serde_json::to_value(&delivered).unwrap(),
        json!({"type": "delivered", "cursor": {"conversation_id": 7, "user_id": 2, "seq": 3, "from": 0}})
    );
}

#[test]
fn a_read_cursor_says_when_it_moved_and_one_from_an_older_server_reads_without_it() {
    let cursor: ReadCursor = serde_json::from_value(
        json!({"conversation_id": 7, "user_id": 2, "seq": 3, "at": 1_700_000_000_000_i64, "from": 1}),
    )
    .unwrap();
    assert_eq!(cursor.at, Some(Timestamp(1_700_000_000_000)));
    assert_eq!(cursor.from, Seq(1));
    let older: ReadCursor =
        serde_json::from_value(json!({"conversation_id": 7, "user_id": 2, "seq": 3})).unwrap();
    assert_eq!((older.at, older.from), (None, Seq(0)));
}
