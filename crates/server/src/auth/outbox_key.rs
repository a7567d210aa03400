//! The per-user outbox key (issue 10, "Nothing readable is left in the browser"). The app
//! encrypts the messages it has not sent yet with it before it keeps them in the browser, and
//! holds it in memory only; the server hands it to an authenticated session only, in the answer
//! to its login and to each refresh (which is how a reloaded tab gets it back).
//!
//! Why a random key per user kept in the database, rather than one derived from a server secret
//! (HKDF): it can be rotated for one user without touching anyone else's or any secret; it
//! needs no new secret to deploy, back up and keep apart from the JWT secret (a derivation
//! from the JWT secret would tie two purposes together: rotating one would rotate the other);
//! and every instance of a cluster reads the same key from PostgreSQL. What it costs: someone
//! with both the database and a browser's storage can read that browser's unsent messages —
//! but the database already holds every sent message in clear (docs/security.md, "What is NOT
//! protected").

use super::refresh::new_credential;
use crate::store::Tx;
use colloque_protocol::{OutboxKey, Timestamp, UserId};

/// The outbox key of `user`, made at their first login (or first refresh after this was
/// deployed), in the caller's transaction.
pub async fn for_user(tx: &mut Tx, user: UserId, now: Timestamp) -> Result<OutboxKey, sqlx::Error> {
    if let Some(key) = tx.outbox_key(user).await? {
        return Ok(OutboxKey(key));
    }
    // 256 bits from the OS generator, URL-safe base64: the same making as a refresh
    // credential. Two first logins at once: the first one's key is kept, and both read it.
    tx.insert_outbox_key(user, &new_credential(), now).await?;
    tx.outbox_key(user)
        .await?
        .map(OutboxKey)
        .ok_or(sqlx::Error::RowNotFound)
}

/// Replaces the outbox key of `user`. What their browsers still hold under the old key can no
/// longer be read: the app drops it and tells them. Sessions get the new key at their next
/// refresh.
pub async fn rotate(tx: &mut Tx, user: UserId, now: Timestamp) -> Result<(), sqlx::Error> {
    tx.replace_outbox_key(user, &new_credential(), now).await
}
