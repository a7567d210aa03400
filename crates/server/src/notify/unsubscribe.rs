//! The one-click unsubscribe token (RFC 8058): `<user id>.<tag>`, the tag an HMAC-SHA256 of
//! the user id under a key derived from the server secret. It never expires (an old e-mail's
//! link must keep working) and only ever turns e-mail off.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use colloque_protocol::UserId;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// HKDF's salt: names the scheme, so the same server secret gives other keys elsewhere.
const SALT: &[u8] = b"colloque-unsubscribe-v1";

/// The tag's length in bytes (128 bits).
const TAG_BYTES: usize = 16;

/// The key of unsubscribe tokens.
#[derive(Clone)]
pub struct UnsubscribeKey([u8; 32]);

impl UnsubscribeKey {
    /// Derives the key from the server secret.
    pub fn derive(secret: &SecretString) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(SALT), secret.expose_secret().as_bytes());
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit: this cannot fail.
        hkdf.expand(b"unsubscribe token", &mut key)
            .expect("a 32-byte HKDF output");
        Self(key)
    }

    fn tag(&self, user: UserId) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(&user.0.to_be_bytes());
        mac
    }

    /// The token of `user`.
    pub fn token(&self, user: UserId) -> String {
        let tag = self.tag(user).finalize().into_bytes();
        format!("{}.{}", user.0, URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES]))
    }

    /// The user a token names, if its tag is right (compared in constant time).
    pub fn verify(&self, token: &str) -> Option<UserId> {
        let (id, tag) = token.split_once('.')?;
        let user = UserId(id.parse().ok().filter(|id: &i64| *id > 0)?);
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        self.tag(user).verify_truncated_left(&tag).ok()?;
        Some(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(secret: &str) -> UnsubscribeKey {
        UnsubscribeKey::derive(&SecretString::from(secret))
    }

    #[test]
    fn a_token_names_its_user_and_nothing_else_passes() {
        let key = key("a server secret that is long enough");
        let token = key.token(UserId(42));
        assert_eq!(key.verify(&token), Some(UserId(42)));
        let (_, tag) = token.split_once('.').unwrap();
        assert_eq!(key.verify(&format!("43.{tag}")), None, "another user's id");
        assert_eq!(key.verify("42."), None, "no tag");
        assert_eq!(
            key.verify(&format!("42.{}", &tag[..10])),
            None,
            "a short tag"
        );
        assert_eq!(key.verify("42"), None, "no dot");
        assert_eq!(key.verify(&format!("-1.{tag}")), None, "a negative id");
        let other = self::key("another server secret, just as long");
        assert_eq!(other.verify(&token), None, "another server's token");
    }
}
