//! The whole app mounted in the test page (providers, router, real pages), with only its
//! transports replaced: the WebSocket by an in-memory connector, `fetch` by
//! [`super::install_fetch`]. Shared by the browser tests of the app's security
//! (`tests/security.rs`, `tests/account.rs`).

use colloque::app::{Pages, Providers};
use colloque::config::Config;
use colloque::i18n::Lang;
use colloque::router::{MemoryPath, Router};
use colloque::services::websocket::{Connection, Connector, ConnectorRef, SocketEvent};
use colloque::session::Session;
use colloque_protocol::ClientFrame;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, Storage};
use yew::prelude::*;

// ---------- the injected socket ----------

#[derive(Default)]
pub struct FakeServer {
    /// Tokens the app connected or re-authenticated with.
    pub tokens: RefCell<Vec<String>>,
    /// Connections the app dropped.
    pub closed: Cell<u32>,
    /// Where the latest connection reports to the app.
    pub events: RefCell<Option<Callback<SocketEvent>>>,
    /// Every frame the app sent, in order.
    pub sent: RefCell<Vec<ClientFrame>>,
}

impl FakeServer {
    /// The server sends `frame` on the latest connection.
    pub fn push(&self, frame: colloque_protocol::ServerFrame) {
        let events = self.events.borrow().clone().expect("the app connected");
        events.emit(SocketEvent::Frame(Box::new(frame)));
    }
}

pub struct FakeConnector(pub Rc<FakeServer>);
pub struct FakeConnection(Rc<FakeServer>);

impl Connector for FakeConnector {
    fn connect(&self, token: String, events: Callback<SocketEvent>) -> Box<dyn Connection> {
        self.0.tokens.borrow_mut().push(token);
        *self.0.events.borrow_mut() = Some(events);
        Box::new(FakeConnection(Rc::clone(&self.0)))
    }
}

impl Connection for FakeConnection {
    fn send(&self, frame: ClientFrame) {
        self.0.sent.borrow_mut().push(frame.clone());
        if let ClientFrame::Auth { token } = frame {
            self.0.tokens.borrow_mut().push(token);
        }
    }
}

impl Drop for FakeConnection {
    fn drop(&mut self) {
        self.0.closed.set(self.0.closed.get() + 1);
    }
}

// ---------- browser helpers ----------

pub fn window() -> web_sys::Window {
    web_sys::window().unwrap()
}

pub fn document() -> web_sys::Document {
    window().document().unwrap()
}

pub fn local() -> Storage {
    window().local_storage().unwrap().unwrap()
}

pub fn session_storage() -> Storage {
    window().session_storage().unwrap().unwrap()
}

pub fn entries(storage: &Storage) -> Vec<(String, String)> {
    (0..storage.length().unwrap())
        .filter_map(|i| storage.key(i).unwrap())
        .map(|k| {
            let v = storage.get_item(&k).unwrap().unwrap_or_default();
            (k, v)
        })
        .collect()
}

pub fn reset_storage() {
    local().clear().unwrap();
    session_storage().clear().unwrap();
}

// ---------- rendering ----------

#[derive(Properties, PartialEq)]
pub struct HarnessProps {
    memory: MemoryPath,
    config: Rc<Config>,
    session: Option<Session>,
    connector: ConnectorRef,
}

#[component]
pub fn Harness(props: &HarnessProps) -> Html {
    html! {
        <Router memory={Some(props.memory.clone())}>
            <Providers config={Rc::clone(&props.config)} session={props.session.clone()}
                lang={Some(Lang::Fr)} connector={Some(props.connector.clone())}>
                <Pages />
            </Providers>
        </Router>
    }
}

pub struct Mounted {
    pub root: Element,
    pub memory: MemoryPath,
    pub server: Rc<FakeServer>,
    app: Option<yew::AppHandle<Harness>>,
}

pub struct Setup {
    at: &'static str,
    session: Option<Session>,
    config: Config,
}

impl Setup {
    pub fn at(at: &'static str) -> Self {
        Self {
            at,
            session: None,
            config: Config::resolve("", "", "http:", "localhost"),
        }
    }

    pub fn logged_in(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    pub fn idle(mut self, timeout_ms: u32, warning_ms: u32) -> Self {
        self.config = self.config.with_idle_timeout_ms(timeout_ms, warning_ms);
        self
    }

    pub fn mount(self) -> Mounted {
        let root = document().create_element("div").unwrap();
        document().body().unwrap().append_child(&root).unwrap();
        let server = Rc::new(FakeServer::default());
        let memory = MemoryPath::at(self.at);
        let props = HarnessProps {
            memory: memory.clone(),
            config: Rc::new(self.config),
            session: self.session,
            connector: ConnectorRef(Rc::new(FakeConnector(Rc::clone(&server)))),
        };
        let app = yew::Renderer::<Harness>::with_root_and_props(root.clone(), props).render();
        Mounted {
            root,
            memory,
            server,
            app: Some(app),
        }
    }
}

impl Mounted {
    pub fn one(&self, css: &str) -> Option<Element> {
        self.root.query_selector(css).unwrap()
    }

    pub fn testid(&self, id: &str) -> Option<Element> {
        self.one(&format!("[data-testid='{id}']"))
    }

    pub fn click(&self, id: &str) {
        self.testid(id)
            .unwrap_or_else(|| panic!("no {id}"))
            .unchecked_into::<HtmlElement>()
            .click();
    }

    /// Types an email and a password into the login form and submits it.
    pub fn submit_login(&self, email: &str, password: &str) {
        for (id, value) in [("login-email", email), ("login-password", password)] {
            self.testid(id)
                .unwrap()
                .unchecked_into::<HtmlInputElement>()
                .set_value(value);
        }
        self.click("login-submit");
    }

    pub fn path(&self) -> String {
        self.memory.path()
    }

    /// Polls `check` until it holds. Each round lets pending promises and timers run; the
    /// limit bounds the wait (about 5 s) and is no timing assertion.
    pub async fn until(&self, what: &str, check: impl Fn(&Mounted) -> bool) {
        for _ in 0..250 {
            yew::scheduler::flush().await;
            if check(self) {
                return;
            }
            gloo_timers::future::TimeoutFuture::new(20).await;
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
