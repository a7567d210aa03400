//! Browser tests of the account's security page (issue 10), the same for patients and
//! doctors: the signed-in devices, signing one out, the password change; the token a tab
//! renews, taken by the other tabs of its session; and a tab paused because the account holds
//! too many sockets.
//!
//! The whole app is rendered ([`common::app`]); `fetch` answers from a table, the WebSocket is
//! in memory. Waits are bounded polls, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

mod common;

use colloque::session::Session;
use colloque_protocol::{
    ApiError, ErrorCode, LoginResponse, OutboxKey, Role, ServerFrame, SessionHandle, SessionInfo,
    Timestamp, UserProfile,
};
use common::app::*;
use common::{DOCTOR, PATIENT, bodies, install_fetch, profile, requests};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlInputElement;

wasm_bindgen_test_configure!(run_in_browser);

const HANDLE: &str = "5e55";
const PHONE: &str = "0f0f";

fn in_ms(ms: f64) -> Timestamp {
    Timestamp((js_sys::Date::now() + ms) as i64)
}

fn session(user: UserProfile, token: &str, lifetime_ms: f64, handle: &str) -> Session {
    Session {
        token: token.into(),
        expires_at: in_ms(lifetime_ms),
        user,
        handle: SessionHandle(handle.into()),
        outbox_key: None,
        shared: false,
        mfa_enrolment_required: false,
    }
}

fn lucas() -> UserProfile {
    profile(PATIENT, Role::Patient, "Lucas Bernard")
}

fn device(id: &str, device: &str, current: bool) -> SessionInfo {
    SessionInfo {
        id: SessionHandle(id.into()),
        device: device.into(),
        address: Some("203.0.113.7".into()),
        created_at: in_ms(-3_600_000.0),
        last_seen_at: in_ms(-60_000.0),
        current,
    }
}

fn devices(list: &[SessionInfo]) -> Value {
    serde_json::to_value(list).unwrap()
}

/// What `GET /api/me/notifications` answers a user who never chose.
fn notification_defaults() -> Value {
    serde_json::to_value(colloque_protocol::NotificationSettings::default()).unwrap()
}

fn checked(app: &Mounted, id: &str) -> bool {
    app.testid(id)
        .unwrap()
        .unchecked_into::<HtmlInputElement>()
        .checked()
}

fn cards(app: &Mounted) -> Vec<web_sys::Element> {
    let list = app
        .root
        .query_selector_all("[data-testid='device']")
        .unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|node| node.unchecked_into())
        .collect()
}

fn type_into(app: &Mounted, id: &str, value: &str) {
    app.testid(id)
        .unwrap()
        .unchecked_into::<HtmlInputElement>()
        .set_value(value);
}

#[wasm_bindgen_test]
async fn the_security_page_lists_the_devices_and_signs_one_out() {
    reset_storage();
    let both = [
        device(HANDLE, "Firefox · macOS", true),
        device(PHONE, "Chrome · Android", false),
    ];
    install_fetch(&[("GET /api/sessions", 200, devices(&both))]);
    let app = Setup::at("/patient/securite")
        .logged_in(session(lucas(), "t", 600_000.0, HANDLE))
        .mount();
    app.until("the two devices", |a| cards(a).len() == 2).await;

    let this = &cards(&app)[0];
    assert_eq!(this.get_attribute("data-current").as_deref(), Some("true"));
    let text = this.text_content().unwrap();
    assert!(
        text.contains("Firefox · macOS") && text.contains("Cet appareil"),
        "{text}"
    );
    assert!(text.contains("Adresse : 203.0.113.7"), "{text}");
    assert!(text.contains("Dernière activité"), "{text}");
    assert!(
        this.query_selector("[data-testid='sign-out-device']")
            .unwrap()
            .is_none(),
        "this device signs out with the logout button"
    );
    let phone = &cards(&app)[1];
    let button = phone
        .query_selector("[data-testid='sign-out-device']")
        .unwrap()
        .expect("another device can be signed out");
    assert_eq!(
        button.get_attribute("aria-label").as_deref(),
        Some("Déconnecter Chrome · Android"),
        "the button says which device"
    );

    install_fetch(&[
        ("POST /api/sessions/0f0f/end", 204, Value::Null),
        ("GET /api/sessions", 200, devices(&both[..1])),
    ]);
    button.unchecked_into::<web_sys::HtmlElement>().click();
    app.until("the list without the phone", |a| cards(a).len() == 1)
        .await;

    let log = requests();
    assert!(
        log.contains(&"POST /api/sessions/0f0f/end @t".to_owned()),
        "{log:?}"
    );
    assert_eq!(
        app.path(),
        "/patient/securite",
        "still here, still signed in"
    );
}

