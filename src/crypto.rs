//! AES-256-GCM through the browser's WebCrypto, for the outbox ([`crate::hooks::outbox`]): what
//! the app keeps of an unsent message in the browser's storage is sealed with the user's
//! outbox key, which the server gives an authenticated session only and which the app holds in
//! memory only. A closed tab leaves ciphertext; a later user of the computer cannot read it.
//!
//! The key is imported into WebCrypto as *non-extractable* on its first use: from then on not
//! even the app's own scripts can read its bytes back, only ask the browser to use it. Each
//! sealing draws a fresh 96-bit IV from the browser's generator (NIST SP 800-38D's size for
//! GCM; with random IVs a key is good for 2^32 sealings, far more than one person writes).
//! The 128-bit tag covers the ciphertext and the caller's additional data, so a byte changed
//! in either — or a ciphertext moved to another entry or another user's outbox — fails to open.

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::CryptoKey;

/// The length of a GCM IV, in bytes.
const IV_BYTES: usize = 12;

/// A user's outbox key, in memory only (never serialised: it has no `Serialize`). Cheap to
/// clone: clones share the one imported key.
#[derive(Clone)]
pub struct OutboxKey(Rc<KeyCell>);

struct KeyCell {
    /// The 32 bytes until the first use imports them; then dropped.
    raw: RefCell<Option<Vec<u8>>>,
    /// The imported, non-extractable key.
    imported: RefCell<Option<CryptoKey>>,
}

impl PartialEq for OutboxKey {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OutboxKey {}

// Never print the key, even in a debug dump.
impl std::fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutboxKey(<redacted>)")
    }
}

/// One sealed value as stored: the IV and the ciphertext with its tag, URL-safe base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The 96-bit IV, fresh for each sealing.
    pub iv: String,
    /// The ciphertext followed by the 128-bit tag.
    pub data: String,
}

impl OutboxKey {
    /// The key the server sent (URL-safe base64 of 32 bytes); `None` if it is not one.
    pub fn from_base64(text: &str) -> Option<OutboxKey> {
        let raw = base64::decode(text).filter(|bytes| bytes.len() == 32)?;
        Some(OutboxKey(Rc::new(KeyCell {
            raw: RefCell::new(Some(raw)),
            imported: RefCell::new(None),
        })))
    }

    /// Seals `plaintext`, bound to `additional_data` (which is not stored: the caller must
    /// give the same to [`Self::open`]). `None` if WebCrypto fails (it should not).
    pub async fn seal(&self, plaintext: &[u8], additional_data: &[u8]) -> Option<Sealed> {
        let key = self.imported().await?;
        let iv = Uint8Array::new_with_length(IV_BYTES as u32);
        web_sys::window()?
            .crypto()
            .ok()?
            .get_random_values_with_array_buffer_view(&iv)
            .ok()?;
        let params = gcm_params(&iv, additional_data)?;
        let promise = subtle()?
            .encrypt_with_object_and_buffer_source(&params, &key, &Uint8Array::from(plaintext))
            .ok()?;
        let data = JsFuture::from(promise).await.ok()?;
        Some(Sealed {
            iv: base64::encode(&iv.to_vec()),
            data: base64::encode(&Uint8Array::new(&data).to_vec()),
        })
    }

    /// Opens what [`Self::seal`] made with this key and the same additional data; `None` when
    /// it cannot: another key (rotated), changed bytes, other additional data, or not base64.
    pub async fn open(&self, sealed: &Sealed, additional_data: &[u8]) -> Option<Vec<u8>> {
        let iv = base64::decode(&sealed.iv).filter(|iv| iv.len() == IV_BYTES)?;
        let data = base64::decode(&sealed.data)?;
        let key = self.imported().await?;
        let params = gcm_params(&Uint8Array::from(iv.as_slice()), additional_data)?;
        let promise = subtle()?
            .decrypt_with_object_and_buffer_source(
                &params,
                &key,
                &Uint8Array::from(data.as_slice()),
            )
            .ok()?;
        let plain = JsFuture::from(promise).await.ok()?;
        Some(Uint8Array::new(&plain).to_vec())
    }

    /// The WebCrypto key, imported (non-extractable) at the first use.
    async fn imported(&self) -> Option<CryptoKey> {
        if let Some(key) = self.0.imported.borrow().clone() {
            return Some(key);
        }
        let raw = self.0.raw.borrow().clone()?;
        let algorithm = Object::new();
        Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into()).ok()?;
        let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
        let promise = subtle()?
            .import_key_with_object(
                "raw",
                &Uint8Array::from(raw.as_slice()),
                &algorithm,
                false,
                &usages,
            )
            .ok()?;
        let key: CryptoKey = JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
        // Two first uses at once both import; either key is the same key.
        *self.0.imported.borrow_mut() = Some(key.clone());
        self.0.raw.borrow_mut().take();
        Some(key)
    }
}

fn subtle() -> Option<web_sys::SubtleCrypto> {
    Some(web_sys::window()?.crypto().ok()?.subtle())
}

/// `{name: "AES-GCM", iv, additionalData, tagLength: 128}`.
fn gcm_params(iv: &Uint8Array, additional_data: &[u8]) -> Option<Object> {
    let params = Object::new();
    let set = |name: &str, value: &JsValue| Reflect::set(&params, &name.into(), value).ok();
    set("name", &"AES-GCM".into())?;
    set("iv", iv)?;
    set("additionalData", &Uint8Array::from(additional_data))?;
    set("tagLength", &JsValue::from(128))?;
    Some(params)
}

/// URL-safe base64 without padding (RFC 4648 §5), as the server writes the key. A few lines
/// here rather than a crate in the wasm bundle.
pub mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// Encodes, without padding.
    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            }
        }
        out
    }

    /// Decodes; `None` for a character outside the alphabet, padding, or an impossible length.
    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        for chunk in text.as_bytes().chunks(4) {
            if chunk.len() == 1 {
                return None;
            }
            let mut n = 0u32;
            for (i, c) in chunk.iter().enumerate() {
                let value = ALPHABET.iter().position(|a| a == c)? as u32;
                n |= value << (18 - 6 * i);
            }
            for i in 0..chunk.len() - 1 {
                out.push((n >> (16 - 8 * i)) as u8);
            }
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn encoding_follows_rfc_4648_url_safe_without_padding() {
            // RFC 4648 §10's vectors, padding removed.
            for (plain, encoded) in [
                ("", ""),
                ("f", "Zg"),
                ("fo", "Zm8"),
                ("foo", "Zm9v"),
                ("foob", "Zm9vYg"),
                ("fooba", "Zm9vYmE"),
                ("foobar", "Zm9vYmFy"),
            ] {
                assert_eq!(encode(plain.as_bytes()), encoded);
                assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
            }
            assert_eq!(encode(&[0xfb, 0xff]), "-_8", "the URL-safe letters");
            let all: Vec<u8> = (0..=255).collect();
            assert_eq!(decode(&encode(&all)).unwrap(), all);
        }

        #[test]
        fn anything_but_url_safe_base64_is_refused() {
            for bad in ["Zg==", "Zm9v+", "Zm9v/", "Z", "Zm9vY", "é"] {
                assert_eq!(decode(bad), None, "{bad}");
            }
        }
    }
}
