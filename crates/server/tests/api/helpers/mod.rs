//! zero2prod-style helpers: `spawn_app()` and typed shortcuts for the API.

use colloque_protocol::{
    ClientFrame, ClientMsgId, ConversationId, ConversationSummary, LoginResponse, Message,
    MessagePage, SendMessageRequest, ServerFrame, UserId,
};
use colloque_server::store::{DatabaseUrl, Store};
use colloque_server::{Application, Config, DEMO_PASSWORD, RateLimit, ShutdownHandle};
use colloque_testbed::{Postgres, PostgresOptions};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio_tungstenite::MaybeTlsStream;

mod socket;
pub use socket::{Event, Socket};

/// Runs `$body` with `$pool` naming the pool of a [`Store`], whichever its backend: a test's
/// raw SQL is written once and runs on SQLite and PostgreSQL alike.
macro_rules! on_db {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store {
            colloque_server::store::Store::Sqlite($pool) => $body,
            colloque_server::store::Store::Postgres($pool) => $body,
        }
    };
}

/// The signing secret of test servers, so that tests can forge tokens.
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// How long a test waits for a frame before failing.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

pub const MARTIN: &str = "dr.martin@colloque.test";
pub const DURAND: &str = "dr.durand@colloque.test";
pub const LUCAS: &str = "lucas.bernard@colloque.test";
pub const EMMA: &str = "emma.petit@colloque.test";
pub const HUGO: &str = "hugo.moreau@colloque.test";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// The metrics listener's port, when the test asked for one.
    pub metrics_port: Option<u16>,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    pub database_url: DatabaseUrl,
    pub shutdown: ShutdownHandle,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A logged-in user, as a browser holds it: the access token, the session's public name, and
/// the refresh credential its cookie carries.
#[derive(Clone)]
pub struct Session {
    pub token: String,
    pub id: UserId,
    pub handle: String,
    pub refresh: String,
}

/// The refresh credential that an answer's `Set-Cookie` gives (`None` when it gives none, or
/// clears it), and the cookie's attributes.
pub fn refresh_cookie(response: &reqwest::Response) -> Option<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let value = pair.strip_prefix("colloque_refresh=")?;
            (!value.is_empty()).then(|| (value.to_owned(), attributes.trim().to_owned()))
        })
}

/// The session a login or refresh answer describes.
pub async fn session_from(response: reqwest::Response) -> Session {
    assert_eq!(response.status(), 200, "a login or refresh");
    let (refresh, _) = refresh_cookie(&response).expect("a refresh cookie");
    let body: LoginResponse = response.json().await.unwrap();
    Session {
        token: body.token,
        id: body.user.id,
        handle: body.session.0,
        refresh,
    }
}

/// A server with the demo data, a known JWT secret and cheap password hashing.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose send rate limit is out of the way (tests that store many messages).
pub async fn spawn_app_unthrottled() -> TestApp {
    spawn_app_with(|config| {
        config.limits.sends = RateLimit::per_minute(1_000_000);
        config.limits.requests = RateLimit::per_minute(1_000_000);
    })
    .await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let mut config = Config {
        demo: true,
        jwt_secret: Some(SecretString::from(TEST_SECRET)),
        ..Config::for_tests(data_dir.path().to_path_buf())
    };
    config.database_url = test_database();
    // The server purges its audit trail at start, then daily, past the retention (365 days by
    // default). Tests write rows 390–400 days old and purge them themselves: with a start
    // delayed by a loaded machine, the server's own purge took them first (the audit purge
    // tests failed now and then). Ten years keeps the server's purge off the tests' rows.
    config.audit_retention_days = 10 * 365;
    configure(&mut config);
    let database_url = config.database_url();
    let application = Application::build(config)
        .await
        .expect("application builds");
    let port = application.port();
    let metrics_port = application.metrics_port();
    let shutdown = application.shutdown_handle();
    let server = tokio::spawn(application.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_port,
        client: reqwest::Client::new(),
        data_dir,
        database_url,
        shutdown,
        server,
    }
}

