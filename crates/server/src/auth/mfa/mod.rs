//! Multi-factor authentication (OWASP ASVS 5.0 V6.3): a TOTP authenticator per account and ten
//! one-time recovery codes. docs/security.md, "Multi-factor authentication", gives the
//! reasoning; the routes are `routes/mfa.rs` (enrolment, disable) and `routes/auth.rs` (the
//! login's second step).
//!
//! A code is judged first (reads only), then *spent* in the caller's write transaction — the
//! TOTP time step remembered, or the recovery code marked used, each by one conditional
//! statement — so that what it unlocks (a session, MFA turned off) and its spending commit
//! together or not at all, and two requests, on any instances, cannot both spend it.

pub mod codes;
mod keys;

pub use keys::MfaKeys;

use crate::store::{Store, Tx};
use crate::util::now_ms;
use anyhow::Context;
use colloque_protocol::{MfaEnrolment, UserId};

/// How long a login's challenge (between the password and the code) lives.
pub const CHALLENGE_TTL_SECS: u64 = 300;

/// Which kind of code was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// A code of the authenticator app (its time step is now used).
    Totp,
    /// A recovery code (now used).
    RecoveryCode,
}

impl Spent {
    /// For audit details.
    pub fn as_str(self) -> &'static str {
        match self {
            Spent::Totp => "totp",
            Spent::RecoveryCode => "recovery_code",
        }
    }
}

/// Whether `user` has MFA enabled.
pub async fn enabled(store: &Store, user: UserId) -> Result<bool, sqlx::Error> {
    Ok(store.mfa_totp(user).await?.is_some_and(|totp| totp.enabled))
}

/// A code found good, not yet spent: what [`spend`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// A code of the authenticator app, of this time step.
    Totp(i64),
    /// An unused recovery code, by its keyed hash.
    RecoveryCode(String),
}

/// Judges `typed` — a code of `user`'s enabled authenticator, or one of their unused recovery
/// codes — without spending it (reads only, so that the throttle can be settled before the
/// write transaction that spends it: SQLite has one writer). `None`: wrong, already used (a
/// TOTP step at or before the last one accepted, a used recovery code), or no enabled
/// authenticator.
pub async fn judge(
    store: &Store,
    keys: &MfaKeys,
    user: UserId,
    typed: &str,
) -> anyhow::Result<Option<Proof>> {
    let Some(totp) = store.mfa_totp(user).await?.filter(|totp| totp.enabled) else {
        return Ok(None);
    };
    if let Some(code) = codes::as_totp_code(typed) {
        let secret = keys.open(user, &totp.secret)?;
        // Accepted only for a step later than the last one used: one code works once.
        return Ok(codes::matching_step(&secret, &code, now_secs())
            .filter(|step| *step > totp.last_step)
            .map(Proof::Totp));
    }
    let Some(code) = codes::normalise_recovery_code(typed) else {
        return Ok(None);
    };
    let hash = keys.recovery_hash(user, &code);
    Ok(store
        .recovery_code_unused(user, &hash)
        .await?
        .then_some(Proof::RecoveryCode(hash)))
}

/// Spends a code [`judge`] found good, in `tx`: the TOTP step remembered, or the recovery code
/// used up. `None` if another request spent it (or a later step) in between, on any instance.
pub async fn spend(tx: &mut Tx, user: UserId, proof: &Proof) -> Result<Option<Spent>, sqlx::Error> {
    Ok(match proof {
        Proof::Totp(step) => tx.use_totp_step(user, *step).await?.then_some(Spent::Totp),
        Proof::RecoveryCode(hash) => tx
            .use_recovery_code(user, hash, now_ms())
            .await?
            .then_some(Spent::RecoveryCode),
    })
}

/// Starts (or starts again) an enrolment: a new secret, stored encrypted and pending. `None`
/// when the account already has MFA enabled.
pub async fn start(
    store: &Store,
    keys: &MfaKeys,
    user: UserId,
    account: &str,
) -> anyhow::Result<Option<MfaEnrolment>> {
    let secret = codes::new_secret();
    let sealed = keys.seal(user, &secret)?;
    if !store.put_pending_totp(user, &sealed, now_ms()).await? {
        return Ok(None);
    }
    let otpauth_uri = codes::otpauth_uri(account, &secret);
    let qr = codes::qr(&otpauth_uri)?;
    Ok(Some(MfaEnrolment {
        secret: codes::base32(&secret),
        otpauth_uri,
        qr,
    }))
}

/// Confirms a pending enrolment with a first code, in `tx`: the authenticator is enabled, its
/// time step spent, and ten new recovery codes stored (their keyed hashes only; any earlier
/// ones deleted). Returns the codes, to show once; `None`: no enrolment pending, or a wrong
/// code.
pub async fn confirm(
    tx: &mut Tx,
    keys: &MfaKeys,
    user: UserId,
    typed: &str,
) -> anyhow::Result<Option<Vec<String>>> {
    let Some(pending) = tx.mfa_totp(user).await?.filter(|totp| !totp.enabled) else {
        return Ok(None);
    };
    let secret = keys.open(user, &pending.secret)?;
    let Some(step) = codes::as_totp_code(typed)
        .and_then(|code| codes::matching_step(&secret, &code, now_secs()))
    else {
        return Ok(None);
    };
    if !tx
        .enable_totp(user, &pending.secret, step, now_ms())
        .await?
    {
        return Ok(None);
    }
    tx.delete_recovery_codes(user).await?;
    let recovery = codes::new_recovery_codes();
    for code in &recovery {
        let normalised =
            codes::normalise_recovery_code(code).context("a new recovery code reads back")?;
        tx.insert_recovery_code(user, &keys.recovery_hash(user, &normalised))
            .await?;
    }
    Ok(Some(recovery))
}

/// Turns MFA off for `user`, in `tx`: the authenticator and the recovery codes are deleted.
pub async fn disable(tx: &mut Tx, user: UserId) -> Result<(), sqlx::Error> {
    tx.delete_totp(user).await?;
    tx.delete_recovery_codes(user).await?;
    Ok(())
}

fn now_secs() -> u64 {
    u64::try_from(now_ms().0 / 1000).unwrap_or(0)
}
