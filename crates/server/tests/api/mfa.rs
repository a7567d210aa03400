//! Multi-factor authentication for doctors (issue 10, OWASP ASVS 5.0 V6.3): enrolment by QR
//! code, the login's second step, recovery codes, throttled and audited wrong codes, and a
//! deployment that requires it. Codes are computed here, as an authenticator app does, from
//! the secret the server handed out (`totp-rs`, RFC 6238), never read from the server.

use crate::helpers::*;
use colloque_protocol::{
    ClientFrame, ErrorCode, LoginResponse, MfaChallenge, MfaEnrolment, MfaStatus, RecoveryCodes,
};
use colloque_server::DEMO_PASSWORD;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};
use totp_rs::{Algorithm, Secret, TOTP};

/// What an authenticator app holds after scanning the QR code.
struct App(TOTP);

impl App {
    fn from(enrolment: &MfaEnrolment) -> Self {
        let bytes = Secret::Encoded(enrolment.secret.clone())
            .to_bytes()
            .unwrap();
        Self(TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, bytes))
    }

    /// The code the app shows at time step `step` (the server accepts now's and one either
    /// side, for clock drift).
    fn code(&self, step: u64) -> String {
        self.0.generate(step * 30)
    }
}

/// Now's time step.
fn step_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

/// A 6-digit code that is not `code`.
fn other_than(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

async fn enrol(app: &TestApp, session: &Session) -> MfaEnrolment {
    let response = app
        .post("/api/me/mfa/enrol", &session.token, &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn confirm(app: &TestApp, session: &Session, code: &str) -> reqwest::Response {
    app.post(
        "/api/me/mfa/confirm",
        &session.token,
        &json!({ "code": code }),
    )
    .await
}

/// Enrols `session`'s account: its authenticator app, its recovery codes, and the time step
/// whose code confirmed it (spent: the next code that works is a later step's).
async fn enrolled(app: &TestApp, session: &Session) -> (App, Vec<String>, u64) {
    let enrolment = enrol(app, session).await;
    let phone = App::from(&enrolment);
    let step = step_now();
    let response = confirm(app, session, &phone.code(step)).await;
    assert_eq!(response.status(), 200);
    let codes: RecoveryCodes = response.json().await.unwrap();
    (phone, codes.codes, step)
}

async fn disable(
    app: &TestApp,
    session: &Session,
    password: &str,
    code: &str,
) -> reqwest::Response {
    app.post(
        "/api/me/mfa/disable",
        &session.token,
        &json!({ "password": password, "code": code }),
    )
    .await
}

/// The first step of a login to an account with MFA: its challenge.
async fn challenge(app: &TestApp, email: &str) -> String {
    let response = app.post_login(email, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 202, "a challenge, not a session");
    assert!(refresh_cookie(&response).is_none(), "no refresh cookie yet");
    let body: MfaChallenge = response.json().await.unwrap();
    body.challenge
}

async fn second_step(app: &TestApp, challenge: &str, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login/mfa"))
        .json(&json!({ "challenge": challenge, "code": code }))
        .send()
        .await
        .unwrap()
}

async fn status(app: &TestApp, session: &Session) -> MfaStatus {
    let response = app.get("/api/me/mfa", &session.token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn code_of(response: reqwest::Response) -> (u16, ErrorCode) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        serde_json::from_value(body["code"].clone()).unwrap(),
    )
}

fn actions(records: &[colloque_server::audit::Record]) -> Vec<String> {
    records.iter().map(|record| record.action.clone()).collect()
}

#[tokio::test]
async fn a_doctor_enrols_by_qr_code_confirms_with_a_first_code_and_gets_ten_recovery_codes() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    assert!(!status(&app, &martin).await.enabled);

    let enrolment = enrol(&app, &martin).await;
    assert!(
        enrolment.otpauth_uri.starts_with(&format!(
            "otpauth://totp/Colloque:dr.martin%40colloque.test?secret={}&issuer=Colloque",
            enrolment.secret
        )),
        "{}",
        enrolment.otpauth_uri
    );
    assert_eq!(enrolment.secret.len(), 32, "160 bits in base32");
    assert!(enrolment.qr.size >= 29 && enrolment.qr.path.starts_with('M'));
    // Nothing changes until a first code proves the app holds the secret.
    assert_eq!(app.post_login(MARTIN, DEMO_PASSWORD).await.status(), 200);
    let phone = App::from(&enrolment);
    let step = step_now();
    let wrong = other_than(&phone.code(step));
    assert_eq!(
        code_of(confirm(&app, &martin, &wrong).await).await,
        (403, ErrorCode::InvalidMfaCode)
    );
    // Starting again replaces the pending secret: the first one's codes are worth nothing.
    let again = enrol(&app, &martin).await;
    assert_ne!(again.secret, enrolment.secret);
    assert_eq!(
        code_of(confirm(&app, &martin, &phone.code(step)).await).await,
        (403, ErrorCode::InvalidMfaCode)
    );
    let phone = App::from(&again);
    let response = confirm(&app, &martin, &phone.code(step_now())).await;
    assert_eq!(response.status(), 200);
    let codes: RecoveryCodes = response.json().await.unwrap();
    assert_eq!(codes.codes.len(), 10);
    let mut distinct = codes.codes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    assert_eq!(
        status(&app, &martin).await,
        MfaStatus {
            enabled: true,
            required: false,
            recovery_codes_left: 10
        }
    );
    // On: no second enrolment over it.
    let response = app
        .post("/api/me/mfa/enrol", &martin.token, &json!({}))
        .await;
    assert_eq!(code_of(response).await, (409, ErrorCode::MfaAlreadyEnabled));
    assert!(actions(&app.audit_of(MARTIN).await).contains(&"mfa_enabled".to_owned()));

    // At rest: the secret is encrypted and the recovery codes are keyed hashes.
    let (secret, hashes): (String, Vec<String>) = on_db!(app.db().await, |pool| {
        let secret: String = sqlx::query_scalar("SELECT secret FROM mfa_totp")
            .fetch_one(&pool)
            .await
            .unwrap();
        let hashes: Vec<String> = sqlx::query_scalar("SELECT hash FROM mfa_recovery_codes")
            .fetch_all(&pool)
            .await
            .unwrap();
        (secret, hashes)
    });
    let raw = Secret::Encoded(again.secret.clone()).to_bytes().unwrap();
    use base64::Engine;
    let stored = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&secret)
        .unwrap();
    assert!(!secret.contains(&again.secret));
    assert!(
        !stored
            .windows(raw.len())
            .any(|window| window == raw.as_slice()),
        "the secret is not stored in clear"
    );
    assert_eq!(hashes.len(), 10);
    for code in &codes.codes {
        let bare = code.replace('-', "");
        assert!(
            hashes
                .iter()
                .all(|hash| !hash.contains(&bare.to_lowercase()))
        );
    }
}

#[tokio::test]
async fn a_doctor_with_mfa_gets_no_session_from_the_password_alone() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let (phone, _, step) = enrolled(&app, &martin).await;

    let response = app.post_login(MARTIN, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 202);
    assert!(refresh_cookie(&response).is_none());
    let body: Value = response.json().await.unwrap();
    assert!(body.get("token").is_none(), "no access token: {body}");
    let challenge = body["challenge"].as_str().unwrap().to_owned();
    // The challenge is no access token, on REST nor on the socket.
    assert_eq!(app.get("/api/me", &challenge).await.status(), 401);
    assert_eq!(
        app.get("/api/conversations", &challenge).await.status(),
        401
    );
    let mut socket = app.raw_socket().await;
    socket
        .send(&ClientFrame::Auth {
            token: challenge.clone(),
        })
        .await;
    assert_eq!(socket.next_error().await.0, ErrorCode::Unauthorized);
    assert_eq!(socket.closed_with().await, Some(1008));
    // A wrong password still gets the same 401 as ever, and no challenge.
    let response = app.post_login(MARTIN, "not-the-password").await;
    assert_eq!(
        code_of(response).await,
        (401, ErrorCode::InvalidCredentials)
    );

    // The second step makes the session, exactly as a login does.
    let response = second_step(&app, &challenge, &phone.code(step + 1)).await;
    let session = session_from(response).await;
    assert_eq!(session.id, martin.id);
    assert_eq!(
        app.get("/api/conversations", &session.token).await.status(),
        200
    );
    app.socket(&session).await;
    assert_eq!(app.refresh(&session).await.status(), 200);
    // An access token is no challenge.
    let response = second_step(&app, &session.token, &phone.code(step + 2)).await;
    assert_eq!(code_of(response).await, (401, ErrorCode::Unauthorized));
    let response = second_step(&app, "not-a-challenge", &phone.code(step + 2)).await;
    assert_eq!(code_of(response).await, (401, ErrorCode::Unauthorized));
    let trail = actions(&app.audit_of(MARTIN).await);
    assert!(trail.contains(&"mfa_challenged".to_owned()), "{trail:?}");
    // Patients are not concerned.
    app.login(LUCAS).await;
}

