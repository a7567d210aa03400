//! Browser tests of the app's client-side security: where the token lives, what a logout
//! leaves behind, automatic logoff, token renewal on a 401, styles under a strict CSP, and
//! markup in a message shown as inert text.
//!
//! The whole app is rendered (providers, router, real pages); only the transports are
//! replaced: `fetch` by a table of canned answers keyed by method, path and bearer token, and
//! the WebSocket by an in-memory connector. Timers run for real with tiny configured
//! durations; waits are bounded polls for a condition, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

mod common;

use colloque::crypto::Sealed;
use colloque::hooks::outbox::{self, OutboxEntry};
use colloque::session::Session;
use colloque_protocol::{
    ClientMsgId, ConversationId, ConversationStatus, ConversationSummary, LoginResponse, Message,
    MessageId, MessagePage, MessagePreview, OutboxKey, Role, Seq, ServerFrame, SessionHandle,
    Timestamp, UserProfile,
};
use serde_json::{Value, json};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

use common::app::*;
use common::{DOCTOR, PATIENT, credentials, install_fetch, profile, requests};

const CONV: ConversationId = ConversationId(10);
const OLD_TOKEN: &str = "old-token-4f1c";
const NEW_TOKEN: &str = "new-token-9a2e";
/// The test session's public name: its refresh route is `POST /api/auth/refresh/5e55`.
const HANDLE: &str = "5e55";
const REFRESH: &str = "POST /api/auth/refresh/5e55";

// ---------- canned REST answers ----------

fn count(requests: &[String], prefix: &str) -> usize {
    requests.iter().filter(|r| r.starts_with(prefix)).count()
}

// ---------- test data ----------

fn lucas() -> UserProfile {
    profile(PATIENT, Role::Patient, "Lucas Bernard")
}

fn in_ms(ms: f64) -> Timestamp {
    Timestamp((js_sys::Date::now() + ms) as i64)
}

fn session(token: &str, lifetime_ms: f64) -> Session {
    Session {
        token: token.into(),
        expires_at: in_ms(lifetime_ms),
        user: lucas(),
        handle: SessionHandle(HANDLE.into()),
        outbox_key: None,
        shared: false,
        mfa_enrolment_required: false,
    }
}

fn login_response(token: &str) -> Value {
    serde_json::to_value(LoginResponse {
        token: token.into(),
        expires_at: in_ms(15.0 * 60_000.0),
        user: lucas(),
        session: SessionHandle(HANDLE.into()),
        outbox_key: OutboxKey(common::OUTBOX_KEY.into()),
        mfa_enrolment_required: false,
    })
    .unwrap()
}

const MARKUP: &str =
    r#"<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>Bonjour"#;

