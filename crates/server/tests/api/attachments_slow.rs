//! Uploads on a slow link: the upload is not held to the request deadline of other requests
//! (a 10 MB file from a phone can take minutes), but its bytes must keep arriving at the
//! minimum rate once that deadline has passed, so that a client trickling bytes cannot hold a
//! connection and its buffer. Raw HTTP/1.1 over TCP, so that the test decides when each byte
//! leaves.

use crate::attachment_fixtures::*;
use crate::helpers::*;
use colloque_protocol::AttachmentMeta;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;

/// How long a test waits for an answer before failing (not a figure under test).
const PATIENCE: Duration = Duration::from_secs(60);

/// The request line and headers of an upload of `length` bytes.
fn upload_head(session: &Session, name: &str, length: usize) -> String {
    format!(
        "POST /api/attachments?name={name} HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n",
        session.token
    )
}

/// A PDF of `size` bytes (padded with spaces after its end, which readers ignore).
fn pdf_of(size: usize) -> Vec<u8> {
    let mut file = pdf();
    file.resize(size, b' ');
    file
}

/// Reads the answer until the server closes the connection (or resets it, once it has said
/// what it had to), and returns its status and JSON body. `answered` is set at its first byte.
async fn read_answer(mut read: OwnedReadHalf, answered: &AtomicBool) -> (u16, Value) {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(PATIENCE, read.read(&mut buffer)).await {
            Err(_) => panic!("no complete answer within {PATIENCE:?}: {raw:?}"),
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => {
                answered.store(true, Ordering::Relaxed);
                raw.extend_from_slice(&buffer[..n]);
            }
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("a JSON body: {text}"));
    (status, body)
}

#[tokio::test]
async fn an_upload_that_outlasts_the_request_deadline_at_a_steady_rate_is_stored_whole() {
    let app = spawn_app_with(|config| {
        config.limits.http_request_timeout = Duration::from_secs(3);
        config.limits.attachments.min_upload_bytes_per_second = 20_000;
    })
    .await;
    let emma = app.login(EMMA).await;
    let file = pdf_of(16 * 12_500);
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    write
        .write_all(upload_head(&emma, "lent.pdf", file.len()).as_bytes())
        .await
        .unwrap();
    // 16 chunks, 250 ms apart: at least 3.75 s, past the 3 s any other request has, yet far
    // above 20 kB/s once those 3 s are over (a chunk is due 3 s + 0.625 s per chunk sent).
    for (n, chunk) in file.chunks(12_500).enumerate() {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        write.write_all(chunk).await.unwrap();
        write.flush().await.unwrap();
    }

    let (status, body) = read_answer(read, &AtomicBool::new(false)).await;

    assert_eq!(status, 201, "{body}");
    let meta: AttachmentMeta = serde_json::from_value(body).unwrap();
    assert_eq!(meta.size, file.len() as u64);
    assert_eq!(app.attachment_rows().await, (1, 1));
    let download = app
        .get(&format!("/api/attachments/{}", meta.id), &emma.token)
        .await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().as_ref(), file.as_slice());
}

#[tokio::test]
async fn an_upload_trickling_under_the_minimum_rate_is_cut_with_408_and_nothing_is_stored() {
    let app = spawn_app_with(|config| {
        config.limits.http_request_timeout = Duration::from_secs(1);
        config.limits.attachments.min_upload_bytes_per_second = 20_000;
    })
    .await;
    let emma = app.login(EMMA).await;
    let file = pdf_of(100_000);
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    write
        .write_all(upload_head(&emma, "lent.pdf", file.len()).as_bytes())
        .await
        .unwrap();
    // 50 bytes every 50 ms (1 kB/s) until the server answers: never done, and never idle
    // long, so only the rate can stop it.
    let answered = Arc::new(AtomicBool::new(false));
    let trickle = {
        let answered = answered.clone();
        tokio::spawn(async move {
            for chunk in file.chunks(50) {
                if answered.load(Ordering::Relaxed) || write.write_all(chunk).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    let (status, body) = read_answer(read, &answered).await;
    trickle.abort();

    assert_eq!(status, 408, "{body}");
    assert_eq!(body["code"], "upload_too_slow", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("20000 bytes per second"), "{message}");
    assert_eq!(app.attachment_rows().await, (0, 0), "nothing stored");
    // The server is fine, and a file sent at once goes through.
    app.upload_ok(&emma, "vite.pdf", pdf()).await;
    assert_eq!(app.attachment_rows().await, (1, 1));
}
