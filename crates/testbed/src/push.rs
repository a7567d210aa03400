//! A Web Push service on loopback for the push tests ([`PushService`]): it plays a browser
//! (its subscriptions' keys are made as a browser makes them) and a push service (it takes the
//! server's POSTs). For each push it checks the VAPID token (RFC 8292: ES256 signature under
//! the key it names, audience, expiry, contact) and decrypts the body (RFC 8291 `aes128gcm`)
//! with the subscription's private key and auth secret.
//!
//! The decryption is written here from the RFCs, on purpose, with the RustCrypto primitives
//! only (ECDH, HKDF, AES-128-GCM): the server encrypts with the web-push-native crate, and a
//! test that decrypted with the same crate would not check the wire format.
//!
//! Synchronous, as the rest of the testbed: a std thread accepts connections, one thread per
//! connection, one request per connection (`Connection: close`).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A browser's subscription to the [`PushService`], as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone)]
pub struct BrowserSubscription {
    /// The push service's URL for this browser.
    pub endpoint: String,
    /// The browser's public key, uncompressed, base64url.
    pub p256dh: String,
    /// The authentication secret, base64url.
    pub auth: String,
    path: String,
}

/// A valid VAPID token's claims, and the key it was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vapid {
    /// The `k` parameter: the server's public key, base64url.
    pub key: String,
    /// The `aud` claim.
    pub audience: String,
    /// The `sub` claim.
    pub subject: String,
    /// The `exp` claim (Unix seconds).
    pub expires: i64,
}

/// One push as the service received it.
#[derive(Debug, Clone)]
pub struct ReceivedPush {
    /// The endpoint it went to.
    pub endpoint: String,
    /// The status the service answered.
    pub status: u16,
    /// Its headers (names lowercase).
    pub headers: Vec<(String, String)>,
    /// The checked VAPID token, or why it is not valid.
    pub vapid: Result<Vapid, String>,
    /// The decrypted payload, or why it could not be decrypted.
    pub payload: Result<String, String>,
}

impl ReceivedPush {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Keys {
    secret: SecretKey,
    auth: [u8; 16],
    /// What the service answers to pushes to this subscription (201 by default).
    status: u16,
}

#[derive(Default)]
struct Shared {
    subscriptions: HashMap<String, Keys>,
    received: Vec<ReceivedPush>,
}

/// A push service on a loopback port; stopped when dropped.
pub struct PushService {
    port: u16,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
}

impl PushService {
    /// Starts the service on a free loopback port.
    pub fn start() -> PushService {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (accepting, stopping) = (shared.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accepting.clone();
                std::thread::spawn(move || serve(stream, port, &shared));
            }
        });
        PushService { port, shared, stop }
    }

    /// A new subscription, with keys made as a browser makes them (a P-256 key pair, 16 random
    /// bytes).
    pub fn subscribe(&self) -> BrowserSubscription {
        let secret = loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(secret) = SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let auth: [u8; 16] = rand::random();
        let token: [u8; 16] = rand::random();
        let path = format!("/push/{}", URL_SAFE_NO_PAD.encode(token));
        let subscription = BrowserSubscription {
            endpoint: format!("http://127.0.0.1:{}{path}", self.port),
            p256dh: URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            auth: URL_SAFE_NO_PAD.encode(auth),
            path: path.clone(),
        };
        let keys = Keys {
            secret,
            auth,
            status: 201,
        };
        self.lock().subscriptions.insert(path, keys);
        subscription
    }

    /// From now on, pushes to `subscription` are answered with `status` (410: gone).
    pub fn answer(&self, subscription: &BrowserSubscription, status: u16) {
        if let Some(keys) = self.lock().subscriptions.get_mut(&subscription.path) {
            keys.status = status;
        }
    }

    /// Every push received so far, in order of arrival.
    pub fn received(&self) -> Vec<ReceivedPush> {
        self.lock().received.clone()
    }

    /// The pushes received for `subscription`.
    pub fn received_by(&self, subscription: &BrowserSubscription) -> Vec<ReceivedPush> {
        self.received()
            .into_iter()
            .filter(|push| push.endpoint == subscription.endpoint)
            .collect()
    }

    /// `http://127.0.0.1:<port>`: the VAPID tokens' expected audience.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One request: read, checked, recorded, answered.
