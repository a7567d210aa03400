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

mod deserializer;
mod parser;

use parser::Parser;
use serde::de::{self, Expected, Unexpected};
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
