//! Browser tests of reply templates (issue 12), the second build: `/` in an empty composer
//! opens the picker and a digit inserts that template with its variables filled; the send cites
//! the template; a variable without a value is reported and holds the send until replaced; the
//! sealed outbox keeps the citation across a reload; the templates page lets a doctor change
//! only their own.
//!
//! The whole app is rendered ([`common::app`]); `fetch` answers from a table, the WebSocket is
//! in memory (never online here, so sends go over REST, whose bodies the fake fetch records).
//! Waits are bounded polls, never fixed sleeps.
#![cfg(all(target_arch = "wasm32", feature = "second-build"))]

mod common;

use colloque::crypto::OutboxKey;
use colloque::hooks::outbox::{self, Content};
use colloque::i18n::Lang;
use colloque_protocol::{
    Appointment, AppointmentId, ClientMsgId, ConversationId, ReplyTemplate, Role, TemplateId,
    Timestamp, TriageState, UserId,
};
use common::app::*;
use common::care::*;
use common::{OUTBOX_KEY, PATIENT, bodies, calls, install_fetch, profile};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlInputElement, HtmlTextAreaElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

const SEND_11: &str = "POST /api/conversations/11/messages";

fn template(
    id: i64,
    title: &str,
    body: &str,
    owner: colloque_protocol::UserProfile,
) -> ReplyTemplate {
    ReplyTemplate {
        id: TemplateId(id),
        owner,
        title: title.into(),
        body: body.into(),
        shared: id % 2 == 0,
    }
}

fn templates() -> Vec<ReplyTemplate> {
    let durand = profile(UserId(3), Role::Doctor, "Dr Paul Durand");
    vec![
        template(
            7,
            "Analyses",
            "Bonjour {prénom}, vos analyses sont normales.",
            martin(),
        ),
        template(
            8,
            "Rendez-vous",
            "Bonjour {prénom} {nom}, à votre rendez-vous du {date_rdv}. {médecin}",
            durand,
        ),
    ]
}

/// Lucas's next appointment with Dr Martin, in two days.
fn next_visit() -> Appointment {
    Appointment {
        id: AppointmentId(1),
        patient: lucas(),
        doctor: martin(),
        starts_at: Timestamp(now() + 2 * 24 * 3_600_000),
        duration_minutes: 30,
        location: "Cabinet".into(),
        reason: "Renouvellement".into(),
    }
}

fn routes(appointments: Vec<Appointment>) {
    install_fetch(&[
        (
            "GET /api/conversations",
            200,
            json_of(&vec![summary(11, TriageState::InProgress, None)]),
        ),
        (
            "GET /api/conversations/11/messages",
            200,
            json!({"messages": [], "has_more": false}),
        ),
        ("GET /api/me/templates", 200, json_of(&templates())),
        ("GET /api/appointments", 200, json_of(&appointments)),
        (
            SEND_11,
            201,
            json!({"id": 500, "conversation_id": 11, "seq": 1, "sender_id": 2,
                   "client_id": uuid::Uuid::new_v4(), "body": "stored", "sent_at": now()}),
        ),
    ]);
}

/// A key pressed in an element (bubbling and cancelable, as the browser sends it).
fn press(app: &Mounted, id: &str, key: &str) -> bool {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    app.testid(id)
        .unwrap_or_else(|| panic!("no {id}"))
        .dispatch_event(&event)
        .unwrap()
}

fn type_in(app: &Mounted, id: &str, text: &str) {
    let element = app.testid(id).unwrap_or_else(|| panic!("no {id}"));
    if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(text);
    } else {
        element.unchecked_ref::<HtmlInputElement>().set_value(text);
    }
    let event = web_sys::InputEvent::new("input").unwrap();
    element.dispatch_event(&event).unwrap();
}

fn send_disabled(app: &Mounted) -> bool {
    app.testid("composer-send")
        .is_some_and(|b| b.has_attribute("disabled"))
}

async fn open_conversation() -> Mounted {
    let app = Setup::at("/medecin/messages/11")
        .logged_in(session(martin()))
        .mount();
    app.until("the composer", |a| a.testid("composer-input").is_some())
        .await;
    app
}

