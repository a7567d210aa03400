//! nginx in front of two tiny upstreams (std only): round-robin, the forwarded headers, a
//! WebSocket upgrade passed through, and a dead upstream skipped.

use colloque_testbed::{Nginx, free_port};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An upstream that answers every request with its name, and echoes bytes after a WebSocket
/// handshake (a `101`, no framing: nginx only relays bytes). It keeps the headers it saw.
struct Upstream {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Upstream {
    fn start(name: &'static str) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = Arc::clone(&record);
                std::thread::spawn(move || serve(name, stream, &record));
            }
        });
        Upstream { port, seen }
    }
}

/// Serves one connection (several requests when nginx keeps it alive).
fn serve(name: &str, stream: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let lower = head.to_ascii_lowercase();
        seen.lock().unwrap().push(head);
        let length: usize = lower
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |n| n.trim().parse().unwrap());
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if lower.contains("upgrade: websocket") && lower.contains("connection: upgrade") {
            stream
                .write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                      Connection: Upgrade\r\n\r\n",
                )
                .unwrap();
            let mut buffer = [0; 64];
            while let Ok(n @ 1..) = reader.read(&mut buffer) {
                if stream.write_all(&buffer[..n]).is_err() {
                    return;
                }
            }
            return;
        }
        let answer = if length == 0 {
            name.to_owned()
        } else {
            format!("{name} read {length} bytes")
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if stream.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// One GET through nginx, on a new connection: the status line and the body.
fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[test]
fn nginx_alternates_between_upstreams_and_passes_the_client_on() {
    let (a, b) = (Upstream::start("a"), Upstream::start("b"));
    let nginx = Nginx::start(free_port(), &[a.port, b.port]).unwrap();

    let bodies: Vec<String> = (0..6)
        .map(|_| {
            let (status, body) = get(nginx.port(), "/api/health");
            assert_eq!(status, "HTTP/1.1 200 OK");
            body
        })
        .collect();

    // Strict alternation, whichever comes first (the rotation is shared by the workers).
    for pair in bodies.windows(2) {
        assert_ne!(pair[0], pair[1], "not round-robin: {bodies:?}");
    }
    let seen = a.seen.lock().unwrap().join("").to_ascii_lowercase();
    assert!(seen.contains("x-forwarded-for: 127.0.0.1\r\n"), "{seen}");
    assert!(seen.contains("x-forwarded-proto: http\r\n"), "{seen}");
    assert!(seen.contains("host: 127.0.0.1\r\n"), "{seen}");
    assert!(
        !seen.contains("connection: upgrade"),
        "a plain request must not be sent as an upgrade: {seen}"
    );
    let log = std::fs::read_to_string(nginx.log_path()).unwrap();
    assert!(
        !log.contains("[alert]") && !log.contains("[emerg]"),
        "nginx complained: {log}"
    );
}

#[test]
fn nginx_passes_a_websocket_upgrade_through() {
    let upstream = Upstream::start("ws");
    let nginx = Nginx::start(free_port(), &[upstream.port]).unwrap();

    let mut stream = TcpStream::connect(("127.0.0.1", nginx.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n\
              Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 101"), "{status}");
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }

    stream.write_all(b"ping").unwrap();
    let mut echoed = [0; 4];
    reader.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"ping");
}

#[test]
fn nginx_skips_an_upstream_that_is_down() {
    let alive = Upstream::start("alive");
    // A port nobody listens on: every connection is refused, as after a `kill -9`.
    let dead = free_port();
    let mut nginx = Nginx::start(free_port(), &[dead, alive.port]).unwrap();

    for _ in 0..4 {
        let (status, body) = get(nginx.port(), "/");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(body, "alive");
    }

    let port = nginx.port();
    nginx.stop().unwrap();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(
        std::fs::read_to_string(nginx.log_path())
            .unwrap()
            .contains("Connection refused"),
        "the refused upstream is in the error log"
    );
}

#[test]
fn nginx_passes_a_large_request_body_through_its_temp_files() {
    // Bodies over 16 KiB are buffered to client_body/ in the scratch directory: as root, this
    // fails with 500 if the workers run as `nobody` (see the `user` line in nginx.rs).
    let upstream = Upstream::start("big");
    let nginx = Nginx::start(free_port(), &[upstream.port]).unwrap();
    let body = vec![b'x'; 200_000];

    let mut stream = TcpStream::connect(("127.0.0.1", nginx.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST /api/import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("big read 200000 bytes"), "{response}");
}
