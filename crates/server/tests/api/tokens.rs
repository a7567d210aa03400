//! Tokens that must never authenticate, over REST and over the WebSocket.

use crate::helpers::*;
use colloque_protocol::{ClientFrame, ErrorCode, Role, ServerFrame};
use colloque_server::auth::{AUDIENCE, Claims, ISSUER};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Valid claims for a real session (so that only the tampered part can cause a rejection).
fn claims_for(session: &Session, sid: &str) -> Claims {
    Claims {
        sub: session.id.0.to_string(),
        role: Role::Patient,
        sid: sid.to_owned(),
        r#gen: 0,
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        exp: now() + 600,
        nbf: now(),
        iat: now(),
    }
}

fn sign(claims: &Claims, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, byte)| {
            acc | (u32::from(*byte) << (16 - 8 * i))
        });
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The session id inside a real token (its payload is not encrypted, only signed).
fn sid_of(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in payload.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            _ => 63,
        };
        bits = (bits << 6) | u32::from(value);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}

async fn bad_tokens(app: &TestApp) -> Vec<(&'static str, String)> {
    let emma = app.login(EMMA).await;
    let sid = sid_of(&emma.token);
    let good = claims_for(&emma, &sid);

    let expired = Claims {
        exp: now() - 3600,
        nbf: now() - 7200,
        iat: now() - 7200,
        ..good.clone()
    };
    let wrong_audience = Claims {
        aud: "someone-else".into(),
        ..good.clone()
    };
    let wrong_issuer = Claims {
        iss: "evil".into(),
        ..good.clone()
    };
    let not_yet_valid = Claims {
        nbf: now() + 3600,
        ..good.clone()
    };
    let unsigned = format!(
        "{}.{}.",
        base64url(br#"{"alg":"none","typ":"JWT"}"#),
        base64url(&serde_json::to_vec(&good).unwrap())
    );
    let mut typed_header = Header::new(Algorithm::HS256);
    typed_header.typ = Some("at+jwt".into());
    let wrong_typ = jsonwebtoken::encode(
        &typed_header,
        &good,
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap();
    let other_algorithm = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &good,
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap();
    vec![
        (
            "control: the untampered claims are accepted",
            sign(&good, TEST_SECRET),
        ),
        ("expired", sign(&expired, TEST_SECRET)),
        (
            "forged with another secret",
            sign(&good, "another-secret-another-secret-another"),
        ),
        ("wrong audience", sign(&wrong_audience, TEST_SECRET)),
        ("wrong issuer", sign(&wrong_issuer, TEST_SECRET)),
        ("not yet valid", sign(&not_yet_valid, TEST_SECRET)),
        ("alg none", unsigned),
        ("wrong typ", wrong_typ),
        ("HS512 instead of HS256, same secret", other_algorithm),
        ("garbage", "not.a.token".into()),
    ]
}

#[tokio::test]
async fn expired_forged_wrong_audience_and_unsigned_tokens_are_rejected_over_rest() {
    let app = spawn_app().await;

    for (case, token) in bad_tokens(&app).await {
        let status = app.get("/api/me", &token).await.status();
        if case.starts_with("control") {
            assert_eq!(status, 200, "{case}");
        } else {
            assert_eq!(status, 401, "{case}");
        }
    }
}

#[tokio::test]
async fn expired_forged_wrong_audience_and_unsigned_tokens_are_rejected_over_websocket() {
    let app = spawn_app().await;

    for (case, token) in bad_tokens(&app).await {
        let mut socket = app.raw_socket().await;
        socket.send(&ClientFrame::Auth { token }).await;
        let frame = socket.next_frame().await;
        if case.starts_with("control") {
            assert!(
                matches!(frame, ServerFrame::Ready { .. }),
                "{case}: {frame:?}"
            );
            continue;
        }
        match frame {
            ServerFrame::Error { error, .. } => {
                assert_eq!(error.code, ErrorCode::Unauthorized, "{case}");
            }
            other => panic!("{case}: expected an error, got {other:?}"),
        }
        assert_eq!(socket.closed_with().await, Some(1008), "{case}");
    }
}
