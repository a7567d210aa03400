//! Web Push (RFC 8030 / 8291 / 8292): the server's VAPID key and each browser's subscription.
//!
//! | method | path | request | response |
//! |---|---|---|---|
//! | GET | `/api/push/key` | – | [`PushKey`] |
//! | GET | `/api/me/push-subscriptions` | – | `Vec<`[`PushSubscription`]`>` |
//! | POST | `/api/me/push-subscriptions` | [`PushSubscriptionRequest`] | 201 [`PushSubscription`] |
//! | DELETE | `/api/me/push-subscriptions/{id}` | – | 204 |
//!
//! A push says only what every notification says ([`crate::NOTICE_FR`]), with a link: its
//! decrypted payload is a [`PushNotice`].

use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// At most this many browsers subscribed per user; one more is `409 limit_reached`.
pub const MAX_PUSH_SUBSCRIPTIONS: usize = 10;

/// The longest push endpoint accepted, in bytes.
pub const MAX_PUSH_ENDPOINT_BYTES: usize = 1_000;

/// The server's VAPID public key (RFC 8292), to pass as `applicationServerKey` to
/// `PushManager.subscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKey {
    /// The uncompressed P-256 point (65 bytes, `0x04 ‖ x ‖ y`), base64url without padding.
    pub public_key: String,
}

/// A browser's subscription, as `PushSubscription.toJSON()` gives it (its `expirationTime`,
/// if sent, is ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscriptionRequest {
    /// The push service's URL for this browser (`https://…`).
    pub endpoint: String,
    /// The browser's keys.
    pub keys: PushSubscriptionKeys,
}

/// The keys a browser gives with its subscription (RFC 8291), base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscriptionKeys {
    /// The browser's P-256 public key, uncompressed (65 bytes).
    pub p256dh: String,
    /// The authentication secret (16 bytes).
    pub auth: String,
}

/// The id of a stored subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PushSubscriptionId(pub i64);

impl std::fmt::Display for PushSubscriptionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A subscription as the settings page lists it: never its endpoint's path nor its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscription {
    /// Its id, to delete it.
    pub id: PushSubscriptionId,
    /// The push service (`https://fcm.googleapis.com`): which browser family it is.
    pub service: String,
    /// When it was stored (or last renewed).
    pub created_at: Timestamp,
}

/// What a push carries once decrypted: the notice and a link, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushNotice {
    /// `"Colloque"`.
    pub title: String,
    /// [`crate::NOTICE_FR`].
    pub body: String,
    /// The app's address.
    pub url: String,
}
