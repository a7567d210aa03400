//! Small typed ids and time values, so a user id can never be passed where a conversation id
//! is expected. All serialize as plain JSON numbers (or a UUID string for [`ClientMsgId`]).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! int_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

int_id!(
    /// A user (patient or doctor).
    UserId
);
int_id!(
    /// A conversation between one patient and one doctor.
    ConversationId
);
int_id!(
    /// A stored message, unique across the whole server.
    MessageId
);
int_id!(
    /// An appointment between one patient and one doctor.
    AppointmentId
);

/// A message's position in its conversation: 1 for the first message, then +1 each, no gaps.
/// `Seq(0)` means "before the first message" (e.g. a read cursor that has read nothing).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Seq(pub i64);

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Milliseconds since the Unix epoch, UTC.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// The id a client gives a message before sending it (a UUID, normally v4).
///
/// The server stores it with the message and treats (sender, client id) as unique, so sending
/// the same message twice (a retry after a lost ack, a second tab) stores it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ClientMsgId(pub uuid::Uuid);

impl fmt::Display for ClientMsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An uploaded attachment: a random UUID (v4), so that ids cannot be guessed nor counted.
/// Anyone but the uploader (before sending) and the two participants of the message's
/// conversation gets 404 for it, whether or not it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct AttachmentId(pub uuid::Uuid);

impl fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The public name of a session: what the sessions page shows and ends, and the last segment
/// of the session's refresh route. Not a credential (it opens nothing by itself), and not the
/// session id carried inside access tokens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct SessionHandle(pub String);

/// The logged-in user's outbox key: 256 random bits, URL-safe base64 without padding (43
/// characters). The app encrypts the messages it has not sent yet with it (AES-256-GCM) before
/// it keeps them in the browser's storage, and holds the key in memory only. The server gives
/// it in the answer to a login and to each refresh, never anywhere else; it is the same for
/// every session of the user until an administrator rotates it. A secret: never logged, never
/// in a URL, never stored by the app.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct OutboxKey(pub String);

// Never print the key, even in a debug dump.
impl fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OutboxKey(<redacted>)")
    }
}

impl fmt::Display for SessionHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Integers in request bodies, read as JSON Schema reads them: `3` and `3.0` are the same
/// integer there, so the OpenAPI document's `"type": "integer"` admits both, and a client (or a
/// JSON library) that writes `3.0` must not be refused. Used with `deserialize_with` on the
/// fields of REST request bodies only, which the app never reads.
pub mod integral {
    use super::{Seq, UserId};
    use serde::Deserializer;
    use serde::de::{Error, Unexpected, Visitor};
    use std::fmt;

    struct Integer;

    impl Visitor<'_> for Integer {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer")
        }

        fn visit_i64<E: Error>(self, value: i64) -> Result<i64, E> {
            Ok(value)
        }

        fn visit_u64<E: Error>(self, value: u64) -> Result<i64, E> {
            i64::try_from(value).map_err(|_| E::invalid_value(Unexpected::Unsigned(value), &self))
        }

        fn visit_f64<E: Error>(self, value: f64) -> Result<i64, E> {
            // A number written with a fraction or an exponent, or an integer outside i64 and
            // u64, reaches here as the nearest float: beyond 2^53 that may be another integer
            // than the one written (-9223372036854775809 arrives as -2^63, i64::MIN; found by
            // the contract fuzzing). Floats count every integer up to 2^53: `3.0` and `1e1`
            // are read there, a larger id must be written as an integer.
            const EXACT: f64 = 9_007_199_254_740_992.0;
            if value.fract() == 0.0 && (-EXACT..=EXACT).contains(&value) {
                Ok(value as i64)
            } else {
                Err(E::invalid_value(Unexpected::Float(value), &self))
            }
        }
    }

    /// An `i64`, from `3` or `3.0`.
    pub fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        deserializer.deserialize_i64(Integer)
    }

    /// A [`Seq`], from `3` or `3.0`.
    pub fn seq<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Seq, D::Error> {
        integer(deserializer).map(Seq)
    }

    /// A [`UserId`], from `3` or `3.0`.
    pub fn user_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<UserId, D::Error> {
        integer(deserializer).map(UserId)
    }

    /// An optional [`UserId`], from `3`, `3.0` or `null`.
    pub fn option_user_id<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<UserId>, D::Error> {
        #[derive(serde::Deserialize)]
        struct Whole(#[serde(deserialize_with = "integer")] i64);
        let whole: Option<Whole> = serde::Deserialize::deserialize(deserializer)?;
        Ok(whole.map(|Whole(value)| UserId(value)))
    }

    /// An optional `u32`, from `3`, `3.0` or `null`.
    pub fn option_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
        #[derive(serde::Deserialize)]
        struct Whole(#[serde(deserialize_with = "integer")] i64);
        let whole: Option<Whole> = serde::Deserialize::deserialize(deserializer)?;
        whole
            .map(|Whole(value)| {
                u32::try_from(value)
                    .map_err(|_| D::Error::invalid_value(Unexpected::Signed(value), &"a u32"))
            })
            .transpose()
    }
}
