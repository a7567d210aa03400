//! WebSocket defences: Origin allowlist, socket caps, authentication deadline (even for a
//! peer that never reads), idle timeout, heartbeats, per-user rate limit, queue overflow.

use crate::helpers::*;
use colloque_protocol::{ClientFrame, ErrorCode, ServerFrame};
use colloque_server::RateLimit;
use colloque_server::store::Store;
use futures_util::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A wait limit for frames the server sends by itself.
const WAIT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_foreign_origin_gets_403_and_no_upgrade() {
    let mut app = spawn_app().await;

    let refused = app.socket_from_origin("https://evil.example").await;
    let null = app.socket_from_origin("null").await;

    assert_eq!(refused.err(), Some(403));
    assert_eq!(null.err(), Some(403));
    // Refusals are counted, and written when their minute closes (here: at shutdown).
    app.stop().await;
    let counts = app.audit_counts("origin_refused").await;
    assert_eq!(counts.iter().map(|(_, _, n)| n).sum::<i64>(), 2);
    assert!(counts.len() <= 2, "one row per minute, not per refusal");
}

#[tokio::test]
async fn the_servers_own_origin_the_configured_ones_and_clients_without_origin_are_let_in() {
    let app = spawn_app_with(|config| {
        config.allowed_origins = vec!["https://app.colloque.test".into()];
    })
    .await;
    let emma = app.login(EMMA).await;

    let own = app
        .socket_from_origin(&format!("http://127.0.0.1:{}", app.port))
        .await;
    let localhost = app
        .socket_from_origin(&format!("http://localhost:{}", app.port))
        .await;
    let configured = app.socket_from_origin("https://app.colloque.test").await;
    let trunk_dev = app.socket_from_origin("http://127.0.0.1:8081").await;

    for (case, socket) in [
        ("own", own),
        ("localhost", localhost),
        ("configured", configured),
        ("trunk dev (not production)", trunk_dev),
    ] {
        let mut socket = socket.unwrap_or_else(|status| panic!("{case}: refused with {status}"));
        socket
            .send(&ClientFrame::Auth {
                token: emma.token.clone(),
            })
            .await;
        assert!(
            matches!(socket.next_frame().await, ServerFrame::Ready { .. }),
            "{case}"
        );
    }
    // No Origin at all (a native client): the helper's usual socket.
    app.socket(&emma).await.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_socket_that_does_not_authenticate_in_time_is_closed_with_1008() {
    let app =
        spawn_app_with(|config| config.limits.ws_auth_timeout = Duration::from_millis(200)).await;
    let mut socket = app.raw_socket().await;

    assert_eq!(socket.closed_with().await, Some(1008));
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|config| {
        config.limits.ws_idle_timeout = Duration::from_millis(300);
        config.limits.ws_heartbeat = Duration::from_secs(60);
    })
    .await;
    let emma = app.login(EMMA).await;
    let mut socket = app.socket(&emma).await;

    // The client sends nothing at all; the server closes on its own.
    assert_eq!(socket.closed_with().await, Some(1001));
}

#[tokio::test]
async fn the_server_pings_and_closes_a_peer_that_stops_answering() {
    let app = spawn_app_with(|config| {
        config.limits.ws_heartbeat = Duration::from_millis(100);
        config.limits.ws_idle_timeout = Duration::from_secs(60);
    })
    .await;
    let emma = app.login(EMMA).await;

    // A dead peer: after authenticating it never writes a byte again, so it answers no ping.
    // (A tungstenite client would answer the pings as soon as it reads, and its late answer
    // could race with the server's close; this one speaks WebSocket by hand and stays mute.)
    let mut peer = MutePeer::connect(app.port, &emma.token).await;
    let mut pings = 0;
    let close = tokio::time::timeout(WAIT, async {
        loop {
            match peer.next_frame().await {
                Some((0x9, _)) => pings += 1,
                Some((0x8, payload)) => {
                    return payload
                        .get(..2)
                        .map(|code| u16::from_be_bytes([code[0], code[1]]));
                }
                Some((0x1, _)) => panic!("unexpected text frame after ready"),
                Some((opcode, _)) => panic!("unexpected frame {opcode:#x}"),
                None => return None,
            }
        }
    })
    .await
    .expect("closed in time");
    assert!(pings >= 1, "the server pinged");
    assert_eq!(close, Some(1001));
}

