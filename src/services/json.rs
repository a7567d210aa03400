//! A small, strict JSON reader: a [`serde::Deserializer`] over `&str`, for every body and frame
//! the app receives and every value it reads back from browser storage. Writing stays with
//! `serde_json::to_string`, which is small.
//!
//! Why not `serde_json::from_str`: the app never shows why a body could not be read (any
//! failure becomes "unexpected response body"), yet serde_json's errors format their messages,
//! and that drags float formatting, every visitor's `expecting` text and serde's
//! `Unexpected`/`Expected` printing into the bundle. Here an [`Error`] is a fixed reason: the
//! [`de::Error`] constructors ignore their arguments, so all of that is dead code for the
//! linker. The parser itself is one non-generic core; only the thin [`de::Deserializer`]
//! methods serde requires are instantiated per type.
//!
//! It accepts exactly RFC 8259 JSON (no trailing commas, no leading zeros, no `+1`, `.5` or `1.`,
//! no raw control characters or lone surrogates in strings, nothing after the value) nested at
//! most 127 deep, as serde_json does. The protocol has no floats: a number with a fraction or an
//! exponent (or `-0`, which serde_json reads as a float) is checked and skipped in an unknown
//! field, and refused anywhere a value is wanted. Integers outside `i64`/`u64` are refused.
//!
//! Where it differs from serde_json it is stricter, never looser: skipped values are checked
//! for lone surrogates and depth too, enums are only their unit variants as strings, and a
//! struct is only an object (not an array). The tests check that whatever it accepts,
//! serde_json reads as the same value.

use serde::de::{self, DeserializeSeed, Expected, Unexpected, Visitor};
use std::fmt;

/// Why a text could not be read. Deliberately only a fixed reason: see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error(&'static str);

impl Error {
    const SYNTAX: Error = Error("malformed JSON");
    const EOF: Error = Error("unexpected end of JSON");
    const DEPTH: Error = Error("JSON nested too deeply");
    const TRAILING: Error = Error("trailing characters after the JSON value");
    const STRING: Error = Error("invalid character or escape in a JSON string");
    const TYPE: Error = Error("a JSON value of the wrong type");
    const NUMBER: Error = Error("a number that is not a 64-bit integer");

    /// The fixed reason.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Error {}

// Every constructor is overridden so that none of serde's defaults (which format the
// `Expected` and `Unexpected` arguments) is ever reached.
impl de::Error for Error {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Error("invalid data")
    }
    fn invalid_type(_unexp: Unexpected<'_>, _exp: &dyn Expected) -> Self {
        Error::TYPE
    }
    fn invalid_value(_unexp: Unexpected<'_>, _exp: &dyn Expected) -> Self {
        Error("invalid value")
    }
    fn invalid_length(_len: usize, _exp: &dyn Expected) -> Self {
        Error("invalid length")
    }
    fn unknown_variant(_variant: &str, _expected: &'static [&'static str]) -> Self {
        Error("unknown variant")
    }
    fn unknown_field(_field: &str, _expected: &'static [&'static str]) -> Self {
        Error("unknown field")
    }
    fn missing_field(_field: &'static str) -> Self {
        Error("missing field")
    }
    fn duplicate_field(_field: &'static str) -> Self {
        Error("duplicate field")
    }
}

/// Reads a `T` from the whole of `text` (surrounding white space allowed, nothing else).
pub fn from_str<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, Error> {
    let mut parser = Parser::new(text);
    let value = T::deserialize(&mut parser)?;
    parser.finish()?;
    Ok(value)
}

/// Arrays and objects nested this deep are refused (serde_json's limit: 127 levels pass).
const MAX_DEPTH: u8 = 128;

/// The non-generic core: a cursor over the text.
struct Parser<'de> {
    text: &'de str,
    pos: usize,
    /// Arrays and objects open around the cursor.
    depth: u8,
}

/// A string's contents: borrowed from the text when it has no escapes.
enum Str<'de> {
    Borrowed(&'de str),
    Owned(String),
}

/// A number: a `u64`, a negative `i64`, or anything else (a fraction, an exponent, `-0`, out of
/// range), which is valid JSON but never a value the app wants.
enum Num {
    Pos(u64),
    Neg(i64),
    Other,
}

/// One value's first token. For `Array` and `Object` the bracket is consumed and the depth
/// counted; the caller reads the members and calls [`Parser::end`].
enum Token<'de> {
    Null,
    Bool(bool),
    Str(Str<'de>),
    Num(Num),
    Array,
    Object,
}

