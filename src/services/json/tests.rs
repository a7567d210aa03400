//! The reader against serde_json: what we read must be what serde_json reads, and what we
//! refuse must be malformed (or outside what the app needs: floats, depth, lone surrogates).

use super::*;
use crate::crypto::Sealed;
use crate::hooks::outbox::OutboxEntry;
use crate::i18n::Lang;
use crate::services::websocket::decode_frame;
use crate::session::Session;
use colloque_protocol::*;
use proptest::prelude::*;
use serde::Deserialize;
use serde::de::{IgnoredAny, Visitor};
use std::fmt::Debug;

// ---- a target that takes any JSON, through `deserialize_any` ----

/// Any JSON value without floats, read through `deserialize_any`: the same type is read by
/// both parsers, and both refuse the same things in it (floats, `-0` and integers beyond 64
/// bits, which serde_json reads as floats; lone surrogates; 128 levels of nesting), so their
/// answers can be compared exactly.
#[derive(Debug, Clone, PartialEq)]
enum Any {
    Null,
    Bool(bool),
    Int(i128),
    Str(String),
    Arr(Vec<Any>),
    /// Keys are read through `deserialize_any` too, so a key that is not a string shows.
    Obj(Vec<(Any, Any)>),
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = Any;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value but a float")
    }
    fn visit_unit<E>(self) -> Result<Any, E> {
        Ok(Any::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Any, E> {
        Ok(Any::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Any, E> {
        Ok(Any::Int(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Any, E> {
        Ok(Any::Int(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Any, E> {
        Ok(Any::Str(v.to_owned()))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Any, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Any::Arr(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Any, A::Error> {
        let mut members = Vec::new();
        while let Some(member) = map.next_entry::<Any, Any>()? {
            members.push(member);
        }
        Ok(Any::Obj(members))
    }
}

impl<'de> Deserialize<'de> for Any {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Any, D::Error> {
        d.deserialize_any(AnyVisitor)
    }
}

// ---- helpers ----

/// Ours accepts `text` as a `T` ⇒ serde_json does too, with the same value.
fn agrees<T>(text: &str) -> Result<(), TestCaseError>
where
    T: for<'a> Deserialize<'a> + PartialEq + Debug,
{
    if let Ok(ours) = from_str::<T>(text) {
        match serde_json::from_str::<T>(text) {
            Ok(theirs) => prop_assert_eq!(ours, theirs, "{:?}", text),
            Err(e) => prop_assert!(false, "we accepted what serde_json refuses ({e}): {text:?}"),
        }
    }
    Ok(())
}

/// Both refuse `text` as a `T`.
#[track_caller]
fn both_reject<T>(text: &str)
where
    T: for<'a> Deserialize<'a> + Debug,
{
    assert!(
        serde_json::from_str::<T>(text).is_err(),
        "serde_json accepts {text:?}"
    );
    assert!(from_str::<T>(text).is_err(), "we accept {text:?}");
}

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn profile(id: i64) -> UserProfile {
    UserProfile {
        id: UserId(id),
        role: Role::Doctor,
        display_name: "Dr Claire \"Martin\"".into(),
        speciality: Some("Médecin généraliste".into()),
    }
}

// ---- fixed cases ----

#[test]
fn integers_read_to_the_last_bit_and_no_further() {
    assert_eq!(from_str::<i64>("-9223372036854775808"), Ok(i64::MIN));
    assert_eq!(from_str::<i64>("9223372036854775807"), Ok(i64::MAX));
    assert_eq!(from_str::<u64>("18446744073709551615"), Ok(u64::MAX));
    assert_eq!(from_str::<u32>("4294967295"), Ok(u32::MAX));
    assert_eq!(from_str::<i32>("-2147483648"), Ok(i32::MIN));
    assert_eq!(from_str::<u64>(" 0 "), Ok(0));
    assert_eq!(from_str::<i64>("-1"), Ok(-1));
    assert_eq!(from_str::<Seq>("42"), Ok(Seq(42)));
    both_reject::<u64>("18446744073709551616");
    both_reject::<u64>("99999999999999999999999");
    both_reject::<i64>("9223372036854775808");
    both_reject::<i64>("-9223372036854775809");
    both_reject::<u32>("4294967296");
    both_reject::<u32>("-1");
    both_reject::<u8>("256");
    // serde_json reads -0 as a float.
    both_reject::<i64>("-0");
    both_reject::<i64>("1.0");
    both_reject::<i64>("1e2");
    both_reject::<i64>("\"1\"");
}

#[test]
fn strings_are_borrowed_unless_they_have_escapes() {
    assert_eq!(from_str::<&str>(r#""héllo 😀""#), Ok("héllo 😀"));
    assert_eq!(from_str::<&str>(r#""""#), Ok(""));
    // An escaped string is handed over owned (`visit_string`), which a `&str` cannot take.
    assert!(from_str::<&str>(r#""a\nb""#).is_err());
    assert_eq!(
        from_str::<String>(r#""\"\\\/\b\f\n\r\t\u00e9\u00E9\ud83d\ude00""#).as_deref(),
        Ok("\"\\/\u{8}\u{c}\n\r\té\u{e9}😀")
    );
    assert_eq!(
        from_str::<String>(r#""a\u0000b""#).as_deref(),
        Ok("a\u{0}b")
    );
    assert_eq!(
        from_str::<String>("\"\u{7f}\u{2028}\"").as_deref(),
        Ok("\u{7f}\u{2028}")
    );
}

#[test]
fn the_visitor_is_told_whether_the_string_is_borrowed() {
    #[derive(Debug, PartialEq)]
    enum Seen {
        Borrowed(String),
        Owned(String),
        Transient(String),
    }
    struct Probe;
    impl<'de> Visitor<'de> for Probe {
        type Value = Seen;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Seen, E> {
            Ok(Seen::Borrowed(v.into()))
        }
        fn visit_string<E>(self, v: String) -> Result<Seen, E> {
            Ok(Seen::Owned(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Seen, E> {
            Ok(Seen::Transient(v.into()))
        }
    }
    let read = |text| de::Deserializer::deserialize_str(&mut Parser::new(text), Probe);
    assert_eq!(read(r#""plain""#), Ok(Seen::Borrowed("plain".into())));
    assert_eq!(
        read(r#""two\tparts""#),
        Ok(Seen::Owned("two\tparts".into()))
    );
}

#[test]
fn malformed_documents_are_refused_by_both() {
    // Trailing commas.
    both_reject::<Vec<i64>>("[1,2,]");
    both_reject::<Vec<i64>>("[,1]");
    both_reject::<Any>("[1,,2]");
    both_reject::<ApiError>(r#"{"code":"internal","message":"m",}"#);
    both_reject::<Any>(r#"{,}"#);
    // Numbers.
    both_reject::<i64>("01");
    both_reject::<Vec<i64>>("[01]");
    both_reject::<i64>("-01");
    both_reject::<i64>("+1");
    both_reject::<i64>("-");
    both_reject::<i64>("--1");
    for float in [
        ".5", "1.", "1.e3", "1e", "1e+", "00.5", "-.5", "0x10", "NaN", "Infinity",
    ] {
        both_reject::<ApiError>(&format!(
            r#"{{"code":"internal","message":"m","x":{float}}}"#
        ));
        both_reject::<Any>(float);
    }
    // Strings.
    both_reject::<String>(r#""\ud800""#);
    both_reject::<String>(r#""\udc00""#);
    both_reject::<String>(r#""\ud800\u0041""#);
    both_reject::<String>(r#""\ud800x""#);
    both_reject::<String>(r#""\ud800\ud800""#);
    both_reject::<String>("\"a\u{1}b\"");
    both_reject::<String>("\"tab\there\"");
    both_reject::<String>("\"new\nline\"");
    both_reject::<String>(r#""unterminated"#);
    both_reject::<String>(r#""ends in a backslash\"#);
    both_reject::<String>(r#""\x""#);
    both_reject::<String>(r#""\u12G4""#);
    both_reject::<String>(r#""\u12""#);
    both_reject::<String>(r#""\é""#);
    both_reject::<String>("'single'");
    // Structure.
    both_reject::<Any>("");
    both_reject::<Any>("   ");
    both_reject::<Any>("[");
    both_reject::<Any>("]");
    both_reject::<Any>("[1 2]");
    both_reject::<Any>(r#"{"a" 1}"#);
    both_reject::<Any>(r#"{"a":}"#);
    both_reject::<Any>(r#"{1:2}"#);
    both_reject::<Any>(r#"{null:2}"#);
    both_reject::<Any>(r#"{"a":1,}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","x":{1:2}}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","x":{"a":1,}}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","x":[1,]}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m",1:2}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","x":{"a" 1}}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","x":{"a"}}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","x":{"a":}}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","x":[1 2]}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","x" 1}"#);
    both_reject::<Any>(r#"{"a":1"b":2}"#);
    both_reject::<Any>("[1}");
    both_reject::<Any>("tru");
    both_reject::<Any>("nul");
    both_reject::<Any>("True");
    // Only space, tab, line feed and carriage return are white space.
    for space in [
        "\u{feff}", "\u{c}", "\u{b}", "\u{a0}", "\u{2028}", "\u{3000}",
    ] {
        both_reject::<Any>(&format!("{space}1"));
        both_reject::<Any>(&format!("[1,{space}2]"));
        both_reject::<Any>(&format!("1{space}"));
    }
    // Trailing garbage.
    both_reject::<Any>("1 x");
    both_reject::<Any>("{} {}");
    both_reject::<Any>("nulls");
    both_reject::<Any>("truex");
    both_reject::<ApiError>(r#"{"code":"internal","message":"m"}}"#);
    both_reject::<()>("null,");
    // Types and fields.
    both_reject::<ApiError>(r#"{"code":"internal"}"#);
    both_reject::<ApiError>(r#"{"code":"internal","message":"m","message":"n"}"#);
    both_reject::<ApiError>(r#"{"code":7,"message":"m"}"#);
    both_reject::<UserProfile>(r#"{"id":1,"role":"nurse","display_name":"x"}"#);
    both_reject::<Message>(
        r#"{"id":1,"conversation_id":1,"seq":1,"sender_id":1,"client_id":"not-a-uuid","body":"","sent_at":0}"#,
    );
    both_reject::<bool>("1");
    both_reject::<()>("{}");
    both_reject::<Option<u64>>("\"1\"");
}

#[test]
fn nesting_stops_at_serde_jsons_limit() {
    assert!(serde_json::from_str::<Any>(&nested(127)).is_ok());
    assert!(from_str::<Any>(&nested(127)).is_ok());
    assert!(from_str::<IgnoredAny>(&nested(127)).is_ok());
    for depth in [128, 129, 10_000] {
        both_reject::<Any>(&nested(depth));
        assert!(from_str::<IgnoredAny>(&nested(depth)).is_err());
        let deep_unknown = format!(
            r#"{{"code":"internal","message":"m","x":{}}}"#,
            nested(depth)
        );
        assert!(from_str::<ApiError>(&deep_unknown).is_err());
    }
    let objects = format!("{}{}", r#"{"a":"#.repeat(128), "}".repeat(128));
    both_reject::<Any>(&objects);
}

#[test]
fn unknown_fields_are_skipped_whatever_they_hold() {
    let text = r#" {
        "floats": [1.5, -0.0, 2e10, 1E-3, -0, 0.25e+2, 18446744073709551616],
        "code" : "conversation_closed",
        "nested": {"a": {"b": [null, true, false, {"c": "\u00e9\ud83d\ude00\n"}]}, "d": []},
        "message": "closed",
        "escaped\u0021": "x"
    } "#;
    let ours = from_str::<ApiError>(text).unwrap();
    assert_eq!(ours, ApiError::new(ErrorCode::ConversationClosed, "closed"));
    assert_eq!(serde_json::from_str::<ApiError>(text).unwrap(), ours);
}

#[test]
fn a_field_named_with_escapes_is_still_that_field() {
    let text = r#"{"co\u0064e":"internal","m\u0065ssage":"m"}"#;
    assert_eq!(
        from_str::<ApiError>(text),
        Ok(ApiError::new(ErrorCode::Internal, "m"))
    );
}

#[test]
fn enums_are_their_snake_case_names_and_unknown_codes_are_unknown() {
    assert_eq!(from_str::<Role>(r#""doctor""#), Ok(Role::Doctor));
    assert_eq!(
        from_str::<ErrorCode>(r#""resync_required""#),
        Ok(ErrorCode::ResyncRequired)
    );
    assert_eq!(
        from_str::<ErrorCode>(r#""brand_new""#),
        Ok(ErrorCode::Unknown)
    );
    assert_eq!(
        from_str::<ErrorCode>(r#""re\u0073ync_required""#),
        Ok(ErrorCode::ResyncRequired)
    );
    assert_eq!(from_str::<Lang>(r#""En""#), Ok(Lang::En));
    both_reject::<Role>(r#""Doctor""#);
    // serde_json also takes a unit variant in its map form; the protocol never writes it.
    assert!(from_str::<Role>(r#"{"doctor":null}"#).is_err());
    both_reject::<Role>("0");
    both_reject::<Lang>(r#"["Fr"]"#);
}

#[test]
fn options_defaults_and_uuids() {
    assert_eq!(from_str::<Option<u64>>("null"), Ok(None));
    assert_eq!(from_str::<Option<u64>>(" 7"), Ok(Some(7)));
    assert_eq!(from_str::<()>(" null "), Ok(()));
    let doctor = r#"{"id":3,"role":"doctor","display_name":"D","speciality":null}"#;
    let patient = r#"{"display_name":"P","role":"patient","id":-4}"#;
    assert_eq!(from_str::<UserProfile>(doctor).unwrap().speciality, None);
    assert_eq!(from_str::<UserProfile>(patient).unwrap().id, UserId(-4));
    let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let text = format!("\"{id}\"");
    assert_eq!(from_str::<ClientMsgId>(&text), Ok(ClientMsgId(id)));
    assert_eq!(
        from_str::<uuid::Uuid>("\"0123456789ABCDEF0123456789ABCDEF\""),
        Ok(id)
    );
    both_reject::<uuid::Uuid>("\"0123\"");
    both_reject::<uuid::Uuid>("12");
    let entry = r#"{"client_id":"00000000-0000-0000-0000-000000000007","created_at":5,
        "tab":"t","lease":0,"sealed":{"iv":"aXY","data":"ZGF0YQ"}}"#;
    assert_eq!(from_str::<OutboxEntry>(entry).unwrap().failed, None);
}

#[test]
fn errors_never_format_what_they_are_given() {
    /// Panics if anyone tries to print it.
    struct Boom;
    impl fmt::Display for Boom {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("an error message was formatted")
        }
    }
    impl Expected for Boom {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("an expectation was formatted")
        }
    }
    use de::Error as _;
    let errors = [
        Error::custom(Boom),
        Error::invalid_type(Unexpected::Float(1.5), &Boom),
        Error::invalid_value(Unexpected::Str("x"), &Boom),
        Error::invalid_length(3, &Boom),
        Error::unknown_variant("x", &["a"]),
        Error::unknown_field("x", &["a"]),
        Error::missing_field("a"),
        Error::duplicate_field("a"),
    ];
    for error in errors {
        assert!(!error.to_string().is_empty());
        assert_eq!(error.to_string(), error.reason());
    }
}

#[test]
fn rest_answers_decode_into_bodies_and_error_codes() {
    use crate::services::requests::decode;
    let page = MessagePage {
        messages: vec![],
        has_more: true,
    };
    let text = serde_json::to_string(&page).unwrap();
    assert_eq!(decode::<MessagePage>(200, &text), Ok(page));
    assert_eq!(decode::<()>(204, "  "), Ok(()));
    let err = decode::<MessagePage>(200, r#"{"messages":[],"has_more":1.5}"#).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unknown));
    let err = decode::<()>(409, r#"{"code":"from_the_future","message":"m"}"#).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::Unknown));
    let err = decode::<()>(409, r#"{"code":"conversation_closed","message":"m"}"#).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ConversationClosed));
}

#[test]
fn profiles_of_both_kinds_read_back() {
    for user in [profile(i64::MIN), profile(i64::MAX)] {
        let text = serde_json::to_string(&user).unwrap();
        assert_eq!(from_str::<UserProfile>(&text), Ok(user));
    }
}

// ---- strategies ----

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        any::<String>(),
        "[a-zé😀\"\\\\/ \u{0}-\u{1f}\u{7f}\u{2028}\u{fffd}]{0,24}",
        Just(String::new()),
    ]
    .boxed()
}

fn int() -> BoxedStrategy<i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        any::<i64>(),
    ]
    .boxed()
}

fn timestamp() -> BoxedStrategy<Timestamp> {
    int().prop_map(Timestamp).boxed()
}

fn seq() -> BoxedStrategy<Seq> {
    int().prop_map(Seq).boxed()
}

fn client_id() -> BoxedStrategy<ClientMsgId> {
    any::<u128>()
        .prop_map(|n| ClientMsgId(uuid::Uuid::from_u128(n)))
        .boxed()
}

const CODES: [ErrorCode; 26] = [
    ErrorCode::InvalidJson,
    ErrorCode::UnknownFrame,
    ErrorCode::InvalidInput,
    ErrorCode::EmptyBody,
    ErrorCode::BodyTooLong,
    ErrorCode::PayloadTooLarge,
    ErrorCode::Unauthorized,
    ErrorCode::InvalidCredentials,
    ErrorCode::Forbidden,
    ErrorCode::NotFound,
    ErrorCode::UnknownReference,
    ErrorCode::ConversationClosed,
    ErrorCode::NoCareRelationship,
    ErrorCode::NotAuthenticated,
    ErrorCode::RateLimited,
    ErrorCode::ServerBusy,
    ErrorCode::InvalidCursor,
    ErrorCode::ResyncRequired,
    ErrorCode::TooManySockets,
    ErrorCode::Internal,
    ErrorCode::WrongPassword,
    ErrorCode::WeakPassword,
    ErrorCode::InvalidMfaCode,
    ErrorCode::MfaEnrolmentRequired,
    ErrorCode::MfaAlreadyEnabled,
    ErrorCode::Unknown,
];

fn code() -> BoxedStrategy<ErrorCode> {
    proptest::sample::select(&CODES[..]).boxed()
}

fn api_error() -> BoxedStrategy<ApiError> {
    (code(), text())
        .prop_map(|(code, message)| ApiError { code, message })
        .boxed()
}

fn user() -> BoxedStrategy<UserProfile> {
    (
        int(),
        prop_oneof![Just(Role::Patient), Just(Role::Doctor)],
        text(),
        proptest::option::of(text()),
    )
        .prop_map(|(id, role, display_name, speciality)| UserProfile {
            id: UserId(id),
            role,
            display_name,
            speciality,
        })
        .boxed()
}

fn message() -> BoxedStrategy<Message> {
    (int(), int(), seq(), int(), client_id(), text(), timestamp())
        .prop_map(
            |(id, conversation, seq, sender, client_id, body, sent_at)| Message {
                id: MessageId(id),
                conversation_id: ConversationId(conversation),
                seq,
                sender_id: UserId(sender),
                client_id,
                body,
                sent_at,
                kind: if id % 3 == 0 {
                    MessageKind::Closed
                } else {
                    MessageKind::Text
                },
                attachments: Vec::new(),
            },
        )
        .boxed()
}

fn page() -> BoxedStrategy<MessagePage> {
    (proptest::collection::vec(message(), 0..4), any::<bool>())
        .prop_map(|(messages, has_more)| MessagePage { messages, has_more })
        .boxed()
}

fn preview() -> BoxedStrategy<MessagePreview> {
    (int(), text(), timestamp(), seq())
        .prop_map(|(sender, excerpt, sent_at, seq)| MessagePreview {
            sender_id: UserId(sender),
            excerpt,
            sent_at,
            seq,
            kind: MessageKind::Text,
        })
        .boxed()
}

fn summary() -> BoxedStrategy<ConversationSummary> {
    (
        (
            int(),
            text(),
            prop_oneof![
                Just(ConversationStatus::Open),
                Just(ConversationStatus::Closed)
            ],
            user(),
            user(),
            timestamp(),
        ),
        (
            timestamp(),
            proptest::option::of(preview()),
            seq(),
            seq(),
            seq(),
            any::<u32>(),
        ),
    )
        .prop_map(
            |(
                (id, subject, status, patient, doctor, created_at),
                (last_activity_at, last_message, last_seq, my_read_seq, other_read_seq, unread),
            )| ConversationSummary {
                id: ConversationId(id),
                subject,
                status,
                patient,
                doctor,
                created_at,
                last_activity_at,
                last_message,
                last_seq,
                my_read_seq,
                other_read_seq,
                other_read_at: (id % 2 == 1).then_some(last_activity_at),
                other_read_from: Seq(other_read_seq.0 / 2),
                other_delivered_seq: my_read_seq,
                unread_count: unread,
                topic: Topic::ALL[(id.unsigned_abs() % 5) as usize],
                triage: TriageState::ALL[(id.unsigned_abs() % 4) as usize],
                triage_at: created_at,
                waiting_since: (id % 2 == 0).then_some(last_activity_at),
                blocked: id % 3 == 0,
                urgent_since: (id % 5 == 0).then_some(created_at),
                reply_due: None,
                absence: None,
            },
        )
        .boxed()
}

fn cursor() -> BoxedStrategy<ReadCursor> {
    (int(), int(), seq(), any::<bool>())
        .prop_map(|(conversation, user, seq, timed)| ReadCursor {
            conversation_id: ConversationId(conversation),
            user_id: UserId(user),
            seq,
            at: timed.then_some(Timestamp(seq.0)),
            from: Seq(seq.0 / 2),
        })
        .boxed()
}

fn appointment() -> BoxedStrategy<Appointment> {
    (
        int(),
        user(),
        user(),
        timestamp(),
        any::<u32>(),
        text(),
        text(),
    )
        .prop_map(
            |(id, patient, doctor, starts_at, duration_minutes, location, reason)| Appointment {
                id: AppointmentId(id),
                patient,
                doctor,
                starts_at,
                duration_minutes,
                location,
                reason,
            },
        )
        .boxed()
}

fn login() -> BoxedStrategy<LoginResponse> {
    (text(), timestamp(), user(), text(), text())
        .prop_map(|(token, expires_at, user, session, key)| LoginResponse {
            token,
            expires_at,
            user,
            session: SessionHandle(session),
            outbox_key: OutboxKey(key),
            mfa_enrolment_required: false,
        })
        .boxed()
}

fn device() -> BoxedStrategy<SessionInfo> {
    (
        text(),
        text(),
        proptest::option::of(text()),
        timestamp(),
        timestamp(),
        any::<bool>(),
    )
        .prop_map(
            |(id, device, address, created_at, last_seen_at, current)| SessionInfo {
                id: SessionHandle(id),
                device,
                address,
                created_at,
                last_seen_at,
                current,
            },
        )
        .boxed()
}

fn session() -> BoxedStrategy<Session> {
    // The outbox key is never serialised: a stored session has none.
    login()
        .prop_map(|login| Session {
            outbox_key: None,
            ..Session::from(login)
        })
        .boxed()
}

fn outbox_entry() -> BoxedStrategy<OutboxEntry> {
    (
        client_id(),
        timestamp(),
        proptest::option::of(code()),
        text(),
        int(),
        text(),
        text(),
    )
        .prop_map(
            |(client_id, created_at, failed, tab, lease, iv, data)| OutboxEntry {
                client_id,
                created_at,
                failed,
                tab,
                lease,
                sealed: Sealed { iv, data },
            },
        )
        .boxed()
}

fn frame() -> BoxedStrategy<ServerFrame> {
    prop_oneof![
        user().prop_map(|user| ServerFrame::Ready { user }),
        (client_id(), message())
            .prop_map(|(client_id, message)| ServerFrame::Ack { client_id, message }),
        message().prop_map(|message| ServerFrame::Message { message }),
        cursor().prop_map(|cursor| ServerFrame::Read { cursor }),
        cursor().prop_map(|cursor| ServerFrame::Delivered { cursor }),
        summary().prop_map(|conversation| ServerFrame::Conversation { conversation }),
        any::<u64>().prop_map(|nonce| ServerFrame::Pong { nonce }),
        (api_error(), proptest::option::of(client_id()))
            .prop_map(|(error, client_id)| ServerFrame::Error { error, client_id }),
    ]
    .boxed()
}

/// A JSON text of some type the app reads, serialized by serde_json.
fn document() -> BoxedStrategy<String> {
    fn json<T: serde::Serialize>(value: T) -> String {
        serde_json::to_string(&value).unwrap()
    }
    prop_oneof![
        frame().prop_map(json),
        page().prop_map(json),
        proptest::collection::vec(summary(), 0..3).prop_map(json),
        api_error().prop_map(json),
        session().prop_map(json),
        proptest::collection::vec(device(), 0..3).prop_map(json),
        proptest::collection::vec(outbox_entry(), 0..3).prop_map(json),
        appointment().prop_map(json),
        (int(), any::<bool>(), text()).prop_map(json),
    ]
    .boxed()
}

/// Arbitrary JSON (floats, big numbers, raw escapes and lone surrogates included), laid out
/// with varied white space.
fn json_text() -> BoxedStrategy<String> {
    let string = prop_oneof![
        text().prop_map(|s| serde_json::to_string(&s).unwrap()),
        r#""([a-zé]|\\[\\"/bfnrt]|\\u[0-9a-fA-F]{4}|\\u[dD][89abAB][0-9a-f]{2}\\u[dD][c-fC-F][0-9a-f]{2}){0,6}""#,
    ];
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        int().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?",
        string.clone(),
    ];
    let space = || "[ \t\n\r]{0,2}";
    let value = leaf.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            (
                proptest::collection::vec((inner.clone(), space()), 0..5),
                space()
            )
                .prop_map(|(items, before)| {
                    let items: Vec<String> = items.into_iter().map(|(v, s)| v + &s).collect();
                    format!("[{before}{}]", items.join(","))
                }),
            (
                proptest::collection::vec((string.clone(), space(), inner), 0..5),
                space()
            )
                .prop_map(|(members, before)| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(k, s, v)| format!("{k}{s}:{s}{v}"))
                        .collect();
                    format!("{{{before}{}}}", members.join(","))
                }),
        ]
    });
    (space(), value, space())
        .prop_map(|(before, doc, after)| format!("{before}{doc}{after}"))
        .boxed()
}

/// Pieces that make valid JSON invalid (or valid in another way) when spliced in.
const SPLICES: &[&str] = &[
    ",",
    ":",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "\\",
    "0",
    "-",
    "1.5",
    "1e3",
    "-0",
    "01",
    "+1",
    ".5",
    "1.",
    " ",
    "\n",
    "\t",
    "\u{0}",
    "\u{1f}",
    "null",
    "true",
    "false",
    "\\u",
    "\\ud800",
    "\\udc00",
    "\\ud83d\\ude00",
    "\\u00e9",
    "\\n",
    "\\x",
    "é",
    "😀",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    "\"extra\":1,",
    ",\"k\":{\"a\":[1.5e-3,{}]}",
    "[[[[[[",
    "]]]]",
    "\"type\":\"pong\",",
    "\"nonce\":",
    "\"code\":\"internal\"",
];

/// Applies `edits` (position seed, kind, argument) to `doc`, on character boundaries.
fn mutate(doc: &str, edits: &[(usize, u8, usize)]) -> String {
    let mut doc = doc.to_owned();
    for &(at, kind, arg) in edits {
        let mut at = at % (doc.len() + 1);
        while !doc.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + arg % 6 + 1).min(doc.len());
        while !doc.is_char_boundary(end) {
            end += 1;
        }
        let splice = SPLICES[arg % SPLICES.len()];
        match kind % 4 {
            0 => doc.replace_range(at..end, ""),
            1 => doc.insert_str(at, splice),
            2 => doc.replace_range(at..end, splice),
            _ => {
                let copy = doc[at..end].to_owned();
                doc.insert_str(at, &copy);
            }
        }
    }
    doc
}

/// Every target the app reads, plus two generic ones.
fn all_agree(text: &str) -> Result<(), TestCaseError> {
    // For `Any` the answers must match both ways (see [`Any`]).
    let ours = from_str::<Any>(text).ok();
    let theirs = serde_json::from_str::<Any>(text).ok();
    prop_assert_eq!(ours, theirs, "{:?}", text);
    // Skipped, as a whole and as an unknown field.
    agrees::<IgnoredAny>(text)?;
    agrees::<ApiError>(&format!(
        r#"{{"code":"internal","x":{text},"message":"m"}}"#
    ))?;
    agrees::<ApiError>(text)?;
    agrees::<MessagePage>(text)?;
    agrees::<Vec<ConversationSummary>>(text)?;
    agrees::<ConversationSummary>(text)?;
    agrees::<Message>(text)?;
    agrees::<UserProfile>(text)?;
    agrees::<LoginResponse>(text)?;
    agrees::<Appointment>(text)?;
    agrees::<ReadCursor>(text)?;
    agrees::<Session>(text)?;
    agrees::<Vec<SessionInfo>>(text)?;
    agrees::<Vec<OutboxEntry>>(text)?;
    agrees::<(i64, bool, String)>(text)?;
    agrees::<String>(text)?;
    agrees::<Option<u64>>(text)?;
    if let Some(frame) = decode_frame(text) {
        let theirs = serde_json::from_str::<ServerFrame>(text);
        prop_assert_eq!(Ok(frame), theirs.map_err(|_| ()), "{:?}", text);
    }
    Ok(())
}

/// Reads a `T` written by serde_json, and checks serde_json reads it the same.
fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: serde::Serialize + for<'a> Deserialize<'a> + PartialEq + Debug,
{
    let text = serde_json::to_string(value).unwrap();
    let ours = from_str::<T>(&text);
    prop_assert_eq!(ours.as_ref(), Ok(value), "{}", text);
    let pretty = serde_json::to_string_pretty(value).unwrap();
    let ours = from_str::<T>(&pretty);
    prop_assert_eq!(ours.as_ref(), Ok(value), "{}", pretty);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn frames_round_trip_through_decode_frame(frame in frame()) {
        let text = serde_json::to_string(&frame).unwrap();
        prop_assert_eq!(decode_frame(&text), Some(frame));
    }

    #[test]
    fn rest_bodies_round_trip(
        page in page(),
        summaries in proptest::collection::vec(summary(), 0..3),
        message in message(),
        user in user(),
        login in login(),
        appointment in appointment(),
        cursor in cursor(),
        error in api_error(),
        devices in proptest::collection::vec(device(), 0..3),
    ) {
        round_trip(&page)?;
        round_trip(&summaries)?;
        for summary in &summaries {
            round_trip(summary)?;
        }
        round_trip(&message)?;
        round_trip(&user)?;
        round_trip(&login)?;
        round_trip(&vec![appointment])?;
        round_trip(&cursor)?;
        round_trip(&error)?;
        round_trip(&devices)?;
    }

    #[test]
    fn stored_values_round_trip(
        session in session(),
        outbox in proptest::collection::vec(outbox_entry(), 0..4),
        tab in text(),
        lang in prop_oneof![Just(Lang::Fr), Just(Lang::En)],
    ) {
        round_trip(&session)?;
        round_trip(&outbox)?;
        round_trip(&tab)?;
        round_trip(&lang)?;
    }

    #[test]
    fn any_error_code_reads_as_serde_json_reads_it(
        code in prop_oneof!["[a-z_]{0,20}", any::<String>()],
        message in text(),
    ) {
        let text = serde_json::to_string(&serde_json::json!({"code": code, "message": message}))
            .unwrap();
        let ours = from_str::<ApiError>(&text).unwrap();
        prop_assert_eq!(&ours, &serde_json::from_str::<ApiError>(&text).unwrap());
        prop_assert_eq!(ours.code == ErrorCode::Unknown, !CODES.iter().any(|c| {
            *c != ErrorCode::Unknown && serde_json::to_string(c).unwrap() == format!("\"{code}\"")
        }));
    }

    #[test]
    fn mutated_documents_are_read_as_serde_json_reads_them(
        doc in document(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..4),
    ) {
        all_agree(&doc)?;
        all_agree(&mutate(&doc, &edits))?;
    }

    #[test]
    fn json_ish_text_is_read_as_serde_json_reads_it(
        text in prop_oneof![
            json_text(),
            (json_text(), proptest::collection::vec(
                (any::<usize>(), any::<u8>(), any::<usize>()), 1..3,
            ))
                .prop_map(|(doc, edits)| mutate(&doc, &edits)),
            r#"[\[\]{}",:0-9eE.+\- \ntrufalsn\\u]{0,40}"#,
            proptest::collection::vec(proptest::sample::select(SPLICES), 0..12)
                .prop_map(|pieces| pieces.concat()),
        ],
    ) {
        all_agree(&text)?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        all_agree(&text)?;
        let _ = from_str::<IgnoredAny>(&text);
        let _ = from_str::<&str>(&text);
    }
}