/// A WebSocket client written by hand over TCP: it sends the handshake and one `auth` frame,
/// then only reads.
struct MutePeer {
    tcp: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl MutePeer {
    async fn connect(port: u16, token: &str) -> MutePeer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let header_end = loop {
            let mut chunk = [0u8; 1024];
            let n = tcp.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed during the handshake");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
        };
        assert!(buf.starts_with(b"HTTP/1.1 101"), "upgrade refused");
        buf.drain(..header_end);

        // A client frame must be masked (RFC 6455 §5.3); the mask is arbitrary.
        let auth = serde_json::to_vec(&ClientFrame::Auth {
            token: token.to_owned(),
        })
        .unwrap();
        let mask = [0x12, 0x34, 0x56, 0x78];
        let mut frame = vec![0x81];
        match auth.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(auth.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        tcp.write_all(&frame).await.unwrap();

        let mut peer = MutePeer { tcp, buf };
        let (opcode, ready) = peer.next_frame().await.expect("ready");
        assert_eq!(opcode, 0x1);
        let ready: ServerFrame = serde_json::from_slice(&ready).unwrap();
        assert!(matches!(ready, ServerFrame::Ready { .. }), "{ready:?}");
        peer
    }

    /// The next frame's opcode and payload (server frames are unmasked and, here, unfragmented);
    /// `None` once the connection has ended.
    async fn next_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        use tokio::io::AsyncReadExt;
        loop {
            if let Some((frame, used)) = Self::parse(&self.buf) {
                self.buf.drain(..used);
                return Some(frame);
            }
            let mut chunk = [0u8; 4096];
            match self.tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn parse(buf: &[u8]) -> Option<((u8, Vec<u8>), usize)> {
        let (&b0, &b1) = (buf.first()?, buf.get(1)?);
        let (len, start) = match b1 & 0x7f {
            126 => (u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]) as usize, 4),
            127 => {
                let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
                (u64::from_be_bytes(bytes) as usize, 10)
            }
            n => (n as usize, 2),
        };
        let payload = buf.get(start..start + len)?;
        Some(((b0 & 0x0f, payload.to_vec()), start + len))
    }
}

