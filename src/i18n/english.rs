//! The English words of a build that does not carry them (the first load): `/en.json`, fetched
//! once when English is chosen and kept for the page's life.

use super::{FINGERPRINT, Key};
use std::sync::OnceLock;

static WORDS: OnceLock<Box<[String]>> = OnceLock::new();

/// FNV-1a over every word, each followed by a 0 byte (no word holds one).
pub const fn fingerprint(fr: &[&str], en: &[&str]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    let lists = [fr, en];
    let mut l = 0;
    while l < lists.len() {
        let mut w = 0;
        while w < lists[l].len() {
            let bytes = lists[l][w].as_bytes();
            let mut b = 0;
            while b <= bytes.len() {
                let byte = if b < bytes.len() { bytes[b] } else { 0 };
                hash = (hash ^ byte as u32).wrapping_mul(0x0100_0193);
                b += 1;
            }
            w += 1;
        }
        l += 1;
    }
    hash
}

/// The fingerprint as `/en.json` writes it first.
pub fn fingerprint_text() -> String {
    format!("{FINGERPRINT:08x}")
}

/// Whether English can be shown now: compiled in, or fetched already.
pub fn ready() -> bool {
    cfg!(any(not(target_arch = "wasm32"), feature = "second-build")) || WORDS.get().is_some()
}

/// Keeps the words of `/en.json` (its fingerprint, then a word per key) if they are this
/// build's; false when they are not (another build's file, or not a word list).
pub fn install(mut file: Vec<String>) -> bool {
    if file.len() != Key::ALL.len() + 1 || file[0] != fingerprint_text() {
        return false;
    }
    file.remove(0);
    // Already kept (a second click while the first fetch was on its way): the same words.
    let _ = WORDS.set(file.into_boxed_slice());
    true
}

/// The fetched English word of key number `index`.
pub fn word(index: usize) -> Option<&'static str> {
    WORDS.get()?.get(index).map(String::as_str)
}