impl<'de> Parser<'de> {
    fn new(text: &'de str) -> Self {
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
    fn expect(&mut self, b: u8) -> Result<(), Error> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Error::SYNTAX)
        }
    }

    /// Only white space may follow the value.
    fn finish(&mut self) -> Result<(), Error> {
        self.skip_ws();
        if self.pos == self.text.len() {
            Ok(())
        } else {
            Err(Error::TRAILING)
        }
    }

    /// Reads the next value's first token. Strings are decoded only when `keep`; otherwise
    /// they are checked just as strictly but nothing is allocated and the `Str` is meaningless.
    fn token(&mut self, keep: bool) -> Result<Token<'de>, Error> {
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
    fn end(&mut self, close: u8) -> Result<(), Error> {
        self.expect(close)?;
        self.depth -= 1;
        Ok(())
    }

    /// Whether another member follows in the array or object closed by `close`. Consumes the
    /// separating comma, not the closing bracket; in an object, a key must follow.
    fn next_member(&mut self, first: &mut bool, close: u8) -> Result<bool, Error> {
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
    fn skip(&mut self) -> Result<(), Error> {
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
    fn integer(&mut self) -> Result<Num, Error> {
        match self.token(false)? {
            Token::Num(Num::Other) => Err(Error::NUMBER),
            Token::Num(n) => Ok(n),
            _ => Err(Error::TYPE),
        }
    }

    /// A value that must be a string.
    fn str(&mut self) -> Result<Str<'de>, Error> {
        match self.token(true)? {
            Token::Str(s) => Ok(s),
            _ => Err(Error::TYPE),
        }
    }

    /// A value that must open an array (`[`) or an object (`{`).
    fn open(&mut self, open: u8) -> Result<(), Error> {
        match (self.token(false)?, open) {
            (Token::Array, b'[') | (Token::Object, b'{') => Ok(()),
            _ => Err(Error::TYPE),
        }
    }

    /// Reads `null` if that is what comes next.
    fn null(&mut self) -> Result<bool, Error> {
        self.skip_ws();
        if self.peek() == Some(b'n') {
            self.token(false)?;
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

/// The members of an array or object, handed to a visitor.
struct Members<'p, 'de> {
    parser: &'p mut Parser<'de>,
    first: bool,
}

impl<'de> Parser<'de> {
    /// The rest of an array whose `[` was just read, through the visitor, then its `]`.
    fn visit_array<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let value = visitor.visit_seq(Members {
            parser: &mut *self,
            first: true,
        })?;
        self.end(b']')?;
        Ok(value)
    }

    /// The rest of an object whose `{` was just read, through the visitor, then its `}`.
    fn visit_object<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let value = visitor.visit_map(Members {
            parser: &mut *self,
            first: true,
        })?;
        self.end(b'}')?;
        Ok(value)
    }
}

impl<'de> de::SeqAccess<'de> for Members<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.parser.next_member(&mut self.first, b']')? {
            seed.deserialize(&mut *self.parser).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl<'de> de::MapAccess<'de> for Members<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        // `next_member` has checked that a string comes next.
        if self.parser.next_member(&mut self.first, b'}')? {
            seed.deserialize(&mut *self.parser).map(Some)
        } else {
            Ok(None)
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.parser.expect(b':')?;
        seed.deserialize(&mut *self.parser)
    }
}

impl<'de> de::Deserializer<'de> for &mut Parser<'de> {
    type Error = Error;

    /// Objects, arrays, strings, integers, booleans and null; a float is an error.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.token(true)? {
            Token::Null => visitor.visit_unit(),
            Token::Bool(b) => visitor.visit_bool(b),
            Token::Str(Str::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Token::Str(Str::Owned(s)) => visitor.visit_string(s),
            Token::Num(Num::Pos(n)) => visitor.visit_u64(n),
            Token::Num(Num::Neg(n)) => visitor.visit_i64(n),
            Token::Num(Num::Other) => Err(Error::NUMBER),
            Token::Array => self.visit_array(visitor),
            Token::Object => self.visit_object(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.token(false)? {
            Token::Bool(b) => visitor.visit_bool(b),
            _ => Err(Error::TYPE),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // The visitor checks the range of the narrower types.
        match self.integer()? {
            Num::Pos(n) => visitor.visit_u64(n),
            Num::Neg(n) => visitor.visit_i64(n),
            Num::Other => Err(Error::NUMBER),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.str()? {
            Str::Borrowed(s) => visitor.visit_borrowed_str(s),
            Str::Owned(s) => visitor.visit_string(s),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.null()? {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.token(false)? {
            Token::Null => visitor.visit_unit(),
            _ => Err(Error::TYPE),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.open(b'[')?;
        self.visit_array(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.open(b'{')?;
        self.visit_object(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    /// Unit variants only, as strings (`"doctor"`); the variant's name is read by
    /// [`de::Deserializer::deserialize_identifier`], so anything but a string is refused.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! { f32 f64 bytes byte_buf }
}

impl<'de> de::EnumAccess<'de> for &mut Parser<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let variant = seed.deserialize(&mut *self)?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Parser<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, Error> {
        Err(Error::TYPE)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, Error> {
        Err(Error::TYPE)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(Error::TYPE)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
