//! Text helpers that keep Rust's Unicode tables out of the wasm bundle.

/// Lower-case, as Unicode defines it. In the browser this is JavaScript's `toLowerCase`: Rust's
/// own would ship its Unicode case tables in the bundle (measured with `cargo xtask build`: the
/// red-flag check with `char::to_lowercase` and `char::is_alphanumeric` cost the first load
/// 6.4 KB brotli, 221,740 → 215,327 bytes).
#[cfg(target_arch = "wasm32")]
pub fn lower(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// Lower-case (host builds and tests: Rust's own tables).
#[cfg(not(target_arch = "wasm32"))]
pub fn lower(text: &str) -> String {
    text.to_lowercase()
}

/// Whether `c` belongs to a word: ASCII letters and digits, and every character from U+00C0 on
/// (the accented Latin letters and beyond) except the general punctuation block (U+2000–U+206F:
/// ’ – — … and the like) and × ÷. Without `char::is_alphanumeric`'s Unicode tables; good enough
/// for French and English words, which is what it splits.
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || (c >= '\u{c0}' && !('\u{2000}'..='\u{206f}').contains(&c) && c != '×' && c != '÷')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_letters_and_digits_and_punctuation_splits_them() {
        for c in ['a', 'Z', '7', 'é', 'Ç', 'œ', 'ß', 'ñ'] {
            assert!(is_word_char(c), "{c}");
        }
        for c in [
            ' ', '\'', '’', '-', '–', '—', '…', '«', '»', '\u{a0}', ',', '.', '?', '×',
        ] {
            assert!(!is_word_char(c), "{c:?}");
        }
    }
}