#[tokio::test]
async fn a_totp_code_cannot_be_used_twice() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let (phone, _, step) = enrolled(&app, &martin).await;
    // The confirmation spent its step: that code does not log in.
    let confirmed = phone.code(step);
    let response = second_step(&app, &challenge(&app, MARTIN).await, &confirmed).await;
    assert_eq!(code_of(response).await, (401, ErrorCode::InvalidMfaCode));

    // The next step's code (within the drift allowed) works once.
    let next = phone.code(step + 1);
    let first = second_step(&app, &challenge(&app, MARTIN).await, &next).await;
    assert_eq!(first.status(), 200);
    let again = second_step(&app, &challenge(&app, MARTIN).await, &next).await;
    assert_eq!(code_of(again).await, (401, ErrorCode::InvalidMfaCode));
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let (_, codes, _) = enrolled(&app, &martin).await;
    // Typed as people do: lower case, without the dashes.
    let typed = codes[3].replace('-', " ").to_lowercase();
    let response = second_step(&app, &challenge(&app, MARTIN).await, &typed).await;
    let session = session_from(response).await;
    assert_eq!(status(&app, &session).await.recovery_codes_left, 9);

    let response = second_step(&app, &challenge(&app, MARTIN).await, &codes[3]).await;
    assert_eq!(code_of(response).await, (401, ErrorCode::InvalidMfaCode));
    // The others still work, and another account's codes are not this one's.
    let durand = app.login(DURAND).await;
    let (_, durands, _) = enrolled(&app, &durand).await;
    let response = second_step(&app, &challenge(&app, MARTIN).await, &durands[0]).await;
    assert_eq!(response.status(), 401);
    let response = second_step(&app, &challenge(&app, MARTIN).await, &codes[4]).await;
    assert_eq!(response.status(), 200);
    let used: Vec<_> = app
        .audit_of(MARTIN)
        .await
        .into_iter()
        .filter(|record| record.action == "mfa_recovery_code_used")
        .collect();
    assert_eq!(used.len(), 2);
}

