//! Authentication: argon2id password hashes, HS256 access tokens bound to a server-side
//! session, and the [`AuthUser`] extractor that checks both on every request.

mod extractor;
mod jwt;
mod password;
mod secret;

pub use extractor::AuthUser;
pub use jwt::{AUDIENCE, Claims, ISSUER, IssuedToken, TokenService};
pub use password::PasswordHasher;
pub use secret::load_or_create_secret;

use crate::db;
use crate::error::AppError;
use crate::util::now_ms;
use sqlx::SqlitePool;

/// A session id: random, carried as the token's `sid`, revoked by logout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionId(pub String);

impl SessionId {
    /// 122 random bits from the OS generator (UUID v4), in simple hex form.
    pub fn generate() -> Self {
        SessionId(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// Checks a token and its session: signature, algorithm, issuer, audience, time claims, then
/// that the session exists, is neither revoked nor expired, and that the user is enabled.
/// Every failure is the same [`AppError::Unauthorized`]: the client learns nothing more.
#[tracing::instrument(name = "authenticate", skip_all)]
pub async fn authenticate(
    tokens: &TokenService,
    pool: &SqlitePool,
    token: &str,
) -> Result<AuthUser, AppError> {
    let claims = tokens.verify(token).map_err(|error| {
        tracing::debug!(%error, "token rejected");
        AppError::Unauthorized
    })?;
    let user_id = claims.user_id().ok_or(AppError::Unauthorized)?;
    let session = SessionId(claims.sid.clone());
    let user = db::sessions::active_user(pool, &session, user_id, now_ms())
        .await?
        .ok_or(AppError::Unauthorized)?;
    if user.role != claims.role {
        return Err(AppError::Unauthorized);
    }
    Ok(AuthUser {
        id: user_id,
        role: user.role,
        session,
        expires_at: claims.expires_at(),
    })
}
