//! Browser tests of the messaging UI: the real provider, reducer, hooks and components,
//! rendered into the page. Only the transports are replaced: the WebSocket by an in-memory
//! connector (the provider's injection point), and `fetch` by a table of canned answers.
//! Waits are bounded polls for a DOM condition, never fixed sleeps.
#![cfg(target_arch = "wasm32")]

use colloque::app::Providers;
use colloque::components::messaging::{MedecinMessaging, MessagingButton};
use colloque::config::Config;
use colloque::i18n::Lang;
use colloque::services::websocket::{
    Connection, ConnectionState, Connector, ConnectorRef, SocketEvent,
};
use colloque::session::Session;
use colloque_protocol::{
    ApiError, ClientFrame, ClientMsgId, ConversationId, ConversationStatus, ConversationSummary,
    ErrorCode, Message, MessageId, MessagePage, Role, Seq, ServerFrame, Timestamp, UserId,
    UserProfile,
};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;
use yew_router::history::{AnyHistory, MemoryHistory};
use yew_router::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

const PATIENT: UserId = UserId(1);
const DOCTOR: UserId = UserId(2);
const CONV: ConversationId = ConversationId(10);
/// 2030-01-01: far enough for the test session not to expire.
const FAR_FUTURE: i64 = 1_893_456_000_000;

// ---------- the injected transport ----------

#[derive(Default)]
struct FakeServer {
    events: RefCell<Option<Callback<SocketEvent>>>,
    received: RefCell<Vec<ClientFrame>>,
}

impl FakeServer {
    fn push(&self, frame: ServerFrame) {
        self.emit(SocketEvent::Frame(Box::new(frame)));
    }

    fn emit(&self, event: SocketEvent) {
        let events = self
            .events
            .borrow()
            .clone()
            .expect("the provider connected");
        events.emit(event);
    }

    fn sends(&self) -> Vec<(ClientMsgId, String)> {
        self.received
            .borrow()
            .iter()
            .filter_map(|f| match f {
                ClientFrame::Send {
                    client_id, body, ..
                } => Some((*client_id, body.clone())),
                _ => None,
            })
            .collect()
    }
}

struct FakeConnector(Rc<FakeServer>);
struct FakeConnection(Rc<FakeServer>);

impl Connector for FakeConnector {
    fn connect(&self, _token: String, events: Callback<SocketEvent>) -> Box<dyn Connection> {
        *self.0.events.borrow_mut() = Some(events);
        Box::new(FakeConnection(Rc::clone(&self.0)))
    }
}

impl Connection for FakeConnection {
    fn send(&self, frame: ClientFrame) {
        self.0.received.borrow_mut().push(frame);
    }
}

// ---------- canned REST answers ----------

/// Replaces `fetch` with a lookup in `window.__routes` ("GET /api/x?y=1" → [status, body]).
fn install_fetch(routes: &[(&str, Value)]) {
    let table: serde_json::Map<String, Value> = routes
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!([200, v])))
        .collect();
    let install = js_sys::Function::new_with_args(
        "routes",
        r#"
        window.__routes = JSON.parse(routes);
        window.fetch = function (req) {
            const url = new URL(req.url, location.href);
            const key = req.method + " " + url.pathname + url.search;
            const hit = window.__routes[key];
            const [status, body] = hit || [404, {code: "not_found", message: key}];
            return Promise.resolve(new Response(JSON.stringify(body),
                {status, headers: {"content-type": "application/json"}}));
        };
        "#,
    );
    install
        .call1(
            &wasm_bindgen::JsValue::NULL,
            &Value::Object(table).to_string().into(),
        )
        .expect("install the fake fetch");
}

// ---------- test data ----------

fn profile(id: UserId, role: Role, name: &str) -> UserProfile {
    UserProfile {
        id,
        role,
        display_name: name.into(),
        speciality: None,
    }
}

fn summary(last_seq: i64, unread: u32, subject: &str) -> ConversationSummary {
    ConversationSummary {
        id: CONV,
        subject: subject.into(),
        status: ConversationStatus::Open,
        patient: profile(PATIENT, Role::Patient, "Lucas Bernard"),
        doctor: profile(DOCTOR, Role::Doctor, "Dr Claire Martin"),
        created_at: Timestamp(0),
        last_activity_at: Timestamp(last_seq * 60_000),
        last_message: None,
        last_seq: Seq(last_seq),
        my_read_seq: Seq(last_seq - i64::from(unread)),
        other_read_seq: Seq(0),
        unread_count: unread,
    }
}