#[tokio::test]
async fn wrong_codes_are_throttled() {
    let mut app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let (phone, _, step) = enrolled(&app, &martin).await;
    let challenge = challenge(&app, MARTIN).await;
    let right = phone.code(step + 1);
    let wrong = other_than(&right);
    for _ in 0..5 {
        let response = second_step(&app, &challenge, &wrong).await;
        assert_eq!(code_of(response).await, (401, ErrorCode::InvalidMfaCode));
    }
    // Past the limit even the right code is refused, before it is looked at…
    let response = second_step(&app, &challenge, &right).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    // …and the right password again does not clear the codes' window (it is theirs alone).
    let fresh = self::challenge(&app, MARTIN).await;
    assert_eq!(second_step(&app, &fresh, &right).await.status(), 429);
    // The windows are the database's: another instance (or a restart) sees the same count.
    let rows: i64 = on_db!(app.db().await, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM login_attempts WHERE account_key = $1 AND outcome = 'failed'",
        )
        .bind(format!("mfa:{MARTIN}"))
        .fetch_one(&pool)
        .await
        .unwrap()
    });
    assert_eq!(rows, 5);
    // Audited as counted refusals (one row per address and minute, written at the latest when
    // the server stops).
    app.stop().await;
    let failed: i64 = app
        .audit_counts("mfa_failed")
        .await
        .iter()
        .map(|(_, _, occurrences)| occurrences)
        .sum();
    assert_eq!(failed, 7, "five wrong codes and two throttled attempts");
}

