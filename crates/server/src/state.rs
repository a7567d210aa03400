//! The state shared by every handler and socket.

use crate::auth::{PasswordHasher, SessionTouches, TokenService};
use crate::chat::SendQueue;
use crate::config::Limits;
use crate::limits::{FailureWindows, TokenBuckets};
use crate::security::Security;
use crate::ws::Hub;
use axum::extract::FromRef;
use colloque_protocol::UserId;
use sqlx::SqlitePool;
use std::sync::Arc;

/// Cheap to clone: every field is a handle.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: SqlitePool,
    /// Token signing and verification.
    pub tokens: TokenService,
    /// Password hashing.
    pub passwords: PasswordHasher,
    /// The connected sockets.
    pub hub: Hub,
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
}

/// The in-memory rate-limit counters.
#[derive(Clone)]
pub struct Throttles {
    /// Message sends per user, over every socket and REST.
    pub sends: TokenBuckets<UserId>,
    /// Failed logins per normalised email (known or not: the answer must not tell).
    pub login_by_account: FailureWindows<String>,
    /// Failed logins per client address.
    pub login_by_address: FailureWindows<String>,
}

impl Throttles {
    /// Counters for these limits.
    pub fn new(limits: &Limits) -> Self {
        Self {
            sends: TokenBuckets::new(limits.sends),
            login_by_account: FailureWindows::new(limits.login_failures_per_account),
            login_by_address: FailureWindows::new(limits.login_failures_per_address),
        }
    }
}

impl FromRef<AppState> for SqlitePool {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for Hub {
    fn from_ref(state: &AppState) -> Self {
        state.hub.clone()
    }
}