fn message(seq: i64, sender: UserId) -> Message {
    Message {
        id: MessageId(100 + seq),
        conversation_id: CONV,
        seq: Seq(seq),
        sender_id: sender,
        client_id: ClientMsgId(uuid::Uuid::from_u128(seq as u128)),
        body: format!("Message numéro {seq}"),
        sent_at: Timestamp(seq * 60_000),
    }
}

fn page(seqs: std::ops::RangeInclusive<i64>, has_more: bool) -> Value {
    let page = MessagePage {
        messages: seqs
            .map(|s| message(s, if s % 2 == 0 { DOCTOR } else { PATIENT }))
            .collect(),
        has_more,
    };
    serde_json::to_value(page).unwrap()
}

// ---------- rendering ----------

#[derive(Properties, PartialEq)]
struct HarnessProps {
    connector: ConnectorRef,
    selected: Option<ConversationId>,
}

#[component]
fn Harness(props: &HarnessProps) -> Html {
    let session = Session {
        token: "test-token".into(),
        expires_at: Timestamp(FAR_FUTURE),
        user: profile(PATIENT, Role::Patient, "Lucas Bernard"),
    };
    let config = Rc::new(Config::resolve("", "", "http:", "localhost"));
    let history = AnyHistory::from(MemoryHistory::new());
    html! {
        <Router {history}>
            <Providers {config} session={Some(session)} lang={Some(Lang::Fr)}
                connector={Some(props.connector.clone())}>
                <header>
                    <MessagingButton label="Messagerie" />
                </header>
                <div id="with-doctor">
                    <MessagingButton with_user={Some(DOCTOR)} label="Écrire au Dr Claire Martin" />
                </div>
                <MedecinMessaging selected={props.selected} />
            </Providers>
        </Router>
    }
}

struct Mounted {
    root: Element,
    server: Rc<FakeServer>,
    app: Option<yew::AppHandle<Harness>>,
}

impl Mounted {
    fn all(&self, testid: &str) -> Vec<Element> {
        let list = self
            .root
            .query_selector_all(&format!("[data-testid='{testid}']"))
            .unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i).and_then(|n| n.dyn_into::<Element>().ok()))
            .collect()
    }

    fn one(&self, css: &str) -> Option<Element> {
        self.root.query_selector(css).unwrap()
    }

    fn click(&self, css: &str) {
        self.one(css)
            .unwrap_or_else(|| panic!("no {css}"))
            .unchecked_into::<HtmlElement>()
            .click();
    }

    fn text(&self, css: &str) -> Option<String> {
        self.one(css).and_then(|e| e.text_content())
    }

    fn messages(&self) -> Vec<(String, String, String)> {
        self.all("message")
            .into_iter()
            .map(|m| {
                let body = m
                    .query_selector("[data-testid='message-body']")
                    .unwrap()
                    .and_then(|b| b.text_content())
                    .unwrap_or_default();
                (
                    m.get_attribute("data-message-id").unwrap_or_default(),
                    m.get_attribute("data-status").unwrap_or_default(),
                    body,
                )
            })
            .collect()
    }

    async fn type_message(&self, text: &str) {
        let input = self
            .one("[data-testid='composer-input']")
            .expect("a composer");
        let typer = js_sys::Function::new_with_args(
            "el, text",
            "el.value = text; el.dispatchEvent(new Event('input', {bubbles: true}));",
        );
        typer
            .call2(&wasm_bindgen::JsValue::NULL, &input, &text.into())
            .unwrap();
        // The send button enables itself once the text is rendered.
        yew::scheduler::flush().await;
    }

    /// The socket says it is up and the server greets it, as the real service reports it.
    fn go_online(&self) {
        self.server
            .emit(SocketEvent::State(ConnectionState::Online));
        self.server.push(ServerFrame::Ready {
            user: profile(PATIENT, Role::Patient, "Lucas Bernard"),
        });
    }

    async fn until(&self, what: &str, check: impl Fn(&Mounted) -> bool) {
        for _ in 0..200 {
            yew::scheduler::flush().await;
            if check(self) {
                return;
            }
            // Lets the fake fetch's promises resolve; the loop is bounded, not timed.
            gloo_timers::future::TimeoutFuture::new(0).await;
        }
        panic!("timed out waiting for {what}");
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        self.root.remove();
    }
}