#[wasm_bindgen_test]
async fn a_slash_then_a_digit_inserts_that_template_filled_and_the_send_cites_it() {
    reset_storage();
    routes(vec![next_visit()]);
    let app = open_conversation().await;

    // `/` in the empty composer: the list, not a character.
    let typed = press(&app, "composer-input", "/");
    assert!(!typed, "the / is kept out of the text");
    app.until("the two templates", |a| {
        a.root
            .query_selector_all("[data-testid='template-option']")
            .unwrap()
            .length()
            == 2
    })
    .await;
    let listbox = app.one("[role='listbox']").expect("a listbox");
    assert_eq!(listbox.id(), "template-list");
    let filter = app.testid("template-filter").unwrap();
    assert_eq!(filter.get_attribute("role").as_deref(), Some("combobox"));
    assert_eq!(
        filter.get_attribute("aria-activedescendant").as_deref(),
        Some("template-option-0")
    );
    assert_eq!(
        document().active_element().map(|e| e.id()).as_deref(),
        Some("template-filter"),
        "the filter has the focus"
    );
    assert_eq!(composer_text(&app), "");

    // `2`: the second template, its four variables filled.
    press(&app, "template-filter", "2");
    app.until("the template inserted", |a| !composer_text(a).is_empty())
        .await;
    let date = colloque::time::date_time(next_visit().starts_at, Lang::Fr);
    assert_eq!(
        composer_text(&app),
        format!("Bonjour Lucas Bernard, à votre rendez-vous du {date}. Dr Claire Martin")
    );
    assert!(app.testid("template-picker").is_none(), "closed");
    assert!(app.testid("template-missing").is_none());
    assert!(!send_disabled(&app));

    // Sent (over REST: the fake socket is never online), citing the template.
    app.click("composer-send");
    app.until("the send", |_| calls(SEND_11) >= 1).await;
    app.until("its body", |_| {
        bodies().iter().any(|b| b.starts_with(SEND_11))
    })
    .await;
    let body = bodies()
        .into_iter()
        .find(|b| b.starts_with(SEND_11))
        .unwrap();
    let sent: serde_json::Value =
        serde_json::from_str(body.trim_start_matches(SEND_11).trim()).unwrap();
    assert_eq!(sent["template_id"], json!(8));
    assert_eq!(
        sent["body"],
        json!(format!(
            "Bonjour Lucas Bernard, à votre rendez-vous du {date}. Dr Claire Martin"
        ))
    );

    // A plain message after it cites nothing.
    write_and_send(&app, "Autre chose").await;
    app.until("the second body", |_| {
        bodies()
            .iter()
            .any(|b| b.starts_with(SEND_11) && b.contains("Autre chose"))
    })
    .await;
    let plain = bodies()
        .into_iter()
        .find(|b| b.starts_with(SEND_11) && b.contains("Autre chose"))
        .unwrap();
    assert!(!plain.contains("template_id"), "{plain}");
}

