//! Property tests of the protocol decoders: the real WebSocket frame decoder
//! (`colloque_server::ws::decode`) and the real REST body and query extractors
//! (`ApiJson`, `ApiQuery`), fed arbitrary text, bytes and JSON-shaped values. They must never
//! panic, and every refusal must be a clean 4xx `ApiError`.
//!
//! 2 000 cases per property by default; `PROPTEST_CASES=200000` for a long run.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::Request;
use colloque_protocol::{
    ChangePasswordRequest, ErrorCode, HistoryQuery, LoginRequest, MarkReadRequest,
    SendMessageRequest, StartConversationRequest,
};
use colloque_server::error::AppError;
use colloque_server::routes::{ApiJson, ApiQuery};
use colloque_server::ws::decode;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};
use serde_json::{Map, Value};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2_000);
    ProptestConfig {
        cases,
        // Shrunk failures are printed; nothing is written into the source tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..ProptestConfig::default()
    }
}

/// Any JSON value, nested up to 3 levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        Just(Value::String(uuid::Uuid::new_v4().to_string())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// The field names the protocol uses, and anything else.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("type".to_owned()),
        Just("token".to_owned()),
        Just("conversation_id".to_owned()),
        Just("client_id".to_owned()),
        Just("body".to_owned()),
        Just("seq".to_owned()),
        Just("nonce".to_owned()),
        Just("email".to_owned()),
        Just("password".to_owned()),
        Just("with_user_id".to_owned()),
        Just("subject".to_owned()),
        any::<String>(),
    ]
}

/// Objects that look like frames: a `type` (known or not) and protocol-ish fields.
fn frame_like() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just(Value::from("auth")),
        Just(Value::from("send")),
        Just(Value::from("mark_read")),
        Just(Value::from("ping")),
        any::<String>().prop_map(Value::from),
        json_value(),
    ];
    (
        kind,
        prop::collection::vec((field_name(), json_value()), 0..6),
    )
        .prop_map(|(kind, fields)| {
            let mut object: Map<String, Value> = fields.into_iter().collect();
            object.insert("type".into(), kind);
            Value::Object(object)
        })
}

fn assert_clean_refusal(error: &AppError) {
    let status = error.status().as_u16();
    assert!(
        (400..500).contains(&status),
        "status {status} for {error:?}"
    );
    let body = error.to_api_error();
    assert_ne!(body.code, ErrorCode::Internal);
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
}

/// The extractors are async but never wait on I/O here: one small runtime per test thread.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// Runs the real JSON body extractor for `T` on `body`.
async fn extract_body<T>(body: Vec<u8>, content_type: &str) -> Result<T, AppError>
where
    T: serde::de::DeserializeOwned + Send,
{
    let request = Request::post("/")
        .header("content-type", content_type)
        .body(Body::from(body))
        .unwrap();
    ApiJson::<T>::from_request(request, &())
        .await
        .map(|ApiJson(value)| value)
}

async fn all_bodies(body: Vec<u8>) {
    for content_type in ["application/json", "text/plain"] {
        if let Err(error) = extract_body::<SendMessageRequest>(body.clone(), content_type).await {
            assert_clean_refusal(&error);
        }
        if let Err(error) = extract_body::<LoginRequest>(body.clone(), content_type).await {
            assert_clean_refusal(&error);
        }
        if let Err(error) =
            extract_body::<StartConversationRequest>(body.clone(), content_type).await
        {
            assert_clean_refusal(&error);
        }
        if let Err(error) = extract_body::<MarkReadRequest>(body.clone(), content_type).await {
            assert_clean_refusal(&error);
        }
        if let Err(error) = extract_body::<ChangePasswordRequest>(body.clone(), content_type).await
        {
            assert_clean_refusal(&error);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_frame_decoder_refuses_arbitrary_text_cleanly(text in any::<String>()) {
        if let Err(refused) = decode(&text) {
            prop_assert!(matches!(refused.code, ErrorCode::InvalidJson | ErrorCode::UnknownFrame));
        }
    }

    #[test]
    fn the_frame_decoder_refuses_frame_shaped_json_cleanly(frame in frame_like()) {
        let text = serde_json::to_string(&frame).unwrap();
        match decode(&text) {
            // Whatever decodes re-encodes to a frame that decodes the same way.
            Ok(decoded) => {
                let again = serde_json::to_string(&decoded).unwrap();
                prop_assert_eq!(decode(&again).ok(), Some(decoded));
            }
            Err(refused) => {
                prop_assert!(matches!(refused.code, ErrorCode::InvalidJson | ErrorCode::UnknownFrame));
                // A refused send keeps its client id only when it had a readable one.
                if refused.client_id.is_some() {
                    prop_assert_eq!(frame.get("type"), Some(&Value::from("send")));
                }
            }
        }
    }

    #[test]
    fn rest_bodies_of_arbitrary_bytes_are_refused_cleanly(body in prop::collection::vec(any::<u8>(), 0..512)) {
        block_on(all_bodies(body));
    }

    #[test]
    fn rest_bodies_of_arbitrary_json_are_refused_cleanly(value in prop_oneof![json_value(), frame_like()]) {
        block_on(all_bodies(serde_json::to_vec(&value).unwrap()));
    }

    #[test]
    fn history_queries_of_arbitrary_text_are_refused_cleanly(query in any::<String>()) {
        let encoded: String = query
            .bytes()
            .map(|byte| match byte {
                b'a'..=b'z' | b'0'..=b'9' | b'=' | b'&' | b'-' => (byte as char).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect();
        let request = Request::get(format!("/?{encoded}")).body(()).unwrap();
        let (mut parts, ()) = request.into_parts();
        if let Err(error) = block_on(ApiQuery::<HistoryQuery>::from_request_parts(&mut parts, &())) {
            assert_clean_refusal(&error);
        }
    }
}
