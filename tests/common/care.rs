//! The care workflow's browser-test fixtures (`tests/care.rs`, `tests/red_flags.rs`,
//! `tests/hours.rs`): the two demo users, a session, a conversation summary, and the few DOM
//! reads and writes those tests share.

use super::app::Mounted;
use super::{DOCTOR, PATIENT, profile};
use colloque::session::Session;
use colloque_protocol::{
    ConversationId, ConversationStatus, ConversationSummary, Role, Seq, SessionHandle, Timestamp,
    Topic, TriageState, UserProfile,
};
use serde_json::Value;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

pub fn now() -> i64 {
    js_sys::Date::now() as i64
}

pub fn session(user: UserProfile) -> Session {
    Session {
        token: "t".into(),
        expires_at: Timestamp(now() + 600_000),
        user,
        handle: SessionHandle("5e55".into()),
        outbox_key: None,
        shared: false,
        mfa_enrolment_required: false,
    }
}

pub fn lucas() -> UserProfile {
    profile(PATIENT, Role::Patient, "Lucas Bernard")
}

pub fn martin() -> UserProfile {
    profile(DOCTOR, Role::Doctor, "Dr Claire Martin")
}

pub fn summary(id: i64, triage: TriageState, waiting_minutes: Option<i64>) -> ConversationSummary {
    let closed = triage == TriageState::Done;
    ConversationSummary {
        id: ConversationId(id),
        subject: format!("Demande {id}"),
        status: if closed {
            ConversationStatus::Closed
        } else {
            ConversationStatus::Open
        },
        patient: lucas(),
        doctor: martin(),
        created_at: Timestamp(0),
        last_activity_at: Timestamp(now() - id * 1000),
        last_message: None,
        last_seq: Seq(0),
        my_read_seq: Seq(0),
        other_read_seq: Seq(0),
        other_read_at: None,
        other_read_from: Seq(0),
        other_delivered_seq: Seq(0),
        unread_count: 0,
        topic: Topic::PrescriptionRenewal,
        triage,
        triage_at: Timestamp(now() - 60_000),
        waiting_since: waiting_minutes.map(|m| Timestamp(now() - m * 60_000)),
        blocked: false,
        urgent_since: None,
        reply_due: None,
        absence: None,
    }
}

pub fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

pub fn item_ids(app: &Mounted) -> Vec<String> {
    let list = app
        .root
        .query_selector_all("[data-testid='conversation-item']")
        .unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::Element>().ok())
        .filter_map(|e| e.get_attribute("data-conversation-id"))
        .collect()
}

pub fn click_css(app: &Mounted, css: &str) {
    app.one(css)
        .unwrap_or_else(|| panic!("no {css}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

pub fn text(app: &Mounted, id: &str) -> String {
    app.testid(id)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// Types `text` in the composer and presses "Envoyer".
pub async fn write_and_send(app: &Mounted, text: &str) {
    let input = app.testid("composer-input").expect("a composer");
    let typer = js_sys::Function::new_with_args(
        "el, text",
        "el.value = text; el.dispatchEvent(new Event('input', {bubbles: true}));",
    );
    typer
        .call2(&wasm_bindgen::JsValue::NULL, &input, &text.into())
        .unwrap();
    app.until("the send button enabled", |a| {
        a.testid("composer-send")
            .is_some_and(|b| !b.has_attribute("disabled"))
    })
    .await;
    app.click("composer-send");
}

pub fn composer_text(app: &Mounted) -> String {
    app.testid("composer-input")
        .map(|e| e.unchecked_into::<web_sys::HtmlTextAreaElement>().value())
        .unwrap_or_default()
}
