//! A real SMTP server on loopback for the e-mail tests ([`SmtpSink`]): aiosmtpd (installed by
//! `cargo xtask test` or `cargo xtask setup` into `.tools/aiosmtpd/`), storing what it receives
//! in a Maildir that the tests read. Waiting for an e-mail is the test's own (its runtime's
//! sleep), since the server under test may share the test's thread.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

/// A running aiosmtpd; killed when dropped.
pub struct SmtpSink {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

/// One e-mail as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Header names (lowercase) and values, unfolded and decoded.
    pub headers: Vec<(String, String)>,
    /// The body, decoded.
    pub body: String,
    /// The whole raw text, as stored.
    pub raw: String,
}

impl Mail {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Who it went to (the envelope's recipients, as the server saw them).
    pub fn recipients(&self) -> String {
        self.header("x-rcptto").unwrap_or_default().to_owned()
    }
}

fn aiosmtpd() -> PathBuf {
    if let Ok(path) = std::env::var("COLLOQUE_AIOSMTPD") {
        return path.into();
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/aiosmtpd/bin/aiosmtpd");
    // Chosen by the test's own `cargo xtask setup`: never a machine-wide one.
    assert!(
        path.exists(),
        "the e-mail tests need aiosmtpd: run `cargo xtask setup` (or set COLLOQUE_AIOSMTPD)"
    );
    path
}

impl SmtpSink {
    /// Starts aiosmtpd on a free loopback port and waits until it accepts connections.
    pub fn start() -> SmtpSink {
        let maildir = tempfile::tempdir().expect("a temporary Maildir");
        let port = crate::free_port();
        let child = Command::new(aiosmtpd())
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A directory that does not exist yet: the Maildir handler creates it with its
            // `tmp/`, `new/` and `cur/` (an existing empty one makes every delivery fail).
            .arg(maildir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let sink = SmtpSink {
            child,
            port,
            maildir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not listen in 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        sink
    }

    /// The URL the server sends through.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every e-mail received so far, in no particular order.
    pub fn mails(&self) -> Vec<Mail> {
        let new = self.maildir.path().join("maildir/new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
            .map(|raw| parse_mail(&raw))
            .collect()
    }

    /// The e-mails to `address`.
    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|mail| mail.recipients().contains(address))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headers and body of a stored e-mail: folded headers unfolded, RFC 2047 words and a
/// quoted-printable or base64 body decoded.
pub fn parse_mail(raw: &str) -> Mail {
    let raw_n = raw.replace("\r\n", "\n");
    let (head, body) = raw_n.split_once("\n\n").unwrap_or((&raw_n, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    for (_, value) in &mut headers {
        *value = decode_words(value);
    }
    let encoding = headers
        .iter()
        .find(|(n, _)| n == "content-transfer-encoding")
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let body = match encoding.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => {
            let compact: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .expect("a base64 body"),
            )
            .expect("a UTF-8 body")
        }
        _ => body.to_owned(),
    };
    Mail {
        headers,
        body,
        raw: raw.to_owned(),
    }
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(byte) = joined
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("a UTF-8 body")
}

/// `=?utf-8?b?…?=` and `=?utf-8?q?…?=` words decoded.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        out.push_str(&rest[..start]);
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &parts[2][..end];
        let decoded = match parts[1].to_ascii_lowercase().as_str() {
            "b" => base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default(),
            _ => quoted_printable(&text.replace('_', " ")),
        };
        out.push_str(&decoded);
        let consumed = 2 + parts[0].len() + 1 + parts[1].len() + 1 + end + 2;
        rest = &rest[start + consumed..];
        // Blanks between two encoded words are not text (RFC 2047, 6.2).
        if rest.trim_start().starts_with("=?") {
            rest = rest.trim_start();
        }
    }
    out.push_str(rest);
    out
}
