//! The server's VAPID key (RFC 8292): a P-256 key whose public half browsers are given as
//! `applicationServerKey`, and which signs, for each push, a short-lived ES256 token naming
//! the push service (`aud`), an expiry and a contact (`sub`).
//!
//! The key comes from `COLLOQUE_VAPID_PRIVATE_KEY` (environment only, as the JWT secret: a
//! command line is visible to every local user), the P-256 scalar in base64url; without it, one
//! is generated once into `<data_dir>/vapid_private_key` (mode 0600) and reused. Every browser
//! subscribed with one key must be sent pushes signed by it: replicas must share it.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use secrecy::{ExposeSecret, SecretString};

use std::path::Path;

/// How long a VAPID token is valid (RFC 8292 allows at most 24 hours).
const TOKEN_LIFETIME_SECS: i64 = 12 * 60 * 60;

/// The VAPID key pair and contact. Cheap to clone.
#[derive(Clone)]
pub struct VapidKey {
    signing: EncodingKey,
    public_key: String,
    subject: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public_key", &self.public_key)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

impl VapidKey {
    /// The key of a base64url P-256 scalar (32 bytes), with `subject` (`mailto:…` or
    /// `https://…`) as contact.
    pub fn from_scalar(scalar: &SecretString, subject: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            subject.starts_with("mailto:") || subject.starts_with("https://"),
            "--vapid-subject must be a mailto: or https: URL (RFC 8292), not {subject:?}"
        );
        let bytes = URL_SAFE_NO_PAD
            .decode(scalar.expose_secret().trim().trim_end_matches('='))
            .ok()
            .filter(|bytes| bytes.len() == 32)
            .context("the VAPID private key must be a P-256 scalar: 32 bytes in base64url")?;
        let secret = p256::SecretKey::from_slice(&bytes)
            .context("the VAPID private key is not a valid P-256 scalar")?;
        let der = secret
            .to_pkcs8_der()
            .context("failed to encode the VAPID key")?;
        let public_key =
            URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Ok(Self {
            signing: EncodingKey::from_ec_der(der.as_bytes()),
            public_key,
            subject: subject.to_owned(),
        })
    }

    /// The key in `path`, generated there first if the file does not exist.
    pub fn load_or_create(path: &Path, subject: &str) -> anyhow::Result<Self> {
        let scalar = match std::fs::read_to_string(path) {
            Ok(text) => SecretString::from(text.trim().to_owned()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(path)?,
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("failed to read the VAPID key {}", path.display()));
            }
        };
        Self::from_scalar(&scalar, subject)
            .with_context(|| format!("in the VAPID key file {}", path.display()))
    }

    /// The public key, uncompressed (65 bytes), base64url without padding.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header's value for a push to the service at `audience` (its origin,
    /// `https://push.example.net`), valid from `now_secs` (Unix time) for 12 hours.
    pub fn authorization(&self, audience: &str, now_secs: i64) -> anyhow::Result<String> {
        let claims = Claims {
            aud: audience,
            exp: now_secs + TOKEN_LIFETIME_SECS,
            sub: &self.subject,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.signing)
            .context("failed to sign a VAPID token")?;
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }
}

fn create(path: &Path) -> anyhow::Result<SecretString> {
    let secret = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
            break secret;
        }
    };
    let text = URL_SAFE_NO_PAD.encode(secret.to_bytes());
    crate::auth::write_new_secret(path, &text, "VAPID key")?;
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};

    #[test]
    fn a_generated_key_is_kept_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vapid_private_key");
        let first = VapidKey::load_or_create(&path, "mailto:a@example.org").unwrap();
        let again = VapidKey::load_or_create(&path, "mailto:a@example.org").unwrap();
        assert_eq!(first.public_key(), again.public_key());
        let point = URL_SAFE_NO_PAD.decode(first.public_key()).unwrap();
        assert_eq!((point.len(), point[0]), (65, 4), "an uncompressed point");
    }

    #[test]
    fn a_bad_key_or_subject_is_refused() {
        let good = SecretString::from(URL_SAFE_NO_PAD.encode([7u8; 32]));
        assert!(VapidKey::from_scalar(&good, "mailto:a@example.org").is_ok());
        assert!(VapidKey::from_scalar(&good, "a@example.org").is_err());
        assert!(VapidKey::from_scalar(&good, "http://example.org").is_err());
        for bad in ["", "AAAA", &URL_SAFE_NO_PAD.encode([0u8; 32])] {
            let bad = SecretString::from(bad.to_owned());
            assert!(VapidKey::from_scalar(&bad, "mailto:a@example.org").is_err());
        }
    }

    #[test]
    fn the_token_is_es256_over_the_audience_with_the_public_key() {
        let scalar = SecretString::from(URL_SAFE_NO_PAD.encode([7u8; 32]));
        let key = VapidKey::from_scalar(&scalar, "mailto:a@example.org").unwrap();
        let header = key
            .authorization("https://push.example.net", 1_000)
            .unwrap();
        let (token, k) = header
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .unwrap();
        assert_eq!(k, key.public_key());
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
        verifying.verify(signed.as_bytes(), &signature).unwrap();
        let claims = URL_SAFE_NO_PAD
            .decode(signed.split_once('.').unwrap().1)
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({"aud": "https://push.example.net", "exp": 1_000 + 12 * 3600,
                               "sub": "mailto:a@example.org"})
        );
    }
}
