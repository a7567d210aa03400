//! The non-generic core of the reader: a cursor over the text that reads one token at a time
//! (literals, numbers, strings with their escapes, brackets) and skips whole values, checking
//! everything as strictly as the `json` module docs promise. Serde reaches it only through
//! `deserializer`.

use super::Error;

/// Arrays and objects nested this deep are refused (serde_json's limit: 127 levels pass).
const MAX_DEPTH: u8 = 128;

/// The non-generic core: a cursor over the text.
pub(super) struct Parser<'de> {
    text: &'de str,
    pos: usize,
    /// Arrays and objects open around the cursor.
    depth: u8,
}

/// A string's contents: borrowed from the text when it has no escapes.
pub(super) enum Str<'de> {
    Borrowed(&'de str),
    Owned(String),
}

/// A number: a `u64`, a negative `i64`, or anything else (a fraction, an exponent, `-0`, out of
/// range), which is valid JSON but never a value the app wants.
pub(super) enum Num {
    Pos(u64),
    Neg(i64),
    Other,
}

/// One value's first token. For `Array` and `Object` the bracket is consumed and the depth
/// counted; the caller reads the members and calls [`Parser::end`].
pub(super) enum Token<'de> {
    Null,
    Bool(bool),
    Str(Str<'de>),
    Num(Num),
    Array,
    Object,
}

impl<'de> Parser<'de> {
    pub(super) fn new(text: &'de str) -> Self {
        Parser {
            text,
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next_byte(&mut self) -> Result<u8, Error> {
        let b = self.peek().ok_or(Error::EOF)?;
        self.pos += 1;
        Ok(b)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// After white space, `b` must come next.
    pub(super) fn expect(&mut self, b: u8) -> Result<(), Error> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Error::SYNTAX)
        }
    }

    /// Only white space may follow the value.
    pub(super) fn finish(&mut self) -> Result<(), Error> {
        self.skip_ws();
        if self.pos == self.text.len() {
            Ok(())
        } else {
            Err(Error::TRAILING)
        }
    }

