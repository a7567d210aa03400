//! A cluster of real `colloque-server` processes (this crate's binary) on a private PostgreSQL
//! and `nats-server` ([`colloque_testbed::Cluster`]), and the small clients the tests drive it
//! with: REST calls to one instance, and sockets held on one instance.

use colloque_protocol::{
    ClientFrame, ClientMsgId, ConversationId, ConversationSummary, ErrorCode, LoginResponse,
    Message, MessagePage, SendMessageRequest, ServerFrame, UserId,
};
use colloque_testbed::{Cluster, ClusterOptions, PostgresOptions};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "colloque-demo";
pub const MARTIN: &str = "dr.martin@colloque.test";
pub const EMMA: &str = "emma.petit@colloque.test";
pub const LUCAS: &str = "lucas.bernard@colloque.test";

/// How long a test waits for something that should take milliseconds (a generous bound, never
/// a measurement).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Environment every test instance gets: no send or request throttling in the way of a test
/// that stores hundreds of messages, and quick sweeps.
fn base_env() -> Vec<(String, String)> {
    [
        ("COLLOQUE_SEND_RATE_PER_MINUTE", "1000000000"),
        ("COLLOQUE_REQUEST_RATE_PER_MINUTE", "1000000000"),
        ("RUST_LOG", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A test's cluster. Tests take turns: two clusters at once on two cores would only measure
/// how they slow each other down.
pub struct TestCluster {
    cluster: Cluster,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl std::ops::Deref for TestCluster {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

impl std::ops::DerefMut for TestCluster {
    fn deref_mut(&mut self) -> &mut Cluster {
        &mut self.cluster
    }
}

/// Starts a cluster of `instances` with the demo data (and nginx in front when `proxy`), with
/// `env` added to every instance's environment.
pub async fn start(instances: usize, proxy: bool, env: &[(&str, &str)]) -> TestCluster {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let turn = TURN.lock().await;
    let mut options = ClusterOptions::new(env!("CARGO_BIN_EXE_colloque-server"));
    options.instances = instances;
    options.demo = true;
    options.proxy_port = proxy.then(colloque_testbed::free_port);
    // Commits still reach the kernel before they are acknowledged, so killing PostgreSQL loses
    // nothing; only a crash of the machine could (see PostgresOptions::fsync).
    options.postgres = PostgresOptions {
        fsync: false,
        ..PostgresOptions::default()
    };
    options.extra_env = base_env();
    options
        .extra_env
        .extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let cluster = tokio::task::spawn_blocking(move || Cluster::start(options))
        .await
        .expect("the start does not panic")
        .expect("the cluster starts");
    TestCluster {
        cluster,
        _turn: turn,
    }
}

/// A logged-in user, valid on every instance (one JWT secret, sessions in PostgreSQL): the
/// access token, the session's public name and the refresh credential of its cookie.
#[derive(Clone)]
pub struct User {
    pub id: UserId,
    pub token: String,
    pub handle: String,
    pub refresh: String,
}

/// The user a login or refresh answer describes (panics on anything but a 200 with a refresh
/// cookie).
pub async fn user_from(response: reqwest::Response) -> User {
    assert_eq!(response.status(), 200, "a login or refresh");
    let refresh = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| {
            let value = cookie
                .split(';')
                .next()?
                .strip_prefix("colloque_refresh=")?;
            (!value.is_empty()).then(|| value.to_owned())
        })
        .expect("a refresh cookie");
    let body: LoginResponse = response.json().await.expect("a login body");
    User {
        id: body.user.id,
        token: body.token,
        handle: body.session.0,
        refresh,
    }
}

/// `POST /api/auth/refresh/{session}` on the instance on `port`, with `user`'s credential.
pub async fn refresh(port: u16, user: &User) -> reqwest::Response {
    http()
        .post(format!("{}/api/auth/refresh/{}", base(port), user.handle))
        .header("cookie", format!("colloque_refresh={}", user.refresh))
        .send()
        .await
        .expect("refresh request")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

pub fn base(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

pub async fn login(port: u16, email: &str) -> User {
    let response = http()
        .post(format!("{}/api/auth/login", base(port)))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login request");
    assert_eq!(response.status(), 200, "login of {email}");
    user_from(response).await
}

pub async fn only_conversation(port: u16, user: &User) -> ConversationSummary {
    let response = http()
        .get(format!("{}/api/conversations", base(port)))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("conversations request");
    assert_eq!(response.status(), 200);
    let mut list: Vec<ConversationSummary> = response.json().await.expect("a list");
    assert_eq!(list.len(), 1, "one demo conversation");
    list.remove(0)
}

/// Sends over REST to the instance on `port`; returns the stored message.
pub async fn send(
    port: u16,
    user: &User,
    conversation: ConversationId,
    client_id: ClientMsgId,
    body: &str,
) -> Result<Message, u16> {
    let response = http()
        .post(format!(
            "{}/api/conversations/{conversation}/messages",
            base(port)
        ))
        .bearer_auth(&user.token)
        .json(&SendMessageRequest {
            client_id,
            body: body.to_owned(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .send()
        .await
        .map_err(|_| 0u16)?;
    match response.status().as_u16() {
        200 | 201 => Ok(response.json().await.expect("a message")),
        status => Err(status),
    }
}

/// Every message of a conversation, through the history API of the instance on `port`.
pub async fn read_all(port: u16, user: &User, conversation: ConversationId) -> Vec<Message> {
    let mut all: Vec<Message> = Vec::new();
    loop {
        let after = all.last().map_or(0, |m| m.seq.0);
        let response = http()
            .get(format!(
                "{}/api/conversations/{conversation}/messages",
                base(port)
            ))
            .query(&[("after", after.to_string()), ("limit", "100".to_owned())])
            .bearer_auth(&user.token)
            .send()
            .await
            .expect("history request");
        assert_eq!(response.status(), 200, "history after {after}");
        let page: MessagePage = response.json().await.expect("a page");
        all.extend(page.messages);
        if !page.has_more {
            return all;
        }
    }
}

pub fn new_client_id() -> ClientMsgId {
    ClientMsgId(uuid::Uuid::new_v4())
}

/// `GET /api/health` of one instance: (HTTP status, `status` field).
pub async fn health(port: u16) -> (u16, String) {
    match http()
        .get(format!("{}/api/health", base(port)))
        .send()
        .await
    {
        Ok(response) => {
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (
                status,
                body["status"].as_str().unwrap_or_default().to_owned(),
            )
        }
        Err(_) => (0, String::new()),
    }
}

/// Polls `check` until it holds, for at most [`PATIENCE`]; returns how long it took.
pub async fn eventually<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: not after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An authenticated socket on one instance.
pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What a socket saw next.
#[derive(Debug)]
pub enum Seen {
    Frame(Box<ServerFrame>),
    Closed(Option<u16>),
    /// Nothing within the wait.
    Nothing,
}

impl Socket {
    /// Opens a socket on the instance on `port` and authenticates as `user`.
    pub async fn open(port: u16, user: &User) -> Socket {
        let (stream, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
            .await
            .expect("websocket connects");
        let mut socket = Socket { stream };
        socket
            .send(&ClientFrame::Auth {
                token: user.token.clone(),
            })
            .await;
        match socket.next(PATIENCE).await {
            Seen::Frame(frame) if matches!(*frame, ServerFrame::Ready { .. }) => socket,
            other => panic!("expected ready, got {other:?}"),
        }
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        let text = serde_json::to_string(frame).expect("a frame serializes");
        self.stream
            .send(WsMessage::Text(text.into()))
            .await
            .expect("frame sent");
    }

    /// The next frame or close within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Seen {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let received = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(received) => received,
                Err(_) => return Seen::Nothing,
            };
            match received {
                Some(Ok(WsMessage::Text(text))) => {
                    return Seen::Frame(Box::new(
                        serde_json::from_str(text.as_str()).expect("a valid frame"),
                    ));
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    return Seen::Closed(frame.map(|frame| u16::from(frame.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Seen::Closed(None),
            }
        }
    }

    /// Collects the `message` frames of `conversation` until `count` arrived (failing after
    /// [`PATIENCE`]); other frames are skipped.
    pub async fn messages(&mut self, conversation: ConversationId, count: usize) -> Vec<Message> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        while got.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Seen::Frame(frame) => {
                    if let ServerFrame::Message { message } = *frame
                        && message.conversation_id == conversation
                    {
                        got.push(message);
                    }
                }
                other => panic!("{} of {count} messages pushed, then {other:?}", got.len()),
            }
        }
        got
    }

    /// Asserts that the server ends this socket for its session: an `unauthorized` error
    /// frame, then a close with 1008 (a generous bound on each, not a measurement).
    pub async fn assert_session_ended(&mut self, name: &str) {
        match self.next(Duration::from_secs(10)).await {
            Seen::Frame(frame) => match *frame {
                ServerFrame::Error { error, .. } => {
                    assert_eq!(error.code, ErrorCode::Unauthorized, "{name}")
                }
                other => panic!("{name}: expected an error frame, got {other:?}"),
            },
            other => panic!("{name}: expected an error frame, got {other:?}"),
        }
        assert!(
            matches!(
                self.next(Duration::from_secs(5)).await,
                Seen::Closed(Some(1008))
            ),
            "{name}: closed with 1008"
        );
    }

    /// Sends a message over this socket and waits for its ack.
    pub async fn send_and_ack(&mut self, conversation: ConversationId, body: &str) -> Message {
        let client_id = new_client_id();
        self.send(&ClientFrame::Send {
            conversation_id: conversation,
            client_id,
            body: body.to_owned(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
        loop {
            match self.next(PATIENCE).await {
                Seen::Frame(frame) => match *frame {
                    ServerFrame::Ack {
                        client_id: acked,
                        message,
                    } if acked == client_id => return message,
                    ServerFrame::Error { error, .. } => panic!("send refused: {error:?}"),
                    _ => continue,
                },
                other => panic!("no ack: {other:?}"),
            }
        }
    }
}

/// Asserts that `pushed` is exactly the stored messages `expected`, in order, each once.
pub fn assert_same_in_order(who: &str, pushed: &[Message], expected: &[Message]) {
    let seqs = |list: &[Message]| list.iter().map(|m| m.seq.0).collect::<Vec<_>>();
    assert_eq!(seqs(pushed), seqs(expected), "{who}: seqs pushed");
    for (got, want) in pushed.iter().zip(expected) {
        assert_eq!(got.id, want.id, "{who}: the stored message");
        assert_eq!(got.body, want.body, "{who}: the stored text");
    }
}
