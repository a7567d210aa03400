//! The `mfa_totp` and `mfa_recovery_codes` tables: each account's TOTP authenticator (its
//! secret encrypted, `auth::mfa` holds the key) and the keyed hashes of its recovery codes.
//! Every change that must not be raced is one conditional statement (a pending authenticator
//! replaced, a time step used, a recovery code consumed), so two instances cannot both win.

use super::Db;
use crate::store::model::MfaTotp;
use colloque_protocol::{Timestamp, UserId};
use sqlx::Executor;

/// The authenticator of `user`, pending or enabled.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn totp(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<Option<MfaTotp>, sqlx::Error> {
    let row: Option<(String, Option<i64>, i64)> =
        sqlx::query_as("SELECT secret, enabled_at, last_step FROM mfa_totp WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(secret, enabled_at, last_step)| MfaTotp {
        secret,
        enabled: enabled_at.is_some(),
        last_step,
    }))
}

/// Records a pending authenticator for `user`, replacing a pending one; false (nothing
/// written) when the account has an enabled one.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn put_pending(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    secret: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret, created_at, enabled_at, last_step)
         VALUES ($1, $2, $3, NULL, 0)
         ON CONFLICT (user_id) DO UPDATE
         SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
         WHERE mfa_totp.enabled_at IS NULL",
    )
    .bind(user.0)
    .bind(secret)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Enables the pending authenticator of `user`, whose code of time step `step` was just
/// given; false if there was none pending (enabled meanwhile, or replaced by another start:
/// then the secret checked was not this row's, and `secret` guards that).
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn enable(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    secret: &str,
    step: i64,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE mfa_totp SET enabled_at = $4, last_step = $3
         WHERE user_id = $1 AND secret = $2 AND enabled_at IS NULL",
    )
    .bind(user.0)
    .bind(secret)
    .bind(step)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Spends time step `step` of the enabled authenticator of `user`: true if no code of this
/// step or a later one was accepted before (on any instance), false if one was (a replay).
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn use_step(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    step: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE mfa_totp SET last_step = $2
         WHERE user_id = $1 AND enabled_at IS NOT NULL AND last_step < $2",
    )
    .bind(user.0)
    .bind(step)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes the authenticator of `user` (MFA off); false if there was none.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn delete_totp(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1")
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Deletes every recovery code of `user`; returns how many.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn delete_recovery_codes(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Records one recovery code of `user` (its keyed hash).
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn insert_recovery_code(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO mfa_recovery_codes (user_id, hash, used_at) VALUES ($1, $2, NULL)")
        .bind(user.0)
        .bind(hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Consumes the unused recovery code of `user` whose hash is `hash`: true if there was one
/// (it is now used, on every instance), false otherwise.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn use_recovery_code(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE mfa_recovery_codes SET used_at = $3
         WHERE user_id = $1 AND hash = $2 AND used_at IS NULL",
    )
    .bind(user.0)
    .bind(hash)
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether `user` has an unused recovery code whose hash is `hash`.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn recovery_code_unused(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
    hash: &str,
) -> Result<bool, sqlx::Error> {
    // COUNT(*): a BIGINT on PostgreSQL and an integer on SQLite alike (a bare `1` is an INT4
    // on PostgreSQL).
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mfa_recovery_codes
         WHERE user_id = $1 AND hash = $2 AND used_at IS NULL",
    )
    .bind(user.0)
    .bind(hash)
    .fetch_one(db)
    .await?;
    Ok(found > 0)
}

/// How many unused recovery codes `user` has.
#[tracing::instrument(skip_all, fields(user = %user))]
pub async fn recovery_codes_left(
    db: impl Executor<'_, Database = Db>,
    user: UserId,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user.0)
    .fetch_one(db)
    .await
}
