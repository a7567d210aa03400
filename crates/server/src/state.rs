//! The state shared by every handler and socket.

use crate::audit::Auditor;
use crate::auth::mfa::MfaKeys;
use crate::auth::{LoginThrottle, PasswordHasher, SessionTouches, TokenService};
use crate::chat::SendQueue;
use crate::config::Limits;
use crate::delivery::Delivery;
use crate::limits::TokenBuckets;
use crate::metrics::Metrics;
use crate::security::Security;
use crate::store::Store;
use crate::ws::Admission;
use axum::extract::FromRef;
use colloque_protocol::UserId;
use std::sync::Arc;

/// The state shared by every handler and socket, in one allocation: a clone (one per request,
/// one or two per socket) is one reference count, and a socket's tasks hold a pointer, not
/// the 1,960 bytes of [`Shared`]'s handles (measured with `-Z print-type-sizes` on
/// 2026-12-07: the connection's and the reader's futures held three copies of them). Its
/// fields are read through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// Shares `shared`.
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares: every field is a handle.
pub struct Shared {
    /// The database.
    pub store: Store,
    /// The audit trail: refusals counted, reads recorded before they are answered.
    pub audit: Auditor,
    /// Token signing and verification.
    pub tokens: TokenService,
    /// Password hashing.
    pub passwords: PasswordHasher,
    /// The keys of multi-factor authentication (TOTP secrets at rest, recovery codes' hashes).
    pub mfa: MfaKeys,
    /// The sockets of this instance, and delivery to them from every instance.
    pub delivery: Delivery,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The message writer (group commit).
    pub sends: SendQueue,
    /// Session activity waiting to be written.
    pub touches: SessionTouches,
    /// Session, socket and rate limits.
    pub limits: Arc<Limits>,
    /// Allowed origins, CSP.
    pub security: Arc<Security>,
    /// Rate-limit counters.
    pub throttles: Throttles,
    /// The socket caps.
    pub sockets: Admission,
    /// Notification e-mails (and their unsubscribe tokens).
    pub notifier: crate::notify::Notifier,
    /// Uploads being stripped and thumbnailed at once (bounded: see `attachments`).
    pub attachment_slots: Arc<tokio::sync::Semaphore>,
}

/// The rate limits. The login throttle keeps its counts in the database, so they hold over
/// every instance; the per-user budgets are this instance's own (docs/security.md, "Login
/// throttling", says why that is safe).
#[derive(Clone)]
pub struct Throttles {
    /// Message sends per user, over every socket and REST (in memory).
    pub sends: TokenBuckets<UserId>,
    /// Failed logins per (account, address), account and address (known accounts or not: the
    /// answer must not tell), and successful logins per account (in the database).
    pub logins: LoginThrottle,
    /// Authenticated requests and frames per user, every kind together (in memory).
    pub requests: TokenBuckets<UserId>,
}

impl Throttles {
    /// Counters for these limits; the login throttle's on `store`.
    pub fn new(limits: &Limits, store: Store) -> Self {
        Self {
            sends: TokenBuckets::new(limits.sends),
            logins: LoginThrottle::new(store, limits),
            requests: TokenBuckets::new(limits.requests),
        }
    }
}

impl FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Self {
        state.store.clone()
    }
}

impl FromRef<AppState> for Delivery {
    fn from_ref(state: &AppState) -> Self {
        state.delivery.clone()
    }
}