fn mount(selected: Option<ConversationId>) -> Mounted {
    let document = gloo_utils_document();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let server = Rc::new(FakeServer::default());
    let props = HarnessProps {
        connector: ConnectorRef(Rc::new(FakeConnector(Rc::clone(&server)))),
        selected,
    };
    let app = yew::Renderer::<Harness>::with_root_and_props(root.clone(), props).render();
    Mounted {
        root,
        server,
        app: Some(app),
    }
}

fn gloo_utils_document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

// ---------- tests ----------

#[wasm_bindgen_test]
async fn an_incoming_message_updates_the_inbox_and_the_badge() {
    install_fetch(&[(
        "GET /api/conversations",
        json!([summary(2, 0, "Ordonnance")]),
    )]);
    let app = mount(None);
    app.until("the conversation list", |a| {
        a.all("conversation-item").len() == 1
    })
    .await;
    assert!(
        app.one("[data-testid='unread-badge']").is_none(),
        "no badge at 0"
    );

    // After Ready the provider reloads the list: wait for that answer before the push, so the
    // test does not race its own fixture.
    install_fetch(&[(
        "GET /api/conversations",
        json!([summary(2, 0, "Ordonnance renouvelée")]),
    )]);
    app.go_online();
    app.until("the reloaded list", |a| {
        a.text("[data-testid='conversation-item']")
            .is_some_and(|t| t.contains("renouvelée"))
    })
    .await;
    app.server.push(ServerFrame::Message {
        message: message(3, DOCTOR),
    });
    yew::scheduler::flush().await;

    assert_eq!(
        app.text("header [data-testid='unread-badge']").as_deref(),
        Some("1")
    );
    assert_eq!(
        app.text("#with-doctor [data-testid='unread-badge']")
            .as_deref(),
        Some("1")
    );
    let item = app.one("[data-testid='conversation-item']").unwrap();
    assert_eq!(
        item.get_attribute("data-conversation-id").as_deref(),
        Some("10")
    );
    assert_eq!(
        app.text("[data-testid='conversation-unread']").as_deref(),
        Some("1")
    );
    assert!(item.text_content().unwrap().contains("Message numéro 3"));

    // The same push again (a second socket, a replay) changes nothing.
    app.server.push(ServerFrame::Message {
        message: message(3, DOCTOR),
    });
    yew::scheduler::flush().await;
    assert_eq!(
        app.text("header [data-testid='unread-badge']").as_deref(),
        Some("1")
    );
}

#[wasm_bindgen_test]
async fn the_button_shows_its_count_and_no_badge_at_zero() {
    install_fetch(&[("GET /api/conversations", json!([summary(4, 0, "Suivi")]))]);
    let app = mount(None);
    app.until("the conversation list", |a| {
        a.all("conversation-item").len() == 1
    })
    .await;
    assert_eq!(app.all("messaging-button").len(), 2);
    assert!(app.all("unread-badge").is_empty());

    app.server.push(ServerFrame::Conversation {
        conversation: summary(7, 3, "Suivi"),
    });
    yew::scheduler::flush().await;
    assert_eq!(
        app.text("header [data-testid='unread-badge']").as_deref(),
        Some("3")
    );
    let label = app
        .one("header [data-testid='messaging-button']")
        .and_then(|b| b.get_attribute("aria-label"))
        .unwrap();
    assert!(
        label.contains("3 non lu"),
        "the count is spoken too: {label}"
    );
}