fn serve(stream: TcpStream, port: u16, shared: &Mutex<Shared>) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(stream) => stream,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length.min(1 << 20)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let origin = format!("http://127.0.0.1:{port}");
    let status = {
        let mut shared = shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match shared.subscriptions.get(&path) {
            Some(keys) if method == "POST" => {
                let authorization = header(&headers, "authorization").unwrap_or_default();
                let vapid = check_vapid(authorization, &origin);
                let payload = decrypt(&body, &keys.secret, &keys.auth);
                // A real push service refuses a push without a valid token; it cannot decrypt.
                let status = if vapid.is_ok() { keys.status } else { 403 };
                shared.received.push(ReceivedPush {
                    endpoint: format!("{origin}{path}"),
                    status,
                    headers: headers.clone(),
                    vapid,
                    payload,
                });
                status
            }
            _ => 404,
        }
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} Push\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.flush();
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// RFC 8292: `vapid t=<JWT>, k=<public key>`; the JWT is ES256 under `k`, for `audience`,
/// expiring within 24 hours, with a `mailto:` or `https:` contact.
fn check_vapid(authorization: &str, audience: &str) -> Result<Vapid, String> {
    let rest = authorization
        .strip_prefix("vapid ")
        .ok_or("not a vapid authorization")?;
    let mut token = None;
    let mut key = None;
    for parameter in rest.split(',') {
        match parameter.trim().split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("k", value)) => key = Some(value),
            _ => return Err(format!("unknown parameter {parameter:?}")),
        }
    }
    let (token, key) = (token.ok_or("no t=")?, key.ok_or("no k=")?);
    let decode = |text: &str| URL_SAFE_NO_PAD.decode(text).map_err(|e| e.to_string());
    let verifying =
        VerifyingKey::from_sec1_bytes(&decode(key)?).map_err(|_| "k is not a P-256 point")?;
    let (signed, signature) = token.rsplit_once('.').ok_or("not a JWT")?;
    let (header, claims) = signed.split_once('.').ok_or("not a JWT")?;
    let signature = Signature::from_slice(&decode(signature)?).map_err(|e| e.to_string())?;
    verifying
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "the ES256 signature does not verify under k")?;
    let header: serde_json::Value =
        serde_json::from_slice(&decode(header)?).map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let claims: serde_json::Value =
        serde_json::from_slice(&decode(claims)?).map_err(|e| e.to_string())?;
    let aud = claims["aud"].as_str().ok_or("no aud")?;
    if aud != audience {
        return Err(format!("aud {aud:?}, not {audience:?}"));
    }
    let sub = claims["sub"].as_str().ok_or("no sub")?;
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err(format!("sub {sub:?}"));
    }
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        });
    if exp <= now || exp > now + 24 * 60 * 60 {
        return Err(format!("exp {exp} is not within 24 hours of {now}"));
    }
    Ok(Vapid {
        key: key.to_owned(),
        audience: aud.to_owned(),
        subject: sub.to_owned(),
        expires: exp,
    })
}

/// RFC 8291 §3.4 and RFC 8188 §2: one `aes128gcm` record, decrypted with the browser's keys.
fn decrypt(body: &[u8], secret: &SecretKey, auth: &[u8; 16]) -> Result<String, String> {
    // The header: salt (16), record size (4), key id length (1), key id (the server's
    // ephemeral public key, 65).
    if body.len() < 21 {
        return Err("shorter than the aes128gcm header".into());
    }
    let (salt, rest) = body.split_at(16);
    let record_size = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    let id_length = usize::from(rest[4]);
    let rest = &rest[5..];
    if id_length != 65 || rest.len() < id_length {
        return Err(format!("a key id of {id_length} bytes, not 65"));
    }
    let (key_id, ciphertext) = rest.split_at(id_length);
    if ciphertext.len() > record_size {
        return Err("more than one record".into());
    }
    let server_public =
        PublicKey::from_sec1_bytes(key_id).map_err(|_| "the key id is not a P-256 point")?;
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), server_public.as_affine());
    let browser_public = secret.public_key().to_encoded_point(false);
    // IKM = HKDF(auth, ecdh_secret, "WebPush: info" ‖ 0 ‖ ua_public ‖ as_public, 32)
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(browser_public.as_bytes());
    key_info.extend_from_slice(key_id);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|e| e.to_string())?;
    // CEK and NONCE from the salt (RFC 8188 §2.2, §2.3).
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .and_then(|()| prk.expand(b"Content-Encoding: nonce\0", &mut nonce))
        .map_err(|e| e.to_string())?;
    let plain = Aes128Gcm::new(&cek.into())
        .decrypt(&Nonce::from(nonce), ciphertext)
        .map_err(|_| "AES-128-GCM refused the record")?;
    // The last record ends with the delimiter 2, then zero padding.
    let end = plain
        .iter()
        .rposition(|&byte| byte != 0)
        .ok_or("no padding delimiter")?;
    if plain[end] != 2 {
        return Err(format!(
            "padding delimiter {}, not 2 (the last record)",
            plain[end]
        ));
    }
    String::from_utf8(plain[..end].to_vec()).map_err(|e| e.to_string())
}