/// The backend of this run: `COLLOQUE_TEST_BACKEND=postgres` runs every test on a fresh
/// database of one private PostgreSQL cluster that this test binary starts (and stops when it
/// ends, whatever happens); otherwise each test gets a fresh SQLite file in its data directory.
fn test_database() -> Option<DatabaseUrl> {
    static POSTGRES: OnceLock<Mutex<Postgres>> = OnceLock::new();
    static DATABASES: AtomicU32 = AtomicU32::new(0);
    match std::env::var("COLLOQUE_TEST_BACKEND").as_deref() {
        Ok("postgres") => {}
        Ok("sqlite") | Err(_) => return None,
        Ok(other) => panic!("COLLOQUE_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
    let postgres = POSTGRES.get_or_init(|| {
        // fsync off: hundreds of databases are created; nothing here survives a machine crash.
        let options = PostgresOptions {
            fsync: false,
            ..PostgresOptions::default()
        };
        Mutex::new(Postgres::start(options).expect("a private PostgreSQL starts"))
    });
    let postgres = postgres.lock().unwrap_or_else(PoisonError::into_inner);
    let name = format!("test_{}", DATABASES.fetch_add(1, Ordering::Relaxed));
    postgres.create_database(&name).expect("a fresh database");
    Some(DatabaseUrl::Postgres(postgres.url(&name)))
}

pub fn new_client_id() -> ClientMsgId {
    ClientMsgId(uuid::Uuid::new_v4())
}

impl TestApp {
    /// A second connection pool on the test server's database (what the admin CLI does).
    /// Raw SQL in tests goes through [`on_db!`] and uses `$N` placeholders, which both
    /// backends read.
    pub async fn db(&self) -> Store {
        Store::connect(&self.database_url)
            .await
            .expect("database opens")
    }

    /// Stops the server as SIGTERM does, and waits until it has: what it kept in memory for
    /// the audit trail (the counts of refusals of the current minute) is written by then.
    pub async fn stop(&mut self) {
        self.shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(15), &mut self.server)
            .await
            .expect("the server stopped in time")
            .expect("the server task ended")
            .expect("the server stopped cleanly");
    }

    /// `--database-url` for the admin commands run as processes.
    pub fn database_url_arg(&self) -> String {
        match &self.database_url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// Runs this crate's `colloque-server` binary with `args` on the test server's database.
    ///
    /// Awaited, never blocking: the server under test runs on this test's (current-thread)
    /// runtime. A blocking wait for the process stops the server's tasks from being polled, so
    /// a write transaction of the server that has taken SQLite's write lock (`BEGIN IMMEDIATE`
    /// runs on the connection's own thread) never gets to its `COMMIT`, and the admin process
    /// fails with "database is locked" once its 5 s busy timeout has passed.
    pub async fn admin_command(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_colloque-server"))
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .arg("--database-url")
            .arg(self.database_url_arg())
            .env_remove("COLLOQUE_ENV")
            .kill_on_drop(true)
            .output()
            .await
            .expect("colloque-server runs")
    }

    /// (ip, user, occurrences) of every row of `action`, in id order.
    pub async fn audit_counts(&self, action: &str) -> Vec<(Option<String>, Option<i64>, i64)> {
        on_db!(self.db().await, |pool| {
            sqlx::query_as(
                "SELECT ip, user_id, occurrences FROM audit_log WHERE action = $1 ORDER BY id",
            )
            .bind(action)
            .fetch_all(&pool)
            .await
            .unwrap()
        })
    }

    /// The audit trail of `email`, as `audit-export` prints it.
    pub async fn audit_of(&self, email: &str) -> Vec<colloque_server::audit::Record> {
        colloque_server::admin::audit_export(
            &self.db().await,
            email,
            colloque_protocol::Timestamp(0),
        )
        .await
        .expect("audit export")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request sent")
    }

    /// A login through a proxy that says the client is `forwarded_for`.
    pub async fn post_login_via(
        &self,
        forwarded_for: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn login(&self, email: &str) -> Session {
        let response = self.post_login(email, DEMO_PASSWORD).await;
        assert_eq!(response.status(), 200, "login of {email}");
        session_from(response).await
    }

    /// `POST /api/auth/refresh/{handle}` with this refresh credential in its cookie, as the
    /// browser sends it (no access token).
    pub async fn refresh_with(&self, handle: &str, credential: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/auth/refresh/{handle}")))
            .header("cookie", format!("colloque_refresh={credential}"))
            .send()
            .await
            .expect("request sent")
    }

    /// Refreshes `session` with its current credential.
    pub async fn refresh(&self, session: &Session) -> reqwest::Response {
        self.refresh_with(&session.handle, &session.refresh).await
    }

    /// Refreshes `session`, which must succeed: the renewed session.
    pub async fn renew(&self, session: &Session) -> Session {
        session_from(self.refresh(session).await).await
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn conversations(&self, session: &Session) -> Vec<ConversationSummary> {
        let response = self.get("/api/conversations", &session.token).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// The only conversation of `session` (demo data: Emma–Martin, Lucas–Durand).
    pub async fn only_conversation(&self, session: &Session) -> ConversationSummary {
        let mut list = self.conversations(session).await;
        assert_eq!(list.len(), 1);
        list.remove(0)
    }

    pub async fn start_conversation(&self, session: &Session, with: UserId) -> reqwest::Response {
        self.post(
            "/api/conversations",
            &session.token,
            &json!({"with_user_id": with, "subject": "Question", "topic": "medical_question"}),
        )
        .await
    }

    pub async fn send_message(
        &self,
        session: &Session,
        conversation: ConversationId,
        client_id: ClientMsgId,
        body: &str,
    ) -> reqwest::Response {
        let request = SendMessageRequest {
            client_id,
            body: body.to_owned(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        };
        self.post(
            &format!("/api/conversations/{conversation}/messages"),
            &session.token,
            &serde_json::to_value(request).unwrap(),
        )
        .await
    }

    pub async fn send_ok(
        &self,
        session: &Session,
        conversation: ConversationId,
        body: &str,
    ) -> Message {
        let response = self
            .send_message(session, conversation, new_client_id(), body)
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn history(
        &self,
        session: &Session,
        conversation: ConversationId,
        query: &str,
    ) -> MessagePage {
        let response = self
            .get(
                &format!("/api/conversations/{conversation}/messages{query}"),
                &session.token,
            )
            .await;
        assert_eq!(response.status(), 200, "history {query}");
        response.json().await.unwrap()
    }

    pub async fn last_seq(&self, session: &Session, conversation: ConversationId) -> i64 {
        let response = self
            .get(
                &format!("/api/conversations/{conversation}"),
                &session.token,
            )
            .await;
        assert_eq!(response.status(), 200);
        let summary: ConversationSummary = response.json().await.unwrap();
        summary.last_seq.0
    }

    /// A socket authenticated as `session`, its `ready` frame already consumed.
    pub async fn socket(&self, session: &Session) -> Socket {
        let mut socket = self.raw_socket().await;
        socket
            .send(&ClientFrame::Auth {
                token: session.token.clone(),
            })
            .await;
        match socket.next_frame().await {
            ServerFrame::Ready { user } => assert_eq!(user.id, session.id),
            other => panic!("expected ready, got {other:?}"),
        }
        socket
    }

    /// A socket opened with this `Origin` header, or the HTTP status that refused it.
    pub async fn socket_from_origin(&self, origin: &str) -> Result<Socket, u16> {
        self.socket_with_header("origin", origin).await
    }

    /// A socket opened through a proxy that says the client is `forwarded_for`, or the HTTP
    /// status that refused it.
    pub async fn socket_via(&self, forwarded_for: &str) -> Result<Socket, u16> {
        self.socket_with_header("x-forwarded-for", forwarded_for)
            .await
    }

    /// A socket opened with one extra header on its upgrade request, or the HTTP status that
    /// refused it.
    async fn socket_with_header(&self, name: &'static str, value: &str) -> Result<Socket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://127.0.0.1:{}/ws", self.port)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Socket { stream }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(other) => panic!("unexpected websocket error {other}"),
        }
    }

    /// An authenticated socket whose TCP receive buffer is tiny, so that a client that stops
    /// reading fills it (and the server's) quickly.
    pub async fn socket_with_small_buffer(&self, session: &Session) -> Socket {
        let mut socket = self.raw_socket_with_small_buffer().await;
        socket
            .send(&ClientFrame::Auth {
                token: session.token.clone(),
            })
            .await;
        match socket.next_frame().await {
            ServerFrame::Ready { user } => assert_eq!(user.id, session.id),
            other => panic!("expected ready, got {other:?}"),
        }
        socket
    }

    /// A socket that has not authenticated yet, with a tiny TCP receive buffer.
    pub async fn raw_socket_with_small_buffer(&self) -> Socket {
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(4096).unwrap();
        let stream = tcp
            .connect(([127, 0, 0, 1], self.port).into())
            .await
            .unwrap();
        let (stream, _) = tokio_tungstenite::client_async(
            format!("ws://127.0.0.1:{}/ws", self.port),
            MaybeTlsStream::Plain(stream),
        )
        .await
        .expect("websocket connects");
        Socket { stream }
    }

    /// A socket that has not authenticated yet.
    pub async fn raw_socket(&self) -> Socket {
        let (stream, _) =
            tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", self.port))
                .await
                .expect("websocket connects");
        Socket { stream }
    }
}

pub fn error_code(body: &Value) -> &str {
    body["code"].as_str().expect("an ApiError body")
}
