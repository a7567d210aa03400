//! Web Push (RFC 8030 / 8291 / 8292): checking a browser's subscription, and sending one
//! encrypted, content-free push to it.
//!
//! The payload is encrypted with RFC 8291's `aes128gcm` by web-push-native (the RustCrypto
//! primitives already in the tree; no hand-written cryptography here); the request carries
//! RFC 8030's `TTL`, `Urgency` and `Topic`, and RFC 8292's `Authorization: vapid t=…, k=…`
//! ([`super::vapid`]). A push service answering 404 or 410 no longer knows the subscription:
//! it is deleted.

use super::push_network::{PublicOnly, Reach, reach};
use super::vapid::VapidKey;
use crate::error::AppError;
use crate::store::StoredPushSubscription;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use colloque_protocol::{MAX_PUSH_ENDPOINT_BYTES, PushSubscriptionRequest};
use std::time::Duration;
use web_push_native::{Auth, WebPushBuilder, p256};

/// How long a push service keeps a push for a browser that is offline (RFC 8030 `TTL`).
const PUSH_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest a push service has to answer.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// A subscription that passed the checks, keys re-encoded base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSubscription {
    /// The push service's URL for this browser.
    pub endpoint: String,
    /// The browser's public key (65 bytes).
    pub p256dh: String,
    /// The authentication secret (16 bytes).
    pub auth: String,
}

/// What became of one push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// The push service took it (2xx).
    Sent,
    /// The push service no longer knows the subscription (404, 410), or it cannot be used.
    Gone,
    /// Anything else: tried again after a wait (`push_pass`: a minute to an hour).
    Failed,
}

impl PushOutcome {
    /// For metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Gone => "gone",
            Self::Failed => "failed",
        }
    }
}

/// Sends pushes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Pusher {
    client: reqwest::Client,
    vapid: VapidKey,
    allow_http_loopback: bool,
}

/// `scheme://host[:port]` of an endpoint: what may be logged of it (its path identifies the
/// browser), and the VAPID token's audience.
pub fn origin(endpoint: &str) -> String {
    let Ok(uri) = endpoint.parse::<axum::http::Uri>() else {
        return "(invalid)".into();
    };
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => "(invalid)".into(),
    }
}

/// What the OpenAPI document says an endpoint is (`routes::push::contract`); [`grammar`] checks
/// the same by hand, and a test compares the two.
pub const ENDPOINT_PATTERN: &str =
    "^https://[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*(:[0-9]{1,4})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$";

/// Whether `endpoint` is a `scheme://` URL as the OpenAPI document promises to accept
/// (`routes::push::contract`, kept in step by hand): a host of labels of letters, digits and
/// hyphens joined by dots, an optional port of 1 to 4 digits, an optional path of URL
/// characters. No user, no query, no fragment. (A loopback test service's port may have 5
/// digits: `port_digits`.)
fn grammar(endpoint: &str, scheme: &str, port_digits: usize) -> bool {
    let Some(rest) = endpoint
        .strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix("://"))
    else {
        return false;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let label = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    host.split('.').all(label)
        && port.is_none_or(|port| {
            (1..=port_digits).contains(&port.len())
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok()
        })
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~%!$&'()*+,;=:@/-".contains(&b))
}

/// `text` re-encoded without padding, if it is `bytes` bytes in base64url, unpadded or with
/// its padding (starting with `first`, if given).
fn key(text: &str, bytes: usize, first: Option<u8>, name: &str) -> Result<String, AppError> {
    let padding = "==".get(..(3 - bytes % 3) % 3).unwrap_or_default();
    let decoded = URL_SAFE_NO_PAD
        .decode(text.strip_suffix(padding).filter(|_| !padding.is_empty()).unwrap_or(text))
        .ok()
        .filter(|decoded| decoded.len() == bytes)
        .filter(|decoded| first.is_none_or(|first| decoded.first() == Some(&first)))
        .ok_or_else(|| match first {
            None => AppError::InvalidInput(format!("keys.{name} must be {bytes} bytes in base64url")),
            Some(_) => AppError::InvalidInput(format!(
                "keys.{name} must be an uncompressed P-256 point (0x04, x, y: {bytes} bytes) in base64url"
            )),
        })?;
    Ok(URL_SAFE_NO_PAD.encode(decoded))
}