fn summary_with_markup() -> ConversationSummary {
    ConversationSummary {
        id: CONV,
        subject: "<b>Ordonnance</b>".into(),
        status: ConversationStatus::Open,
        patient: lucas(),
        doctor: profile(DOCTOR, Role::Doctor, "Dr Claire Martin"),
        created_at: Timestamp(0),
        last_activity_at: Timestamp(60_000),
        last_message: Some(MessagePreview {
            sender_id: DOCTOR,
            excerpt: MARKUP.into(),
            sent_at: Timestamp(60_000),
            seq: Seq(1),
            kind: Default::default(),
        }),
        last_seq: Seq(1),
        my_read_seq: Seq(0),
        other_read_seq: Seq(0),
        other_read_at: None,
        other_read_from: Seq(0),
        other_delivered_seq: Seq(0),
        unread_count: 1,
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

fn page_with_markup() -> Value {
    serde_json::to_value(MessagePage {
        messages: vec![Message {
            id: MessageId(101),
            conversation_id: CONV,
            seq: Seq(1),
            sender_id: DOCTOR,
            client_id: ClientMsgId(uuid::Uuid::from_u128(1)),
            body: MARKUP.into(),
            sent_at: Timestamp(60_000),
            kind: Default::default(),
            attachments: Vec::new(),
        }],
        has_more: false,
    })
    .unwrap()
}

/// An outbox, a draft and a cached conversation, as the messaging code keeps them, plus the
/// language and another site's key, which must survive.
fn seed_health_data() {
    let local = local();
    local
        .set_item(
            "colloque.outbox.1",
            r#"[{"conversation_id":10,"body":"J'ai encore de la fièvre"}]"#,
        )
        .unwrap();
    local
        .set_item("colloque.draft.1.10", "Mon traitement me donne des nausées")
        .unwrap();
    local
        .set_item("colloque.cache.1", r#"{"10":"Résultats d'analyse"}"#)
        .unwrap();
    local.set_item("colloque.lang", "\"Fr\"").unwrap();
    local.set_item("another-app.setting", "1").unwrap();
    session_storage()
        .set_item("colloque.scratch", "pending upload")
        .unwrap();
}

fn assert_wiped() {
    assert_eq!(
        session_storage().length().unwrap(),
        0,
        "sessionStorage is empty: {:?}",
        entries(&session_storage())
    );
    let left: Vec<String> = entries(&local()).into_iter().map(|(k, _)| k).collect();
    let health: Vec<&String> = left
        .iter()
        .filter(|k| k.starts_with("colloque.") && *k != "colloque.lang")
        .collect();
    assert!(health.is_empty(), "health data left behind: {health:?}");
    assert!(
        left.contains(&"colloque.lang".to_owned()),
        "the language stays"
    );
    assert!(
        left.contains(&"another-app.setting".to_owned()),
        "other keys are not ours to delete"
    );
}

// ---------- token storage ----------

#[wasm_bindgen_test]
async fn the_token_is_kept_in_session_storage_and_never_in_local_storage() {
    reset_storage();
    install_fetch(&[
        ("POST /api/auth/login", 200, login_response(OLD_TOKEN)),
        ("GET /api/conversations", 200, json!([])),
    ]);
    let app = Setup::at("/login").mount();
    app.until("the login form", |a| a.testid("login-email").is_some())
        .await;
    app.submit_login("lucas@example.org", "colloque-demo");
    app.until("the patient's home", |a| a.path() == "/patient")
        .await;
    app.until("the logout button", |a| a.testid("logout").is_some())
        .await;

    let saved = session_storage().get_item("colloque.session").unwrap();
    assert!(
        saved.is_some_and(|s| s.contains(OLD_TOKEN)),
        "the token is in sessionStorage"
    );
    for (key, value) in entries(&local()) {
        assert!(
            !value.contains(OLD_TOKEN) && !key.contains(OLD_TOKEN),
            "the token leaked into localStorage under {key}"
        );
    }
    assert!(
        !window().location().href().unwrap().contains(OLD_TOKEN),
        "nor in the URL"
    );
}

#[wasm_bindgen_test]
async fn a_throttled_or_busy_login_is_explained_in_the_words_of_a_login() {
    for (status, code, expected) in [
        (429, "rate_limited", "Trop de tentatives de connexion"),
        (503, "server_busy", "très sollicité"),
    ] {
        reset_storage();
        install_fetch(&[(
            "POST /api/auth/login",
            status,
            json!({"code": code, "message": "m"}),
        )]);
        let app = Setup::at("/login").mount();
        app.until("the login form", |a| a.testid("login-email").is_some())
            .await;
        app.submit_login("lucas@example.org", "colloque-demo");
        app.until("the explanation", |a| a.testid("error-view").is_some())
            .await;
        let text = app.testid("error-view").unwrap().text_content().unwrap();
        assert!(text.contains(expected), "{status}: {text}");
        assert!(
            !text.contains("envois"),
            "not the message-sending wording: {text}"
        );
    }
}

// ---------- logout ----------

#[wasm_bindgen_test]
async fn logging_out_wipes_the_health_data_and_drops_the_socket() {
    reset_storage();
    seed_health_data();
    install_fetch(&[
        ("GET /api/conversations", 200, json!([])),
        ("POST /api/auth/logout", 204, Value::Null),
    ]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(OLD_TOKEN, 15.0 * 60_000.0))
        .mount();
    app.until("the logout button", |a| a.testid("logout").is_some())
        .await;
    assert_eq!(*app.server.tokens.borrow(), [OLD_TOKEN]);
    assert_eq!(app.server.closed.get(), 0);

    app.click("logout");
    app.until("the login page", |a| {
        a.path() == "/login" && a.testid("session-ended").is_some()
    })
    .await;
    app.until("the logout call", |_| {
        count(&requests(), &format!("POST /api/auth/logout @{OLD_TOKEN}")) == 1
    })
    .await;

    assert_wiped();
    assert_eq!(app.server.closed.get(), 1, "the socket is closed");
    assert_eq!(
        app.testid("session-ended")
            .and_then(|e| e.get_attribute("data-reason"))
            .as_deref(),
        Some("LoggedOut")
    );
    // Once more after everything has settled: nothing wrote the data back on its way out.
    yew::scheduler::flush().await;
    assert_wiped();
}

// ---------- automatic logoff ----------

#[wasm_bindgen_test]
async fn the_idle_warning_appears_and_staying_keeps_the_session() {
    reset_storage();
    install_fetch(&[("GET /api/conversations", 200, json!([]))]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(OLD_TOKEN, 15.0 * 60_000.0))
        .idle(1_500, 1_200)
        .mount();
    app.until("the idle warning", |a| a.testid("idle-warning").is_some())
        .await;

    let dialog = app.testid("idle-warning").unwrap();
    assert_eq!(dialog.get_attribute("role").as_deref(), Some("alertdialog"));
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    let text = dialog.text_content().unwrap();
    assert!(text.contains("déconnecté dans"), "a countdown: {text}");
    assert!(
        app.testid("idle-unsent").is_none(),
        "no word about unsent messages when there are none"
    );
    assert_eq!(
        document()
            .active_element()
            .and_then(|e| e.get_attribute("data-testid"))
            .as_deref(),
        Some("idle-stay"),
        "focus is on « Rester connecté »"
    );

    app.click("idle-stay");
    yew::scheduler::flush().await;
    assert!(app.testid("idle-warning").is_none(), "the warning is gone");
    assert!(app.testid("logout").is_some(), "still logged in");
    assert_eq!(app.path(), "/patient/messages");

    // The count started over: the warning comes back, and staying again still works.
    // This time by keyboard: Tab goes to the other button and back, never out of the dialog;
    // Escape is the safe choice.
    app.until("the warning again", |a| a.testid("idle-warning").is_some())
        .await;
    let focused = || {
        document()
            .active_element()
            .and_then(|e| e.get_attribute("data-testid"))
    };
    assert_eq!(focused().as_deref(), Some("idle-stay"));
    press("Tab");
    assert_eq!(focused().as_deref(), Some("idle-logout"));
    press("Tab");
    assert_eq!(focused().as_deref(), Some("idle-stay"));
    press("Escape");
    yew::scheduler::flush().await;
    assert!(app.testid("idle-warning").is_none());
    assert!(app.testid("logout").is_some());
}

/// A key pressed on the focused element, as the browser dispatches it.
fn press(key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    document()
        .active_element()
        .expect("a focused element")
        .dispatch_event(&event)
        .unwrap();
}

#[wasm_bindgen_test]
async fn the_idle_warning_says_that_unsent_messages_would_be_wiped() {
    reset_storage();
    // Two messages written earlier and never acknowledged, left by a tab that is gone (lease
    // 0), sealed: this tab's session has no outbox key yet (a reload), so they wait, and
    // they are counted when the warning shows.
    let entry = |data: &str| OutboxEntry {
        client_id: ClientMsgId(uuid::Uuid::new_v4()),
        created_at: in_ms(0.0),
        failed: None,
        tab: "a-closed-tab".into(),
        lease: 0,
        sealed: Sealed {
            iv: "AAAAAAAAAAAAAAAA".into(),
            data: data.into(),
        },
    };
    local()
        .set_item(
            &outbox::storage_key(lucas().id),
            &serde_json::to_string(&[entry("c2VjcmV0MQ"), entry("c2VjcmV0Mg")]).unwrap(),
        )
        .unwrap();
    install_fetch(&[("GET /api/conversations", 200, json!([]))]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(OLD_TOKEN, 15.0 * 60_000.0))
        .idle(1_500, 1_200)
        .mount();
    app.until("the idle warning", |a| a.testid("idle-warning").is_some())
        .await;

    let unsent = app
        .testid("idle-unsent")
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    assert!(
        unsent.contains("2 messages ne sont pas encore partis"),
        "{unsent}"
    );
    app.click("idle-stay");
    yew::scheduler::flush().await;
}

#[wasm_bindgen_test]
async fn an_idle_session_is_logged_off_and_wiped() {
    reset_storage();
    seed_health_data();
    install_fetch(&[("GET /api/conversations", 200, json!([]))]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(OLD_TOKEN, 15.0 * 60_000.0))
        .idle(600, 400)
        .mount();
    app.until("the warning", |a| a.testid("idle-warning").is_some())
        .await;
    app.until("the automatic logoff", |a| a.path() == "/login")
        .await;
    app.until("the notice", |a| a.testid("session-ended").is_some())
        .await;

    let notice = app.testid("session-ended").unwrap();
    assert_eq!(notice.get_attribute("data-reason").as_deref(), Some("Idle"));
    assert!(
        notice.text_content().unwrap().contains("inactivité"),
        "said in plain words"
    );
    assert!(app.testid("idle-warning").is_none());
    assert_wiped();
    assert_eq!(app.server.closed.get(), 1, "the socket is closed");
    app.until("the logout call", |_| {
        count(&requests(), &format!("POST /api/auth/logout @{OLD_TOKEN}")) == 1
    })
    .await;
}

// ---------- renewal ----------

#[wasm_bindgen_test]
async fn a_refused_token_is_renewed_once_and_the_request_retried() {
    reset_storage();
    install_fetch(&[
        (
            &format!("GET /api/conversations @{OLD_TOKEN}"),
            401,
            json!({"code": "unauthorized", "message": "expired"}),
        ),
        (REFRESH, 200, login_response(NEW_TOKEN)),
        (
            &format!("GET /api/conversations @{NEW_TOKEN}"),
            200,
            json!([summary_with_markup()]),
        ),
    ]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(OLD_TOKEN, 15.0 * 60_000.0))
        .mount();
    app.until("the list, fetched with the new token", |a| {
        a.testid("conversation-item").is_some()
    })
    .await;

    let log = requests();
    assert_eq!(
        count(&log, "POST /api/auth/refresh"),
        1,
        "one renewal: {log:?}"
    );
    assert!(
        log.contains(&format!("{REFRESH} @")),
        "the renewal goes to this session's route, with its cookie and no token: {log:?}"
    );
    assert!(
        credentials().iter().all(|mode| mode == "include"),
        "every request sends and accepts cookies, the app being maybe on another origin: {:?}",
        credentials()
    );
    assert_eq!(
        count(&log, &format!("GET /api/conversations @{OLD_TOKEN}")),
        1,
        "the old token is not tried again: {log:?}"
    );
    assert!(
        count(&log, &format!("GET /api/conversations @{NEW_TOKEN}")) >= 1,
        "retried with the new token: {log:?}"
    );
    assert_eq!(app.path(), "/patient/messages", "still logged in");
    let saved = session_storage()
        .get_item("colloque.session")
        .unwrap()
        .unwrap();
    assert!(saved.contains(NEW_TOKEN) && !saved.contains(OLD_TOKEN));
    // The new token reaches the socket (a re-authentication or a new connection).
    app.until("the socket to use the new token", |a| {
        a.server.tokens.borrow().last().map(String::as_str) == Some(NEW_TOKEN)
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_token_the_server_will_not_renew_ends_the_session_in_plain_words() {
    reset_storage();
    seed_health_data();
    let refused = json!({"code": "unauthorized", "message": "revoked"});
    install_fetch(&[
        (
            &format!("GET /api/conversations @{OLD_TOKEN}"),
            401,
            refused.clone(),
        ),
        (REFRESH, 401, refused),
    ]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(OLD_TOKEN, 15.0 * 60_000.0))
        .mount();
    app.until("the login page", |a| {
        a.path() == "/login" && a.testid("session-ended").is_some()
    })
    .await;

    let notice = app.testid("session-ended").unwrap();
    assert_eq!(
        notice.get_attribute("data-reason").as_deref(),
        Some("Expired")
    );
    assert!(
        notice
            .text_content()
            .unwrap()
            .contains("Votre session a expiré"),
        "said in plain words"
    );
    let log = requests();
    assert_eq!(count(&log, "POST /api/auth/refresh"), 1, "one try: {log:?}");
    assert_wiped();
}

#[wasm_bindgen_test]
async fn a_renewal_a_proxy_answers_502_keeps_the_session_and_is_tried_again() {
    reset_storage();
    // In a cluster, the instance that had the renewal dies mid-request: nginx answers 502
    // (not retried: a POST). The session is not over; only that attempt failed.
    install_fetch(&[
        ("GET /api/conversations", 200, json!([])),
        (
            REFRESH,
            502,
            json!("<html><body>502 Bad Gateway</body></html>"),
        ),
    ]);
    let app = Setup::at("/patient/messages")
        .logged_in(session(OLD_TOKEN, 1_200.0))
        .mount();
    app.until("the renewal", |_| {
        count(&requests(), "POST /api/auth/refresh") == 1
    })
    .await;
    for _ in 0..20 {
        yew::scheduler::flush().await;
    }
    assert!(app.testid("session-ended").is_none(), "no end notice");
    assert_eq!(app.path(), "/patient/messages", "still logged in");
    assert_eq!(
        count(&requests(), "POST /api/auth/logout"),
        0,
        "no logout: {:?}",
        requests()
    );

    // The instance is back. The token has run out meanwhile: the next request is refused,
    // and that renews at once (activity would too, after its 10 s pause).
    let expired = json!({"code": "unauthorized", "message": "expired"});
    install_fetch(&[
        (
            &format!("GET /api/conversations @{OLD_TOKEN}"),
            401,
            expired,
        ),
        (
            &format!("GET /api/conversations @{NEW_TOKEN}"),
            200,
            json!([]),
        ),
        (REFRESH, 200, login_response(NEW_TOKEN)),
    ]);
    app.server.push(ServerFrame::Ready {
        user: profile(PATIENT, Role::Patient, "Lucas Bernard"),
    });
    app.until("the second renewal", |_| {
        session_storage()
            .get_item("colloque.session")
            .unwrap()
            .is_some_and(|s| s.contains(NEW_TOKEN))
    })
    .await;
    assert!(app.testid("session-ended").is_none());
}

#[wasm_bindgen_test]
async fn an_active_session_renews_its_token_before_it_runs_out() {
    reset_storage();
    install_fetch(&[
        ("GET /api/conversations", 200, json!([])),
        (REFRESH, 200, login_response(NEW_TOKEN)),
    ]);
    // A token with 1.2 s to live: renewed at two thirds of that, since the user just arrived.
    let app = Setup::at("/patient/messages")
        .logged_in(session(OLD_TOKEN, 1_200.0))
        .mount();
    app.until("the renewal", |_| {
        session_storage()
            .get_item("colloque.session")
            .unwrap()
            .is_some_and(|s| s.contains(NEW_TOKEN))
    })
    .await;
    assert_eq!(count(&requests(), "POST /api/auth/refresh"), 1);
    assert!(app.testid("logout").is_some(), "still logged in");
    app.until("the socket to use the new token", |a| {
        a.server.tokens.borrow().last().map(String::as_str) == Some(NEW_TOKEN)
    })
    .await;
}

// ---------- inert markup ----------

#[wasm_bindgen_test]
async fn a_message_with_markup_and_script_is_shown_as_inert_text() {
    reset_storage();
    install_fetch(&[
        (
            "GET /api/conversations",
            200,
            json!([summary_with_markup()]),
        ),
        (
            "GET /api/conversations/10/messages",
            200,
            page_with_markup(),
        ),
    ]);
    let app = Setup::at("/patient/messages/10")
        .logged_in(session(OLD_TOKEN, 15.0 * 60_000.0))
        .mount();
    app.until("the message", |a| a.testid("message-body").is_some())
        .await;

    let body = app.testid("message-body").unwrap().text_content().unwrap();
    assert_eq!(body.trim(), MARKUP, "shown as typed");
    let item = app
        .testid("conversation-item")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(item.contains("<img src=x"), "the preview too: {item}");
    assert!(
        app.one("img, script, b").is_none(),
        "no element was created from the text"
    );
    assert!(
        js_sys::Reflect::get(&window(), &"__pwned".into())
            .unwrap()
            .is_undefined(),
        "nothing ran"
    );
}

// ---------- styles under a strict CSP (the policy then stays for the page: harmless here) ----------

#[wasm_bindgen_test]
async fn styles_apply_under_a_strict_csp_without_any_style_element() {
    reset_storage();
    install_fetch(&[]);
    // The server's policy for styles. A `<style>` element is now ignored, as in production.
    let meta = document().create_element("meta").unwrap();
    meta.set_attribute("http-equiv", "Content-Security-Policy")
        .unwrap();
    meta.set_attribute("content", "style-src 'self'").unwrap();
    document().head().unwrap().append_child(&meta).unwrap();

    // The app's look, components included, is plain style sheets, static/app.css and (for the
    // second build's screens, such as this inbox) static/doctor.css, which the real pages link
    // (`style-src 'self'` allows them). This test page links none: the same rules go in
    // through a constructable sheet, which the policy allows too, so that what is checked is
    // that the components' markup gets them and that the app adds no `<style>`.
    let sheet = web_sys::CssStyleSheet::new().unwrap();
    sheet
        .replace_sync(concat!(
            include_str!("../static/app.css"),
            include_str!("../static/doctor.css")
        ))
        .unwrap();
    let adopted = document().adopted_style_sheets();
    adopted.push(&sheet);
    document().set_adopted_style_sheets(&adopted);
    install_fetch(&[("GET /api/conversations", 200, json!([]))]);
    let doctor = Session {
        token: "t".into(),
        expires_at: in_ms(3_600_000.0),
        user: profile(DOCTOR, Role::Doctor, "Dr Claire Martin"),
        handle: SessionHandle("d0c".into()),
        outbox_key: None,
        shared: false,
        mfa_enrolment_required: false,
    };
    let app = Setup::at("/medecin/messages").logged_in(doctor).mount();
    app.until("the inbox", |a| a.one(".inbox-list").is_some())
        .await;
    let style_of =
        js_sys::Function::new_with_args("el, prop", "return getComputedStyle(el)[prop];");
    let computed = |el: &Element, prop: &str| {
        style_of
            .call2(&JsValue::NULL, el, &prop.into())
            .unwrap()
            .as_string()
            .unwrap_or_default()
    };
    let list = app.one(".inbox-list").unwrap();
    // `.medecin-messaging .inbox-list { border-radius: .75rem; display: flex }`.
    app.until("the component style", |_| {
        computed(&list, "borderTopLeftRadius") == "12px"
    })
    .await;
    assert_eq!(computed(&list, "display"), "flex", "a component style");

    assert_eq!(
        document().query_selector_all("style").unwrap().length(),
        0,
        "no <style> element in the document"
    );
    let attributes = document().query_selector_all("[style]").unwrap();
    let styled: Vec<String> = (0..attributes.length())
        .filter_map(|i| attributes.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .map(|e| e.outer_html().chars().take(120).collect())
        .collect();
    assert!(
        app.one("[style]").is_none(),
        "no style attribute either: {styled:?}"
    );
    // The control: an inline style element really is blocked here.
    let probe = document().create_element("div").unwrap();
    probe.set_class_name("csp-probe");
    document().body().unwrap().append_child(&probe).unwrap();
    let inline = document().create_element("style").unwrap();
    inline.set_text_content(Some(".csp-probe { color: rgb(1, 2, 3); }"));
    document().head().unwrap().append_child(&inline).unwrap();
    assert_ne!(
        computed(&probe, "color"),
        "rgb(1, 2, 3)",
        "the CSP blocks inline styles"
    );
    inline.remove();
    probe.remove();
    // The later tests of this page run without the app's look, as before.
    document().set_adopted_style_sheets(&js_sys::Array::new());
}