#[tokio::test]
async fn disabling_mfa_needs_the_password_and_a_current_code() {
    let app = spawn_app().await;
    let martin = app.login(MARTIN).await;
    let (phone, _, step) = enrolled(&app, &martin).await;
    let code = phone.code(step + 1);
    assert_eq!(
        code_of(disable(&app, &martin, "not-the-password", &code).await).await,
        (403, ErrorCode::WrongPassword)
    );
    assert_eq!(
        code_of(disable(&app, &martin, DEMO_PASSWORD, &other_than(&code)).await).await,
        (403, ErrorCode::InvalidMfaCode)
    );
    assert!(status(&app, &martin).await.enabled, "still on");
    assert_eq!(
        disable(&app, &martin, DEMO_PASSWORD, &code).await.status(),
        204
    );
    assert!(!status(&app, &martin).await.enabled);
    // The password alone logs in again.
    assert_eq!(app.post_login(MARTIN, DEMO_PASSWORD).await.status(), 200);
    let trail = actions(&app.audit_of(MARTIN).await);
    assert!(trail.contains(&"mfa_disabled".to_owned()), "{trail:?}");
}

#[tokio::test]
async fn a_required_mfa_restricts_a_doctor_without_it_to_enrolment() {
    let app = spawn_app_with(|config| config.limits.require_mfa_for_doctors = true).await;
    let response = app.post_login(MARTIN, DEMO_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let (refresh, _) = refresh_cookie(&response).unwrap();
    let body: LoginResponse = response.json().await.unwrap();
    assert!(body.mfa_enrolment_required);
    let martin = Session {
        token: body.token,
        id: body.user.id,
        handle: body.session.0,
        refresh,
    };
    for path in ["/api/conversations", "/api/patients", "/api/sessions"] {
        let response = app.get(path, &martin.token).await;
        assert_eq!(
            code_of(response).await,
            (403, ErrorCode::MfaEnrolmentRequired),
            "{path}"
        );
    }
    let mut socket = app.raw_socket().await;
    socket
        .send(&ClientFrame::Auth {
            token: martin.token.clone(),
        })
        .await;
    assert_eq!(socket.next_error().await.0, ErrorCode::MfaEnrolmentRequired);
    assert_eq!(socket.closed_with().await, Some(1008));
    assert_eq!(app.get("/api/me", &martin.token).await.status(), 200);
    assert!(status(&app, &martin).await.required);
    // A refresh says so too.
    let renewed = app.refresh(&martin).await;
    let (refresh, _) = refresh_cookie(&renewed).unwrap();
    let body: LoginResponse = renewed.json().await.unwrap();
    assert!(body.mfa_enrolment_required);
    let martin = Session {
        token: body.token,
        refresh,
        ..martin
    };
    // Patients are not concerned.
    let lucas = app.login(LUCAS).await;
    assert_eq!(
        app.get("/api/conversations", &lucas.token).await.status(),
        200
    );

    // Once enrolled, the same session works everywhere.
    enrolled(&app, &martin).await;
    assert_eq!(
        app.get("/api/conversations", &martin.token).await.status(),
        200
    );
    app.socket(&martin).await;
    let renewed = app.refresh(&martin).await;
    let body: LoginResponse = renewed.json().await.unwrap();
    assert!(!body.mfa_enrolment_required);
    // And a restricted session can still log out.
    let response = app.post_login(DURAND, DEMO_PASSWORD).await;
    let durand: LoginResponse = response.json().await.unwrap();
    assert!(durand.mfa_enrolment_required);
    let response = app
        .post("/api/auth/logout", &durand.token, &json!({}))
        .await;
    assert_eq!(response.status(), 204);
}
