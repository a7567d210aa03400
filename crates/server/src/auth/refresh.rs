//! Refresh credentials (RFC 9700 §4.14): a secret apart from the access token, kept by the
//! browser in an HttpOnly cookie ([`super::cookie`]), stored by the server as a SHA-256 only,
//! and replaced at every use. A replaced credential that comes back is a reuse: someone else
//! held a copy, so the whole session is revoked.
//!
//! Each rotation also moves the session to its next *generation*. An access token carries the
//! generation it was issued for (`gen`), and every session check compares it with the
//! database's ([`generation_live`]): a token issued before a refresh stops working within
//! [`crate::Limits::refresh_grace`], not at its expiry.
//!
//! Two requests carrying the same credential at the same time are ordinary (two tabs of one
//! session renewing together, or a retry whose first answer was lost): a credential replaced
//! less than the grace ago gets a new sibling credential instead of raising the alarm
//! ([`judge`]; docs/security.md, "Refresh tokens", gives the reasoning).

use crate::audit::{Action, Entry, Source};
use crate::domain::{SessionId, new_session_handle};
use crate::error::AppError;
use crate::store::{NewSession, Store};
use base64::Engine;
use colloque_protocol::{OutboxKey, Role, SessionHandle, Timestamp, UserId};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// A fresh credential: 256 bits from the OS generator, URL-safe base64 (43 characters).
pub fn new_credential() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a credential: its SHA-256, hex. (A slow hash would add nothing:
/// the credential is random and long, not a password someone could guess.)
pub fn credential_hash(credential: &str) -> String {
    Sha256::digest(credential.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What a presented credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented {
    /// The session's current credential: rotate.
    Current,
    /// Replaced less than the grace ago: a concurrent refresh or a retry. It gets a sibling
    /// credential and a token of the current generation; nothing is revoked.
    JustReplaced,
    /// Replaced longer ago: someone used a copy. Revoke the session.
    Reused,
}

/// Judges a credential by when it was replaced (`None`: it is current).
pub fn judge(replaced_at: Option<Timestamp>, now: Timestamp, grace: Duration) -> Presented {
    match replaced_at {
        None => Presented::Current,
        Some(at) if now.0 - at.0 < millis(grace) => Presented::JustReplaced,
        Some(_) => Presented::Reused,
    }
}

/// Whether an access token of generation `token` is still good for a session now at
/// `current`, last rotated at `rotated_at`: its own generation, or the one just before during
/// the grace after the rotation (requests under way, a socket about to re-authenticate).
pub fn generation_live(
    token: i64,
    current: i64,
    rotated_at: Option<Timestamp>,
    now: Timestamp,
    grace: Duration,
) -> bool {
    token == current
        || (token + 1 == current && rotated_at.is_some_and(|at| now.0 - at.0 < millis(grace)))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A session just renewed: what its answer needs.
pub struct Renewed {
    /// Whose.
    pub user: UserId,
    /// Their role now.
    pub role: Role,
    /// The session (the token's `sid`).
    pub session: SessionId,
    /// Its public name.
    pub handle: SessionHandle,
    /// The generation the access token is issued for.
    pub generation: i64,
    /// The session's absolute end (the token's and the cookie's limit).
    pub session_end: Timestamp,
    /// The new credential, for the cookie. Never logged.
    pub credential: String,
    /// The user's outbox key, for the answer. Never logged.
    pub outbox_key: OutboxKey,
    /// The credential presented had just been replaced by a concurrent refresh: this one got
    /// a sibling, and the session stayed at its generation.
    pub concurrent: bool,
}

// Never print the credential, even in a debug dump.
impl std::fmt::Debug for Renewed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renewed")
            .field("user", &self.user)
            .field("handle", &self.handle)
            .field("generation", &self.generation)
            .field("credential", &"<redacted>")
            .field("outbox_key", &self.outbox_key)
            .finish_non_exhaustive()
    }
}

/// What a refresh came to.
#[derive(Debug)]
pub enum Refresh {
    /// A new credential, and the generation to issue the access token for.
    Renewed(Renewed),
    /// No such credential, another session's route, or a session that is over: 401.
    Refused,
    /// A replaced credential came back: the session is revoked (audit it, close its sockets).
    Reused {
        /// Whose session it was.
        user: UserId,
        /// The session, now revoked.
        session: SessionId,
    },
}

/// Where a session's limits stand, for [`open`] and [`refresh`].
#[derive(Debug, Clone, Copy)]
pub struct RefreshRules {
    /// Now.
    pub now: Timestamp,
    /// Sessions last used before this are idle: they cannot be refreshed.
    pub idle_cutoff: Timestamp,
    /// How long a replaced credential still gets a sibling, and a token of the generation
    /// before still works.
    pub grace: Duration,
}

/// Records a new session and its first credential, in the caller's transaction (login).
pub async fn open(
    tx: &mut crate::store::Tx,
    session: &NewSession<'_>,
    now: Timestamp,
) -> Result<(SessionHandle, String), sqlx::Error> {
    let handle = new_session_handle();
    let credential = new_credential();
    tx.insert_session(session, &handle, now).await?;
    tx.insert_refresh_token(&credential_hash(&credential), session.id, now)
        .await?;
    Ok((handle, credential))
}

/// Renews the session whose credential is `credential`, presented on the refresh route of
/// `handle` by `source`. A known credential is judged in one write transaction, which holds
/// the session (PostgreSQL: its row locked; SQLite: the write lock) from reading the
/// credential's state to the commit, so that two refreshes of one session, on any instances,
/// are judged one after the other. A renewal is recorded in the audit trail in that
/// transaction, or does not happen (503: the credential stays as it was).
pub async fn refresh(
    store: &Store,
    credential: &str,
    handle: &SessionHandle,
    source: &Source,
    rules: RefreshRules,
) -> Result<Refresh, AppError> {
    let hash = credential_hash(credential);
    // Looked up before any write lock: a flood of made-up cookies costs reads only.
    let Some((session, _)) = store.refresh_token(&hash).await? else {
        return Ok(Refresh::Refused);
    };
    let mut tx = store.begin_write().await?;
    tx.lock_session(&session).await?;
    // Read again under the lock: a refresh that held it before may have replaced it.
    let Some((session, replaced_at)) = tx.refresh_token(&hash).await? else {
        return Ok(Refresh::Refused);
    };
    let Some(live) = tx
        .refreshable_session(&session, rules.now, rules.idle_cutoff)
        .await?
        .filter(|live| live.handle == *handle)
    else {
        return Ok(Refresh::Refused);
    };
    let bump = match judge(replaced_at, rules.now, rules.grace) {
        Presented::Current => {
            tx.replace_refresh_tokens(&session, rules.now).await?;
            1
        }
        Presented::JustReplaced => 0,
        Presented::Reused => {
            tx.revoke_session(&session, rules.now).await?;
            tx.commit().await?;
            return Ok(Refresh::Reused {
                user: live.user,
                session,
            });
        }
    };
    let credential = new_credential();
    tx.insert_refresh_token(&credential_hash(&credential), &session, rules.now)
        .await?;
    let generation = tx
        .session_refreshed(&session, rules.now, source.ip.as_deref(), bump)
        .await?;
    let outbox_key = super::outbox_key::for_user(&mut tx, live.user, rules.now).await?;
    let mut entry = Entry::new(Action::Refresh, Some(live.user));
    if bump == 0 {
        entry = entry.detail("concurrent");
    }
    // Last in the transaction, as every audit append (it holds the chain's head until commit).
    if let Err(error) = tx.audit(source, &entry).await {
        return Err(AppError::unrecorded(Action::Refresh, &error));
    }
    tx.commit().await?;
    Ok(Refresh::Renewed(Renewed {
        user: live.user,
        role: live.role,
        session,
        handle: live.handle,
        generation,
        session_end: live.expires_at,
        credential,
        outbox_key,
        concurrent: bump == 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(10);

    #[test]
    fn a_credential_is_long_random_and_stored_only_as_its_hash() {
        let (one, two) = (new_credential(), new_credential());
        assert_eq!(one.len(), 43);
        assert_ne!(one, two);
        let hash = credential_hash(&one);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&one));
        assert_eq!(
            hash,
            credential_hash(&one),
            "the same credential, the same hash"
        );
        assert_ne!(hash, credential_hash(&two));
    }

    #[test]
    fn a_debug_dump_never_shows_the_credential() {
        let renewed = Renewed {
            user: UserId(4),
            role: Role::Patient,
            session: SessionId("s".into()),
            handle: SessionHandle("h".into()),
            generation: 1,
            session_end: Timestamp(0),
            credential: "secret-credential".into(),
            outbox_key: OutboxKey("secret-outbox-key".into()),
            concurrent: false,
        };
        let dump = format!("{renewed:?}");
        assert!(!dump.contains("secret-credential"));
        assert!(!dump.contains("secret-outbox-key"));
    }

    #[test]
    fn a_replaced_credential_is_a_race_within_the_grace_and_a_reuse_after() {
        let now = Timestamp(1_000_000);
        assert_eq!(judge(None, now, GRACE), Presented::Current);
        assert_eq!(
            judge(Some(Timestamp(now.0 - 9_999)), now, GRACE),
            Presented::JustReplaced
        );
        assert_eq!(
            judge(Some(Timestamp(now.0 - 10_000)), now, GRACE),
            Presented::Reused
        );
        assert_eq!(
            judge(Some(now), now, Duration::ZERO),
            Presented::Reused,
            "no grace: any replaced credential is a reuse"
        );
    }

    #[test]
    fn only_the_generation_just_before_survives_a_rotation_and_only_for_the_grace() {
        let now = Timestamp(1_000_000);
        let just = Some(Timestamp(now.0 - 1_000));
        let long_ago = Some(Timestamp(now.0 - 60_000));
        assert!(generation_live(3, 3, long_ago, now, GRACE), "current");
        assert!(generation_live(2, 3, just, now, GRACE), "just rotated");
        assert!(
            !generation_live(2, 3, long_ago, now, GRACE),
            "rotated long ago"
        );
        assert!(
            !generation_live(1, 3, just, now, GRACE),
            "two rotations behind"
        );
        assert!(!generation_live(4, 3, just, now, GRACE), "from the future");
        assert!(
            !generation_live(0, 1, just, now, Duration::ZERO),
            "no grace"
        );
    }
}