    /// Reads the next value's first token. Strings are decoded only when `keep`; otherwise
    /// they are checked just as strictly but nothing is allocated and the `Str` is meaningless.
    pub(super) fn token(&mut self, keep: bool) -> Result<Token<'de>, Error> {
        self.skip_ws();
        Ok(match self.next_byte()? {
            b'n' => self.literal(b"ull", Token::Null)?,
            b't' => self.literal(b"rue", Token::Bool(true))?,
            b'f' => self.literal(b"alse", Token::Bool(false))?,
            b'"' => Token::Str(self.string(keep)?),
            b @ (b'-' | b'0'..=b'9') => Token::Num(self.number(b)?),
            b @ (b'[' | b'{') => {
                self.depth += 1;
                if self.depth >= MAX_DEPTH {
                    return Err(Error::DEPTH);
                }
                if b == b'[' {
                    Token::Array
                } else {
                    Token::Object
                }
            }
            _ => return Err(Error::SYNTAX),
        })
    }

    fn literal(&mut self, rest: &[u8], token: Token<'de>) -> Result<Token<'de>, Error> {
        let end = self.pos + rest.len();
        if self.text.as_bytes().get(self.pos..end) == Some(rest) {
            self.pos = end;
            Ok(token)
        } else {
            Err(Error::SYNTAX)
        }
    }

    /// The closing bracket of an array or object whose members have all been read.
    pub(super) fn end(&mut self, close: u8) -> Result<(), Error> {
        self.expect(close)?;
        self.depth -= 1;
        Ok(())
    }

    /// Whether another member follows in the array or object closed by `close`. Consumes the
    /// separating comma, not the closing bracket; in an object, a key must follow.
    pub(super) fn next_member(&mut self, first: &mut bool, close: u8) -> Result<bool, Error> {
        self.skip_ws();
        if self.peek() == Some(close) {
            return Ok(false);
        }
        if !*first {
            self.expect(b',')?;
            self.skip_ws();
        }
        *first = false;
        if close == b'}' && self.peek() != Some(b'"') {
            return Err(Error::SYNTAX);
        }
        Ok(true)
    }

    /// The rest of a number whose first byte (`-` or a digit) is read.
    fn number(&mut self, first: u8) -> Result<Num, Error> {
        let negative = first == b'-';
        let lead = if negative { self.next_byte()? } else { first };
        if !lead.is_ascii_digit() {
            return Err(Error::SYNTAX);
        }
        // `None` once it no longer fits in a u64.
        let mut magnitude = Some(u64::from(lead - b'0'));
        if lead == b'0' {
            if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return Err(Error::SYNTAX);
            }
        } else {
            while let Some(d @ b'0'..=b'9') = self.peek() {
                self.pos += 1;
                magnitude = magnitude
                    .and_then(|m| m.checked_mul(10))
                    .and_then(|m| m.checked_add(u64::from(d - b'0')));
            }
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits()?;
            integer = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
            integer = false;
        }
        Ok(match magnitude {
            Some(m) if integer && !negative => Num::Pos(m),
            // 2^63 wraps to i64::MIN, which is its own negation: exactly right.
            Some(m) if integer && m != 0 && m <= 1 << 63 => Num::Neg((m as i64).wrapping_neg()),
            _ => Num::Other,
        })
    }

    /// One or more digits (of a fraction or an exponent).
    fn digits(&mut self) -> Result<(), Error> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            Err(Error::SYNTAX)
        } else {
            Ok(())
        }
    }

    /// The rest of a string whose opening quote is read. Every slice taken starts and ends
    /// next to an ASCII byte, so it falls on character boundaries.
    fn string(&mut self, keep: bool) -> Result<Str<'de>, Error> {
        let text = self.text;
        let mut run = self.pos;
        let mut owned: Option<String> = None;
        loop {
            match self.next_byte()? {
                b'"' => {
                    let tail = text.get(run..self.pos - 1).ok_or(Error::STRING)?;
                    return Ok(match owned {
                        None => Str::Borrowed(tail),
                        Some(mut s) => {
                            s.push_str(tail);
                            Str::Owned(s)
                        }
                    });
                }
                b'\\' => {
                    let before = text.get(run..self.pos - 1).ok_or(Error::STRING)?;
                    let c = self.escape()?;
                    if keep {
                        let s = owned.get_or_insert_with(String::new);
                        s.push_str(before);
                        s.push(c);
                    }
                    run = self.pos;
                }
                0..=0x1f => return Err(Error::STRING),
                _ => {}
            }
        }
    }

    /// The character of an escape whose backslash is read. A `\u` surrogate must be a high one
    /// immediately followed by a `\u` low one.
    fn escape(&mut self) -> Result<char, Error> {
        Ok(match self.next_byte()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let mut code = self.hex4()?;
                if (0xD800..0xDC00).contains(&code) {
                    if self.next_byte()? != b'\\' || self.next_byte()? != b'u' {
                        return Err(Error::STRING);
                    }
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(Error::STRING);
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                }
                // A lone low surrogate is not a char.
                char::from_u32(code).ok_or(Error::STRING)?
            }
            _ => return Err(Error::STRING),
        })
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = char::from(self.next_byte()?)
                .to_digit(16)
                .ok_or(Error::STRING)?;
            code = code * 16 + digit;
        }
        Ok(code)
    }

    /// Skips one value of any kind, checking it as strictly as if it were read, without
    /// allocating. Recursion is bounded by [`MAX_DEPTH`].
    pub(super) fn skip(&mut self) -> Result<(), Error> {
        let close = match self.token(false)? {
            Token::Array => b']',
            Token::Object => b'}',
            _ => return Ok(()),
        };
        let mut first = true;
        while self.next_member(&mut first, close)? {
            if close == b'}' {
                self.token(false)?;
                self.expect(b':')?;
            }
            self.skip()?;
        }
        self.end(close)
    }

    /// A value that must be a 64-bit integer.
    pub(super) fn integer(&mut self) -> Result<Num, Error> {
        match self.token(false)? {
            Token::Num(Num::Other) => Err(Error::NUMBER),
            Token::Num(n) => Ok(n),
            _ => Err(Error::TYPE),
        }
    }

    /// A value that must be a string.
    pub(super) fn str(&mut self) -> Result<Str<'de>, Error> {
        match self.token(true)? {
            Token::Str(s) => Ok(s),
            _ => Err(Error::TYPE),
        }
    }

    /// A value that must open an array (`[`) or an object (`{`).
    pub(super) fn open(&mut self, open: u8) -> Result<(), Error> {
        match (self.token(false)?, open) {
            (Token::Array, b'[') | (Token::Object, b'{') => Ok(()),
            _ => Err(Error::TYPE),
        }
    }

    /// Reads `null` if that is what comes next.
    pub(super) fn null(&mut self) -> Result<bool, Error> {
        self.skip_ws();
        if self.peek() == Some(b'n') {
            self.token(false)?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
}