#[wasm_bindgen_test]
async fn a_password_change_says_what_happened_in_plain_words() {
    reset_storage();
    install_fetch(&[
        (
            "GET /api/sessions",
            200,
            devices(&[device(HANDLE, "", true)]),
        ),
        (
            "POST /api/me/password",
            403,
            json!({"code": "wrong_password", "message": "m"}),
        ),
        ("GET /api/me/notifications", 200, notification_defaults()),
        ("GET /api/me/typing", 200, json!({"share_typing": true})),
    ]);
    let app = Setup::at("/patient/securite")
        .logged_in(session(lucas(), "t", 600_000.0, HANDLE))
        .mount();
    app.until("the form and the device", |a| {
        a.testid("current-password").is_some() && cards(a).len() == 1
    })
    .await;
    assert!(
        cards(&app)[0]
            .text_content()
            .unwrap()
            .contains("Appareil inconnu"),
        "a device the server could not name"
    );

    type_into(&app, "current-password", "not-the-right-one");
    type_into(&app, "new-password", "un nouveau mot de passe");
    app.click("change-password");
    app.until("the refusal", |a| a.testid("error-view").is_some())
        .await;

    let text = app.testid("error-view").unwrap().text_content().unwrap();
    assert!(
        text.contains("Le mot de passe actuel n’est pas le bon"),
        "{text}"
    );
    assert_eq!(
        app.path(),
        "/patient/securite",
        "a wrong password ends nothing"
    );
    assert!(
        !requests()
            .iter()
            .any(|r| r.starts_with("POST /api/auth/refresh")),
        "403, not 401: nothing to renew"
    );

    install_fetch(&[
        (
            "GET /api/sessions",
            200,
            devices(&[device(HANDLE, "", true)]),
        ),
        ("POST /api/me/password", 204, Value::Null),
    ]);
    type_into(&app, "current-password", "colloque-demo");
    app.click("change-password");
    app.until("the confirmation", |a| {
        a.testid("password-changed").is_some()
    })
    .await;
    // The fake server reads bodies asynchronously, and the page's other requests may have one
    // too: wait for this one.
    app.until("the body to be read", |_| {
        bodies()
            .iter()
            .any(|b| b.starts_with("POST /api/me/password"))
    })
    .await;

    let sent = bodies()
        .into_iter()
        .find(|b| b.starts_with("POST /api/me/password"))
        .expect("the change was posted");
    assert!(
        sent.contains(r#""current_password":"colloque-demo""#)
            && sent.contains(r#""new_password":"un nouveau mot de passe""#),
        "{sent}"
    );
    let text = app
        .testid("password-changed")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(
        text.contains("Vos autres appareils ont été déconnectés"),
        "{text}"
    );
    let current = app.testid("current-password").unwrap();
    assert_eq!(
        current.unchecked_into::<HtmlInputElement>().value(),
        "",
        "not left on screen"
    );
}

#[wasm_bindgen_test]
async fn the_patient_and_the_doctor_reach_the_same_page_from_the_menu() {
    for (user, home, page) in [
        (lucas(), "/patient", "/patient/securite"),
        (
            profile(DOCTOR, Role::Doctor, "Dr Claire Martin"),
            "/medecin/patients",
            "/medecin/securite",
        ),
    ] {
        reset_storage();
        install_fetch(&[
            (
                "GET /api/sessions",
                200,
                devices(&[device(HANDLE, "Chrome", true)]),
            ),
            ("GET /api/appointments", 200, json!([])),
            ("GET /api/care-team", 200, json!([])),
            ("GET /api/patients", 200, json!([])),
            ("GET /api/conversations", 200, json!([])),
            (
                "GET /api/me/mfa",
                200,
                json!({"enabled": false, "required": false, "recovery_codes_left": 0}),
            ),
        ]);
        let app = Setup::at(home)
            .logged_in(session(user, "t", 600_000.0, HANDLE))
            .mount();
        let link = format!("#app-nav a[href='{page}']");
        app.until("the menu's link", |a| a.one(&link).is_some())
            .await;
        assert_eq!(app.one(&link).unwrap().text_content().unwrap(), "Sécurité");

        app.one(&link)
            .unwrap()
            .unchecked_into::<web_sys::HtmlElement>()
            .click();
        app.until("the page", |a| cards(a).len() == 1).await;

        assert_eq!(app.path(), page);
        assert_eq!(
            app.one("h1").unwrap().text_content().unwrap(),
            "Sécurité du compte"
        );
    }
}

#[wasm_bindgen_test]
async fn a_token_renewed_in_one_tab_is_taken_by_the_other_tabs_of_its_session() {
    reset_storage();
    let renewed = serde_json::to_value(LoginResponse {
        token: "renewed-by-tab-a".into(),
        expires_at: in_ms(15.0 * 60_000.0),
        user: lucas(),
        session: SessionHandle(HANDLE.into()),
        outbox_key: OutboxKey(common::OUTBOX_KEY.into()),
        mfa_enrolment_required: false,
    })
    .unwrap();
    install_fetch(&[
        ("POST /api/auth/refresh/5e55", 200, renewed),
        ("GET /api/conversations", 200, json!([])),
    ]);
    // Tab A's token is about to need renewing (the user just arrived); tab B, a duplicate of
    // the same session, has ten minutes left; tab C is another session of the same user.
    let tab_b = Setup::at("/patient/messages")
        .logged_in(session(lucas(), "tab-b-token", 600_000.0, HANDLE))
        .mount();
    let tab_c = Setup::at("/patient/messages")
        .logged_in(session(lucas(), "tab-c-token", 600_000.0, "c0c0"))
        .mount();
    let tab_a = Setup::at("/patient/messages")
        .logged_in(session(lucas(), "tab-a-token", 1_200.0, HANDLE))
        .mount();

    tab_b
        .until("tab B to take tab A's token", |b| {
            b.server.tokens.borrow().last().map(String::as_str) == Some("renewed-by-tab-a")
        })
        .await;

    let log = requests();
    assert_eq!(
        log.iter()
            .filter(|r| r.starts_with("POST /api/auth/refresh"))
            .count(),
        1,
        "one renewal for the whole session: {log:?}"
    );
    tab_a
        .until("tab A to use its own renewal", |a| {
            a.server.tokens.borrow().last().map(String::as_str) == Some("renewed-by-tab-a")
        })
        .await;
    assert_eq!(
        tab_c.server.tokens.borrow().last().map(String::as_str),
        Some("tab-c-token"),
        "another session's tab keeps its own token"
    );
}

fn connection_state(app: &Mounted) -> Option<String> {
    app.testid("connection-status")?.get_attribute("data-state")
}

#[wasm_bindgen_test]
async fn a_tab_closed_for_too_many_sockets_pauses_calmly_and_resumes_when_asked() {
    reset_storage();
    install_fetch(&[(
        "GET /api/sessions",
        200,
        devices(&[device(HANDLE, "Firefox · macOS", true)]),
    )]);
    let app = Setup::at("/patient/securite")
        .logged_in(session(lucas(), "t", 600_000.0, HANDLE))
        .mount();
    app.until("a socket", |a| a.server.tokens.borrow().len() == 1)
        .await;
    app.server.push(ServerFrame::Ready { user: lucas() });
    app.until("online", |a| {
        connection_state(a).as_deref() == Some("online")
    })
    .await;

    app.server.push(ServerFrame::Error {
        error: ApiError::new(ErrorCode::TooManySockets, "too many sockets"),
        client_id: None,
    });

    app.until("paused", |a| {
        connection_state(a).as_deref() == Some("paused")
    })
    .await;
    let notice = app
        .testid("connection-status")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(
        notice.contains("Colloque est ouvert dans trop d’onglets ; cet onglet s’est mis en pause."),
        "{notice}"
    );
    assert_eq!(app.server.closed.get(), 1, "the socket is let go");
    for _ in 0..10 {
        yew::scheduler::flush().await;
    }
    assert_eq!(
        app.server.tokens.borrow().len(),
        1,
        "no reconnection by itself: it would close another tab's socket"
    );
    assert_eq!(
        app.path(),
        "/patient/securite",
        "still signed in, on its page"
    );

    app.click("resume-here");

    app.until("a new socket", |a| a.server.tokens.borrow().len() == 2)
        .await;
    assert_eq!(
        app.server.tokens.borrow()[1],
        "t",
        "with the session's token"
    );
    app.server.push(ServerFrame::Ready { user: lucas() });
    app.until("online again", |a| {
        connection_state(a).as_deref() == Some("online")
    })
    .await;
    assert!(app.testid("resume-here").is_none());
}

#[wasm_bindgen_test]
async fn the_notification_choices_show_what_is_stored_and_save_what_is_ticked() {
    reset_storage();
    let saved =
        json!({"email": false, "push": false, "quiet_hours": {"from": "21:00", "to": "08:00"}});
    install_fetch(&[
        (
            "GET /api/sessions",
            200,
            devices(&[device(HANDLE, "Chrome", true)]),
        ),
        ("GET /api/me/notifications", 200, notification_defaults()),
        ("PUT /api/me/notifications", 200, saved.clone()),
    ]);
    let app = Setup::at("/patient/securite")
        .logged_in(session(lucas(), "t", 600_000.0, HANDLE))
        .mount();
    app.until("the choices", |a| a.testid("notify-email").is_some())
        .await;
    assert!(
        checked(&app, "notify-email")
            && checked(&app, "notify-push")
            && checked(&app, "notify-quiet")
    );

    app.click("notify-email");
    app.until("unticked", |a| !checked(a, "notify-email")).await;
    app.click("notify-push");
    app.until("unticked", |a| !checked(a, "notify-push")).await;
    app.click("save-notifications");
    app.until("saved", |a| a.testid("notifications-saved").is_some())
        .await;

    assert!(
        !checked(&app, "notify-email") && !checked(&app, "notify-push"),
        "still as ticked once saved"
    );
    // The fake server reads request bodies asynchronously.
    app.until("the body read", |_| {
        bodies()
            .iter()
            .any(|body| body.starts_with("PUT /api/me/notifications "))
    })
    .await;
    let put = bodies()
        .into_iter()
        .find(|body| body.starts_with("PUT /api/me/notifications "))
        .expect("the choices were sent");
    let sent: Value =
        serde_json::from_str(put.trim_start_matches("PUT /api/me/notifications ")).unwrap();
    assert_eq!(sent, saved);
}

#[wasm_bindgen_test]
async fn hiding_ones_writing_is_saved_at_once_and_undone_when_the_server_refuses() {
    reset_storage();
    install_fetch(&[
        (
            "GET /api/sessions",
            200,
            devices(&[device(HANDLE, "Chrome", true)]),
        ),
        ("GET /api/me/notifications", 200, notification_defaults()),
        ("GET /api/me/typing", 200, json!({"share_typing": true})),
        ("PUT /api/me/typing", 200, json!({"share_typing": false})),
    ]);
    let app = Setup::at("/patient/securite")
        .logged_in(session(lucas(), "t", 600_000.0, HANDLE))
        .mount();
    app.until("the choice", |a| a.testid("share-typing").is_some())
        .await;
    assert!(checked(&app, "share-typing"), "shown by default");

    app.click("share-typing");
    app.until("saved", |a| a.testid("typing-saved").is_some())
        .await;
    assert!(!checked(&app, "share-typing"));
    app.until("the body read", |_| {
        bodies()
            .iter()
            .any(|body| body.starts_with("PUT /api/me/typing "))
    })
    .await;
    let put = bodies()
        .into_iter()
        .find(|body| body.starts_with("PUT /api/me/typing "))
        .expect("the choice was sent");
    let sent: Value = serde_json::from_str(put.trim_start_matches("PUT /api/me/typing ")).unwrap();
    assert_eq!(sent, json!({"share_typing": false}));

    // The server refuses the next change: the box goes back to what it holds.
    install_fetch(&[(
        "PUT /api/me/typing",
        503,
        json!({"code": "server_busy", "message": "m"}),
    )]);
    app.click("share-typing");
    app.until("the refusal", |a| {
        a.testid("typing-setting")
            .and_then(|card| {
                card.query_selector("[data-testid='error-view']")
                    .ok()
                    .flatten()
            })
            .is_some()
    })
    .await;
    assert!(!checked(&app, "share-typing"), "still hidden, as saved");
}