#[tokio::test]
async fn a_peer_that_answers_pings_stays_connected_past_two_heartbeats() {
    let app = spawn_app_with(|config| {
        config.limits.ws_heartbeat = Duration::from_millis(100);
        config.limits.ws_idle_timeout = Duration::from_secs(60);
    })
    .await;
    let emma = app.login(EMMA).await;
    let mut socket = app.socket(&emma).await;

    // Reading is what makes tungstenite answer pings, as a browser does by itself.
    let mut pings = 0;
    while pings < 6 {
        match tokio::time::timeout(WAIT, socket.stream.next()).await {
            Ok(Some(Ok(WsMessage::Ping(_)))) => pings += 1,
            other => panic!("expected pings, got {other:?}"),
        }
    }

    socket.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_flood_of_sends_is_throttled_per_user_across_sockets_and_rest() {
    let app = spawn_app_with(|config| {
        config.limits.sends = RateLimit {
            max: 10,
            window: Duration::from_secs(3600),
        };
    })
    .await;
    let emma = app.login(EMMA).await;
    let conversation = app.only_conversation(&emma).await;

    // 4 over REST, then a flood of 30 over one socket, then one over another socket.
    for n in 0..4 {
        app.send_ok(&emma, conversation.id, &format!("rest {n}"))
            .await;
    }
    let mut first = app.socket(&emma).await;
    let mut second = app.socket(&emma).await;
    let mut sent = Vec::new();
    for n in 0..30 {
        let client_id = new_client_id();
        sent.push(client_id);
        first
            .send(&ClientFrame::Send {
                conversation_id: conversation.id,
                client_id,
                body: format!("flood {n}"),
                urgent: false,
                attachment_ids: Vec::new(),
                template_id: None,
            })
            .await;
    }
    let (mut acked, mut throttled) = (0, Vec::new());
    for _ in 0..30 {
        match first.next_frame().await {
            ServerFrame::Ack { .. } => acked += 1,
            ServerFrame::Error { error, client_id } => {
                assert_eq!(error.code, ErrorCode::RateLimited);
                throttled.push(client_id.expect("the refused send's client id"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let client_id = new_client_id();
    second
        .send(&ClientFrame::Send {
            conversation_id: conversation.id,
            client_id,
            body: "other tab".into(),
            urgent: false,
            attachment_ids: Vec::new(),
            template_id: None,
        })
        .await;
    let from_second_tab = loop {
        // Skip the first socket's messages pushed to this tab.
        match second.next_frame().await {
            ServerFrame::Message { .. } => continue,
            other => break other,
        }
    };
    let rest = app
        .send_message(&emma, conversation.id, new_client_id(), "rest again")
        .await;

    assert_eq!(acked, 6, "10 per hour, 4 used over REST");
    assert_eq!(throttled, sent[6..].to_vec());
    match from_second_tab {
        ServerFrame::Error {
            error,
            client_id: id,
        } => {
            assert_eq!(error.code, ErrorCode::RateLimited);
            assert_eq!(id, Some(client_id));
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    assert_eq!(rest.status(), 429);
    assert!(rest.headers().contains_key("retry-after"));
    assert_eq!(error_code(&rest.json().await.unwrap()), "rate_limited");
    // The socket still works for everything else.
    first.assert_nothing_pending().await;
}

#[tokio::test]
async fn a_socket_whose_queue_overflows_gets_resync_required_then_1013() {
    let app = spawn_app_with(|config| {
        config.limits.ws_queue = 2;
        config.limits.sends = RateLimit::per_minute(1_000_000);
    })
    .await;
    let emma = app.login(EMMA).await;
    let martin = app.login(MARTIN).await;
    let conversation = app.only_conversation(&emma).await;
    let mut reader = app.socket_with_small_buffer(&emma).await;

    // The reader stops reading; with a small receive buffer, TCP fills up quickly, the
    // server's writer blocks, and pushes pile up in the socket's queue (2 frames) until the
    // hub cuts it off.
    // Loopback buffers hold a few MB (the server's send buffer is sized for a 64 KiB MSS), so
    // push about 8 MB: 4-byte characters make 36 KB messages.
    let body = "𝄞".repeat(9_000);
    let sends = 220;
    for _ in 0..sends {
        app.send_ok(&martin, conversation.id, &body).await;
    }

    let mut messages = 0;
    let code = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match reader.next_event().await {
                Event::Frame(frame) => match *frame {
                    ServerFrame::Message { .. } => messages += 1,
                    ServerFrame::Error { error, .. } => {
                        assert_eq!(error.code, ErrorCode::ResyncRequired);
                        return reader.closed_with().await;
                    }
                    other => panic!("unexpected {other:?}"),
                },
                Event::Closed(code) => panic!("closed ({code:?}) without resync_required"),
            }
        }
    })
    .await
    .expect("the socket ended");
    assert_eq!(code, Some(1013));
    assert!(
        messages < sends,
        "{messages} of {sends} delivered before the cut"
    );
}

#[tokio::test]
async fn an_address_may_hold_only_so_many_sockets_waiting_to_authenticate() {
    let app = spawn_app_with(|config| {
        config.limits.ws_unauthenticated_per_address = 3;
        config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let lucas = app.login(LUCAS).await;
    let mut waiting = Vec::new();
    for _ in 0..3 {
        waiting.push(app.socket_via("203.0.113.7").await.expect("within the cap"));
    }

    assert_eq!(app.socket_via("203.0.113.7").await.err(), Some(429));
    assert!(
        app.socket_via("203.0.113.8").await.is_ok(),
        "another address has its own share"
    );
    // One of them authenticates: its place is free again.
    let mut first = waiting.remove(0);
    first
        .send(&ClientFrame::Auth {
            token: lucas.token.clone(),
        })
        .await;
    assert!(matches!(
        first.next_frame().await,
        ServerFrame::Ready { .. }
    ));
    assert!(app.socket_via("203.0.113.7").await.is_ok());
}

#[tokio::test]
async fn past_its_socket_cap_the_server_answers_503_until_one_closes() {
    let app = spawn_app_with(|config| config.limits.ws_max_sockets = 2).await;
    let lucas = app.login(LUCAS).await;
    let first = app.socket(&lucas).await;
    let _second = app.socket(&lucas).await;

    assert_eq!(app.socket_via("203.0.113.1").await.err(), Some(503));
    drop(first);
    let mut reopened = None;
    for _ in 0..50 {
        // A bounded poll while the server notices the close, not a timing assertion.
        if let Ok(socket) = app.socket_via("203.0.113.1").await {
            reopened = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reopened.is_some(), "a place came free when a socket closed");
}

#[tokio::test]
async fn a_peer_that_never_reads_is_dropped_within_the_deadline() {
    use futures_util::SinkExt;
    // Long enough for the server to fill every buffer between it and the peer, so that at the
    // deadline it is blocked in a write. One socket may wait to authenticate from this address: whether the next is let in
    // tells whether the server still holds the first, without reading from it (reading would
    // unblock the server's writes).
    let app = spawn_app_with(|config| {
        config.limits.ws_auth_timeout = Duration::from_millis(1500);
        config.limits.ws_unauthenticated_per_address = 1;
    })
    .await;
    let socket = app.raw_socket_with_small_buffer().await;
    let (mut sink, stream) = socket.stream.split();
    // Junk the server answers frame by frame, far more than any buffer holds, never read.
    let flood = tokio::spawn(async move {
        for _ in 0..1_000_000 {
            if sink.send(WsMessage::text("x")).await.is_err() {
                break;
            }
        }
        sink
    });
    let mut next = None;
    for _ in 0..100 {
        // A bounded poll past the deadline (1.5 s, then 1 s to close), not a timing assertion.
        tokio::time::sleep(Duration::from_millis(100)).await;
        match app.socket_via("203.0.113.1").await {
            Ok(socket) => {
                next = Some(socket);
                break;
            }
            Err(status) => assert_eq!(status, 429, "refused while the first is held"),
        }
    }
    assert!(
        next.is_some(),
        "the server dropped the flooding socket at its deadline, though it never read"
    );
    flood.abort();
    drop(stream);
}

#[tokio::test]
async fn every_request_and_frame_of_a_user_shares_one_budget() {
    let app = spawn_app_with(|config| config.limits.requests = RateLimit::per_minute(6)).await;
    let lucas = app.login(LUCAS).await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/api/conversations", &lucas.token).await.status(),
            200
        );
    }
    let mut socket = app.socket(&lucas).await;
    for nonce in 0..3 {
        socket.send(&ClientFrame::Ping { nonce }).await;
        assert!(matches!(
            socket.next_frame().await,
            ServerFrame::Pong { .. }
        ));
    }

    // The budget (6 a minute) is spent, over REST and the socket together.
    socket.send(&ClientFrame::Ping { nonce: 9 }).await;
    assert_eq!(socket.next_error().await.0, ErrorCode::RateLimited);
    let refused = app.get("/api/conversations", &lucas.token).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    // Refused, not cut off: the socket still answers (with the same refusal).
    socket.send(&ClientFrame::Ping { nonce: 10 }).await;
    assert_eq!(socket.next_error().await.0, ErrorCode::RateLimited);
    // Another user has a budget of their own.
    let emma = app.login(EMMA).await;
    assert_eq!(
        app.get("/api/conversations", &emma.token).await.status(),
        200
    );
}

#[tokio::test]
async fn a_mark_read_that_moves_nothing_takes_no_write_lock() {
    let app = spawn_app().await;
    let lucas = app.login(LUCAS).await;
    let conversation = app.only_conversation(&lucas).await;
    assert!(
        conversation.my_read_seq.0 >= 1,
        "the demo cursor is on Lucas's own message"
    );

    // Another connection holds what a moving cursor would have to lock: SQLite's write lock,
    // or on PostgreSQL the conversation's and the cursor's rows.
    let db = app.db().await;
    let _writer = match &db {
        Store::Sqlite(pool) => {
            let mut writer = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
            sqlx::query("SELECT 1").execute(&mut *writer).await.unwrap();
            Ok(writer)
        }
        Store::Postgres(pool) => {
            let mut writer = pool.begin().await.unwrap();
            sqlx::query(
                "SELECT 1 FROM conversations c JOIN read_cursors r ON r.conversation_id = c.id
                 WHERE c.id = $1 AND r.user_id = $2 FOR UPDATE",
            )
            .bind(conversation.id.0)
            .bind(lucas.id.0)
            .execute(&mut *writer)
            .await
            .unwrap();
            Err(writer)
        }
    };

    let path = format!("/api/conversations/{}/read", conversation.id.0);
    let response = tokio::time::timeout(
        Duration::from_secs(3),
        app.post(&path, &lucas.token, &serde_json::json!({"seq": 1})),
    )
    .await
    .expect("answered while the write lock is held elsewhere");
    assert_eq!(response.status(), 200);
}
