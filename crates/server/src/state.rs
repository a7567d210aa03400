//! The state shared by every handler and socket.

use crate::auth::{PasswordHasher, TokenService};
use crate::ws::Hub;
use axum::extract::FromRef;
use sqlx::SqlitePool;

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