impl Pusher {
    /// A sender signing with `vapid`; `allow_http_loopback` (tests and development only) also
    /// accepts `http://127.0.0.1:…` endpoints.
    pub fn new(vapid: VapidKey, allow_http_loopback: bool) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(PUSH_TIMEOUT)
            .dns_resolver(std::sync::Arc::new(PublicOnly))
            // A push service answers; it does not send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            vapid,
            allow_http_loopback,
        })
    }

    /// The VAPID public key, base64url.
    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// Checks a browser's subscription: an `https://` endpoint (with a host, no user, at most
    /// [`MAX_PUSH_ENDPOINT_BYTES`]), a 65-byte uncompressed P-256 key and a 16-byte secret.
    pub fn check(&self, request: &PushSubscriptionRequest) -> Result<ValidSubscription, AppError> {
        let endpoint = request.endpoint.as_str();
        let invalid = || {
            AppError::InvalidInput(format!(
                "endpoint must be an https:// URL of at most {MAX_PUSH_ENDPOINT_BYTES} bytes"
            ))
        };
        let loopback = self.allow_http_loopback
            && (endpoint.starts_with("http://127.0.0.1:")
                || endpoint.starts_with("http://127.0.0.1/"))
            && grammar(endpoint, "http", 5);
        if endpoint.len() > MAX_PUSH_ENDPOINT_BYTES || !(grammar(endpoint, "https", 4) || loopback)
        {
            return Err(invalid());
        }
        // Sending needs it parsed: anything the grammar allows is.
        endpoint.parse::<axum::http::Uri>().map_err(|_| invalid())?;
        Ok(ValidSubscription {
            endpoint: endpoint.to_owned(),
            // 0x04: an uncompressed point.
            p256dh: key(&request.keys.p256dh, 65, Some(4), "p256dh")?,
            auth: key(&request.keys.auth, 16, None, "auth")?,
        })
    }

    /// Sends `payload`, encrypted, to one subscription. Logs the push service's origin at most.
    pub async fn send(&self, subscription: &StoredPushSubscription, payload: &[u8]) -> PushOutcome {
        let service = origin(&subscription.endpoint);
        match self.reach(&subscription.endpoint).await {
            Reach::Public => {}
            Reach::Internal => {
                tracing::warn!(%service, "a push endpoint leads into the server's own network");
                return PushOutcome::Gone;
            }
            Reach::Unknown => {
                tracing::warn!(%service, "a push service's name did not resolve");
                return PushOutcome::Failed;
            }
        }
        let request = match self.request(subscription, payload, &service) {
            Ok(Some(request)) => request,
            Ok(None) => return PushOutcome::Gone,
            Err(error) => {
                tracing::warn!(%error, %service, "a push could not be built");
                return PushOutcome::Failed;
            }
        };
        match self.client.execute(request).await {
            Ok(response) if response.status().is_success() => PushOutcome::Sent,
            Ok(response) if matches!(response.status().as_u16(), 404 | 410) => PushOutcome::Gone,
            Ok(response) => {
                tracing::warn!(status = %response.status(), %service, "a push was refused");
                PushOutcome::Failed
            }
            Err(error) => {
                // Without the URL: its path identifies the browser.
                let error = error.without_url();
                tracing::warn!(%error, %service, "a push failed");
                PushOutcome::Failed
            }
        }
    }

    /// Where `endpoint` leads; the test setting's `http://127.0.0.1` push service counts as
    /// public.
    async fn reach(&self, endpoint: &str) -> Reach {
        let Ok(uri) = endpoint.parse::<axum::http::Uri>() else {
            return Reach::Internal;
        };
        if self.allow_http_loopback && uri.scheme_str() == Some("http") {
            return Reach::Public;
        }
        match uri.host() {
            Some(host) => reach(host).await,
            None => Reach::Internal,
        }
    }

    /// The encrypted request; `None` if the stored keys cannot be used (never sendable).
    fn request(
        &self,
        subscription: &StoredPushSubscription,
        payload: &[u8],
        service: &str,
    ) -> anyhow::Result<Option<reqwest::Request>> {
        let decode = |text: &str| URL_SAFE_NO_PAD.decode(text).ok();
        let (Some(public), Some(auth)) = (decode(&subscription.p256dh), decode(&subscription.auth))
        else {
            return Ok(None);
        };
        // A 65-byte string that is no point of the curve: the browser never made it.
        let Ok(public) = p256::PublicKey::from_sec1_bytes(&public) else {
            return Ok(None);
        };
        let Ok(auth) = <[u8; 16]>::try_from(auth.as_slice()) else {
            return Ok(None);
        };
        let endpoint: axum::http::Uri = subscription.endpoint.parse()?;
        let built = WebPushBuilder::new(endpoint, public, Auth::from(auth))
            .with_valid_duration(PUSH_TTL)
            .build(payload.to_vec())
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        let now_secs = crate::util::now_ms().0 / 1000;
        let (parts, body) = built.into_parts();
        let mut request = self
            .client
            .post(subscription.endpoint.as_str())
            .headers(parts.headers)
            // Delivered when the device is awake anyway (RFC 8030 §5.3): nothing urgent is said.
            .header("Urgency", "normal")
            // A newer push replaces one the push service still holds (RFC 8030 §5.4).
            .header("Topic", "colloque")
            .header(
                reqwest::header::AUTHORIZATION,
                self.vapid.authorization(service, now_secs)?,
            )
            .body(body)
            .build()?;
        *request.timeout_mut() = Some(PUSH_TIMEOUT);
        Ok(Some(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use colloque_protocol::PushSubscriptionKeys;
    use secrecy::SecretString;

    fn pusher(allow_http_loopback: bool) -> Pusher {
        let scalar = SecretString::from(URL_SAFE_NO_PAD.encode([7u8; 32]));
        let vapid = VapidKey::from_scalar(&scalar, "mailto:a@example.org").unwrap();
        Pusher::new(vapid, allow_http_loopback).unwrap()
    }

    fn request(endpoint: &str, p256dh: &str, auth: &str) -> PushSubscriptionRequest {
        PushSubscriptionRequest {
            endpoint: endpoint.into(),
            keys: PushSubscriptionKeys {
                p256dh: p256dh.into(),
                auth: auth.into(),
            },
        }
    }

    fn point() -> String {
        let mut bytes = [1u8; 65];
        bytes[0] = 4;
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn a_subscription_needs_an_https_endpoint_and_keys_of_the_right_lengths() {
        let auth = URL_SAFE_NO_PAD.encode([2u8; 16]);
        let good = "https://fcm.googleapis.com/fcm/send/abc:def";
        let odd = "https://a-b.example:443/p/%zz!$&'()*+,;=:@~._-/";
        assert!(
            pusher(false).check(&request(odd, &point(), &auth)).is_ok(),
            "{odd}"
        );
        let checked = pusher(false)
            .check(&request(good, &point(), &auth))
            .unwrap();
        assert_eq!(checked.endpoint, good);
        let padded = format!("{auth}==");
        assert_eq!(
            pusher(false)
                .check(&request(good, &point(), &padded))
                .unwrap()
                .auth,
            auth,
            "padding is accepted and dropped"
        );
        let long = format!("https://push.example.net/{}", "a".repeat(1_000));
        for endpoint in [
            "http://push.example.net/x",
            "http://127.0.0.1:8080/x",
            "ftp://push.example.net/x",
            "https:///x",
            "https://user@push.example.net/x",
            "https://push.example.net:65536/x",
            "https://push_example.net/x",
            "https://push..example.net/x",
            "https://push.example.net/x?y=1",
            "https://push.example.net/x#y",
            "https://push.example.net/é",
            "push.example.net/x",
            "",
            long.as_str(),
        ] {
            assert!(
                pusher(false)
                    .check(&request(endpoint, &point(), &auth))
                    .is_err(),
                "{endpoint}"
            );
        }
        let compressed = URL_SAFE_NO_PAD.encode([2u8; 65]);
        for (p256dh, auth) in [
            (point(), URL_SAFE_NO_PAD.encode([2u8; 15])),
            (URL_SAFE_NO_PAD.encode([4u8; 64]), auth.clone()),
            (compressed, auth.clone()),
            ("not base64!".into(), auth.clone()),
            (format!("{}==", point()), auth.clone()),
            (point(), format!("{auth}=")),
        ] {
            assert!(pusher(false).check(&request(good, &p256dh, &auth)).is_err());
        }
    }

    proptest::proptest! {
        #[test]
        fn the_grammar_accepts_what_the_documented_pattern_does(
            endpoint in "https://[a-z0-9._:/@%?#é-]{0,12}(:[0-9]{0,6})?(/[a-z%@?#=é/:.-]{0,8})?"
        ) {
            let pattern = regex::Regex::new(ENDPOINT_PATTERN).unwrap();
            proptest::prop_assert_eq!(grammar(&endpoint, "https", 4), pattern.is_match(&endpoint));
            if pattern.is_match(&endpoint) {
                proptest::prop_assert!(endpoint.parse::<axum::http::Uri>().is_ok());
            }
        }
    }

    #[test]
    fn loopback_http_is_accepted_only_when_configured() {
        let auth = URL_SAFE_NO_PAD.encode([2u8; 16]);
        let endpoint = "http://127.0.0.1:4000/push/abc";
        assert!(
            pusher(true)
                .check(&request(endpoint, &point(), &auth))
                .is_ok()
        );
        assert!(
            pusher(false)
                .check(&request(endpoint, &point(), &auth))
                .is_err()
        );
        let elsewhere = "http://push.example.net/push/abc";
        assert!(
            pusher(true)
                .check(&request(elsewhere, &point(), &auth))
                .is_err()
        );
    }

    #[test]
    fn only_the_origin_of_an_endpoint_is_shown() {
        assert_eq!(
            origin("https://updates.push.services.mozilla.com/wpush/v2/gAAAAA"),
            "https://updates.push.services.mozilla.com"
        );
        assert_eq!(origin("http://127.0.0.1:4000/p/x"), "http://127.0.0.1:4000");
    }
}