#[wasm_bindgen_test]
async fn the_picker_filters_moves_with_the_arrows_and_closes_with_escape() {
    reset_storage();
    routes(vec![next_visit()]);
    let app = open_conversation().await;
    // Alt+T opens it too (by the key's place).
    let init = KeyboardEventInit::new();
    init.set_key("t");
    init.set_code("KeyT");
    init.set_alt_key(true);
    init.set_bubbles(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    app.testid("composer-input")
        .unwrap()
        .dispatch_event(&event)
        .unwrap();
    app.until("the list", |a| a.testid("template-option").is_some())
        .await;
    type_in(&app, "template-filter", "analy");
    app.until("one match", |a| {
        a.root
            .query_selector_all("[data-testid='template-option']")
            .unwrap()
            .length()
            == 1
    })
    .await;
    press(&app, "template-filter", "ArrowDown");
    press(&app, "template-filter", "Escape");
    app.until("closed", |a| a.testid("template-picker").is_none())
        .await;
    assert_eq!(composer_text(&app), "", "nothing inserted");
    assert_eq!(
        document().active_element().map(|e| e.id()).as_deref(),
        Some("composer-input"),
        "back in the composer"
    );
    // The button opens it for the mouse; Enter inserts the first match.
    app.click("template-button");
    app.until("the list", |a| a.testid("template-option").is_some())
        .await;
    press(&app, "template-filter", "Enter");
    app.until("inserted", |a| !composer_text(a).is_empty())
        .await;
    assert_eq!(
        composer_text(&app),
        "Bonjour Lucas, vos analyses sont normales."
    );
}

/// Lucas's conversation open in Dr Martin's composer, with his template 2 inserted (`/`, `2`):
/// its `{date_rdv}` has no value.
async fn with_template_2() -> Mounted {
    reset_storage();
    routes(Vec::new());
    let app = open_conversation().await;
    press(&app, "composer-input", "/");
    app.until("the list", |a| a.testid("template-option").is_some())
        .await;
    press(&app, "template-filter", "2");
    app.until("the template inserted", |a| !composer_text(a).is_empty())
        .await;
    app
}

#[wasm_bindgen_test]
async fn a_variable_without_a_value_is_reported_and_holds_the_send_until_replaced() {
    let app = with_template_2().await;
    assert_eq!(
        composer_text(&app),
        "Bonjour Lucas Bernard, à votre rendez-vous du {date_rdv}. Dr Claire Martin",
        "never emptied"
    );
    let alert = app.testid("template-missing").expect("reported");
    assert_eq!(alert.get_attribute("role").as_deref(), Some("alert"));
    assert!(alert.text_content().unwrap().contains("{date_rdv}"));
    assert!(send_disabled(&app));
    // Enter does not send it either.
    press(&app, "composer-input", "Enter");
    yew::scheduler::flush().await;
    assert_eq!(calls(SEND_11), 0);

    type_in(
        &app,
        "composer-input",
        "Bonjour Lucas Bernard, à votre rendez-vous du 3 mars. Dr Claire Martin",
    );
    app.until("the send allowed", |a| !send_disabled(a)).await;
    assert!(app.testid("template-missing").is_none());
}

#[wasm_bindgen_test]
async fn a_half_written_template_reply_comes_back_with_its_template_still_checked() {
    let app = with_template_2().await;
    let written = composer_text(&app);
    // He looks at his settings (in the app, no reload), then comes back to Lucas.
    app.one("a[href='/medecin/reglages']")
        .expect("the settings link")
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    app.until("the composer gone", |a| {
        a.testid("composer-input").is_none()
    })
    .await;
    app.click("messaging-button");
    app.until("the list", |a| a.testid("conversation-item").is_some())
        .await;
    app.testid("conversation-item")
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    app.until("the composer back", |a| {
        a.testid("composer-input").is_some()
    })
    .await;
    assert_eq!(composer_text(&app), written, "his text is there again");
    // Still the template's: its variable without a value still holds the send.
    app.until("the variable reported", |a| {
        a.testid("template-missing").is_some()
    })
    .await;
    assert!(send_disabled(&app));
}

#[wasm_bindgen_test]
async fn the_sealed_outbox_keeps_the_template_and_an_older_entry_reads_without_one() {
    let key = OutboxKey::from_base64(OUTBOX_KEY).unwrap();
    let client_id = ClientMsgId(uuid::Uuid::new_v4());
    let content = Content {
        conversation_id: ConversationId(11),
        body: "Bonjour Lucas".into(),
        urgent: false,
        template_id: Some(TemplateId(8)),
        attachments: Vec::new(),
        awaiting: Vec::new(),
    };
    let sealed = outbox::seal(&key, PATIENT, client_id, Timestamp(5), &content)
        .await
        .unwrap();
    let entry = outbox::OutboxEntry {
        client_id,
        created_at: Timestamp(5),
        failed: None,
        tab: "t".into(),
        lease: 0,
        sealed,
    };
    assert_eq!(outbox::open(&key, PATIENT, &entry).await, Some(content));
    let older: Content = serde_json::from_str(r#"{"conversation_id":11,"body":"x"}"#).unwrap();
    assert_eq!(older.template_id, None);
}

#[wasm_bindgen_test]
async fn the_templates_page_changes_only_the_doctors_own_and_writes_a_shared_one() {
    reset_storage();
    let created = template(9, "Nouveau", "Texte", martin());
    install_fetch(&[
        ("GET /api/me/templates", 200, json_of(&templates())),
        ("POST /api/me/templates", 201, json_of(&created)),
    ]);
    let app = Setup::at("/medecin/modeles")
        .logged_in(session(martin()))
        .mount();
    app.until("the two rows", |a| {
        a.root
            .query_selector_all("[data-testid='template-row']")
            .unwrap()
            .length()
            == 2
    })
    .await;
    let rows = app
        .root
        .query_selector_all("[data-testid='template-row']")
        .unwrap();
    let row = |i| rows.item(i).unwrap().unchecked_into::<web_sys::Element>();
    // Dr Martin's own: editable. Dr Durand's shared one: named, not editable.
    assert_eq!(row(0).query_selector_all("button").unwrap().length(), 2);
    assert_eq!(row(1).query_selector_all("button").unwrap().length(), 0);
    let shared = row(1).text_content().unwrap();
    assert!(shared.contains("partagé par Dr Paul Durand"), "{shared}");

    type_in(&app, "template-title", "Nouveau");
    type_in(&app, "template-text", "Texte");
    app.testid("template-shared")
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    app.until("checked", |a| {
        a.testid("template-shared")
            .is_some_and(|c| c.unchecked_into::<HtmlInputElement>().checked())
    })
    .await;
    app.click("template-save");
    app.until("the POST", |_| {
        bodies()
            .iter()
            .any(|b| b.starts_with("POST /api/me/templates"))
    })
    .await;
    let body = bodies()
        .into_iter()
        .find(|b| b.starts_with("POST /api/me/templates"))
        .unwrap();
    let sent: serde_json::Value =
        serde_json::from_str(body.trim_start_matches("POST /api/me/templates").trim()).unwrap();
    assert_eq!(
        sent,
        json!({"title": "Nouveau", "body": "Texte", "shared": true})
    );
    app.until("saved", |a| a.testid("template-saved").is_some())
        .await;
}