#[wasm_bindgen_test]
async fn a_sent_message_shows_sending_then_sent_on_ack() {
    install_fetch(&[
        ("GET /api/conversations", json!([summary(2, 0, "Suivi")])),
        ("GET /api/conversations/10/messages", page(1..=2, false)),
        (
            "GET /api/conversations/10/messages?after=2",
            json!({"messages": [], "has_more": false}),
        ),
    ]);
    let app = mount(Some(CONV));
    app.until("the latest page", |a| a.all("message").len() == 2)
        .await;
    app.go_online();
    yew::scheduler::flush().await;

    app.type_message("  Bonjour docteur,\nune question.  ")
        .await;
    app.click("[data-testid='composer-send']");
    yew::scheduler::flush().await;

    let sends = app.server.sends();
    assert_eq!(sends.len(), 1, "one Send frame over the socket");
    let (client_id, body) = sends[0].clone();
    assert_eq!(body, "Bonjour docteur,\nune question.");
    let shown = app.messages();
    assert_eq!(shown.len(), 3);
    assert_eq!(
        shown[2],
        (client_id.to_string(), "sending".into(), body.clone())
    );
    assert_eq!(
        app.one("[data-testid='composer-input']")
            .unwrap()
            .unchecked_into::<web_sys::HtmlTextAreaElement>()
            .value(),
        "",
        "the composer is cleared"
    );

    let mut stored = message(3, PATIENT);
    stored.client_id = client_id;
    stored.body = body.clone();
    app.server.push(ServerFrame::Ack {
        client_id,
        message: stored,
    });
    yew::scheduler::flush().await;

    let shown = app.messages();
    assert_eq!(shown.len(), 3, "the ack replaces the pending message");
    assert_eq!(shown[2], ("103".into(), "sent".into(), body));
}

#[wasm_bindgen_test]
async fn a_refused_message_shows_failed_with_a_reason_and_can_be_retried() {
    install_fetch(&[
        ("GET /api/conversations", json!([summary(2, 0, "Suivi")])),
        ("GET /api/conversations/10/messages", page(1..=2, false)),
        (
            "GET /api/conversations/10/messages?after=2",
            json!({"messages": [], "has_more": false}),
        ),
    ]);
    let app = mount(Some(CONV));
    app.until("the latest page", |a| a.all("message").len() == 2)
        .await;
    app.go_online();
    yew::scheduler::flush().await;

    app.type_message("Un message beaucoup trop long").await;
    app.click("[data-testid='composer-send']");
    yew::scheduler::flush().await;
    let (client_id, _) = app.server.sends()[0].clone();

    // A transient refusal keeps it "sending" (it will be retried by itself).
    app.server.push(ServerFrame::Error {
        error: ApiError::new(ErrorCode::RateLimited, "slow down"),
        client_id: Some(client_id),
    });
    yew::scheduler::flush().await;
    assert_eq!(app.messages()[2].1, "sending");

    app.server.push(ServerFrame::Error {
        error: ApiError::new(ErrorCode::BodyTooLong, "too long"),
        client_id: Some(client_id),
    });
    yew::scheduler::flush().await;
    let failed = app
        .one("[data-testid='message'][data-status='failed']")
        .expect("failed");
    assert!(
        failed
            .text_content()
            .unwrap()
            .contains("Ce message est trop long"),
        "the reason is given in plain words"
    );
    assert!(app.one("[data-testid='message-retry']").is_some());
    assert!(app.one("[data-testid='message-discard']").is_some());

    app.click("[data-testid='message-retry']");
    yew::scheduler::flush().await;
    assert_eq!(app.messages()[2].1, "sending");
    let sends = app.server.sends();
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[1].0, client_id, "a retry keeps the client id");

    app.server.push(ServerFrame::Error {
        error: ApiError::new(ErrorCode::ConversationClosed, "closed"),
        client_id: Some(client_id),
    });
    yew::scheduler::flush().await;
    app.click("[data-testid='message-discard']");
    yew::scheduler::flush().await;
    assert_eq!(app.messages().len(), 2, "a discarded message is gone");
}

#[wasm_bindgen_test]
async fn older_history_is_prepended_in_order_without_duplicates() {
    install_fetch(&[
        ("GET /api/conversations", json!([summary(6, 0, "Suivi")])),
        ("GET /api/conversations/10/messages", page(4..=6, true)),
        // Overlaps the page already shown by one message.
        (
            "GET /api/conversations/10/messages?before=4",
            page(2..=4, true),
        ),
        (
            "GET /api/conversations/10/messages?before=2",
            page(1..=1, false),
        ),
    ]);
    let app = mount(Some(CONV));
    app.until("the latest page", |a| a.all("message").len() == 3)
        .await;

    app.click("[data-testid='load-older']");
    app.until("the first older page", |a| a.all("message").len() == 5)
        .await;
    app.click("[data-testid='load-older']");
    app.until("the second older page", |a| a.all("message").len() == 6)
        .await;

    let ids: Vec<String> = app.messages().into_iter().map(|m| m.0).collect();
    assert_eq!(ids, ["101", "102", "103", "104", "105", "106"]);
    assert!(
        app.one("[data-testid='load-older']").is_none(),
        "nothing older than the first message"
    );
}
