//! The two server-side keys of multi-factor authentication, both derived from the server's
//! secret (`COLLOQUE_JWT_SECRET`) with HKDF-SHA256, each for one purpose:
//! - the key that encrypts each TOTP secret at rest (AES-256-GCM, a random 96-bit nonce per
//!   encryption, the user id as associated data so that a ciphertext moved to another row does
//!   not open);
//! - the key of the recovery codes' HMAC-SHA256.
//!
//! A copy of the database alone (a backup, a dump) then holds neither a usable TOTP secret
//! nor a way to test guesses of recovery codes. Rotating the server secret makes the stored
//! TOTP secrets unreadable: every enrolled account must enrol again (docs/security.md).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use anyhow::Context;
use base64::Engine;
use colloque_protocol::UserId;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::sync::Arc;

/// HKDF's salt: names the scheme, so that the same server secret gives other keys elsewhere.
const SALT: &[u8] = b"colloque-mfa-v1";
const NONCE_BYTES: usize = 12;

/// Cheap to clone.
#[derive(Clone)]
pub struct MfaKeys(Arc<Keys>);

struct Keys {
    cipher: Aes256Gcm,
    recovery: [u8; 32],
}

impl MfaKeys {
    /// Derives both keys from the server secret.
    pub fn derive(secret: &SecretString) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(SALT), secret.expose_secret().as_bytes());
        let mut encryption = [0u8; 32];
        let mut recovery = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit (255 × 32): these cannot fail.
        hkdf.expand(b"totp secret encryption", &mut encryption)
            .expect("a 32-byte HKDF output");
        hkdf.expand(b"recovery code hmac", &mut recovery)
            .expect("a 32-byte HKDF output");
        let cipher = Aes256Gcm::new_from_slice(&encryption).expect("a 32-byte AES-256 key");
        Self(Arc::new(Keys { cipher, recovery }))
    }

    /// Encrypts `user`'s TOTP secret: base64 of nonce || ciphertext (with its tag).
    pub fn seal(&self, user: UserId, secret: &[u8]) -> anyhow::Result<String> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let aad = user.0.to_be_bytes();
        let sealed = self
            .0
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("failed to encrypt a TOTP secret"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes))
    }

    /// Decrypts what [`Self::seal`] gave for `user`. Fails if it was sealed for another user,
    /// under another key (the server secret changed), or altered.
    pub fn open(&self, user: UserId, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(sealed)
            .context("a stored TOTP secret is not base64")?;
        anyhow::ensure!(
            bytes.len() > NONCE_BYTES,
            "a stored TOTP secret is too short"
        );
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().context("a nonce's length")?;
        let aad = user.0.to_be_bytes();
        self.0
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "a stored TOTP secret does not decrypt (was the server secret changed?)"
                )
            })
    }

    /// The keyed hash of `user`'s recovery code (normalised), hex.
    pub fn recovery_hash(&self, user: UserId, code: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0.recovery)
            .expect("HMAC takes a key of any length");
        mac.update(&user.0.to_be_bytes());
        mac.update(code.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> MfaKeys {
        MfaKeys::derive(&SecretString::from(secret))
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_and_under_its_key() {
        let one = keys("the first server secret, long enough");
        let sealed = one.seal(UserId(7), b"twenty bytes secret!").unwrap();
        assert!(!sealed.contains("twenty"));
        assert_eq!(
            one.open(UserId(7), &sealed).unwrap(),
            b"twenty bytes secret!"
        );
        assert!(one.open(UserId(8), &sealed).is_err(), "another user's row");
        let other = keys("another server secret, long enough!");
        assert!(other.open(UserId(7), &sealed).is_err(), "another key");
        assert_ne!(
            sealed,
            one.seal(UserId(7), b"twenty bytes secret!").unwrap(),
            "a fresh nonce each time"
        );
        let mut bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&sealed)
            .unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
        assert!(one.open(UserId(7), &altered).is_err(), "altered");
    }

    #[test]
    fn a_recovery_hash_depends_on_the_key_the_user_and_the_code() {
        let one = keys("the first server secret, long enough");
        let hash = one.recovery_hash(UserId(1), "ABCDEFGHIJKLMNOP");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, one.recovery_hash(UserId(1), "ABCDEFGHIJKLMNOP"));
        assert_ne!(hash, one.recovery_hash(UserId(2), "ABCDEFGHIJKLMNOP"));
        assert_ne!(hash, one.recovery_hash(UserId(1), "ABCDEFGHIJKLMNOQ"));
        let other = keys("another server secret, long enough!");
        assert_ne!(hash, other.recovery_hash(UserId(1), "ABCDEFGHIJKLMNOP"));
    }
}
