//! The `login_attempts` table: the login throttle's state, shared by every instance on the
//! database (`auth::throttle` decides; these statements count and record).
//!
//! The check-and-reserve runs [`counts`] then [`insert`] in one write transaction that holds
//! the attempt's keys (SQLite: the write lock; PostgreSQL: advisory locks, see each backend's
//! `lock_login_keys`), so that no other attempt on the same account or address, on any
//! instance, is counted in between.

use super::Db;
use crate::store::model::*;
use colloque_protocol::Timestamp;
use sqlx::{Executor, FromRow};

/// A failure for the (account, address) window: failed, or in flight for too long (`$3`).
const PAIR_FAILURE: &str = "(outcome = 'failed' OR (outcome = 'in_flight' AND at <= $3))";
/// A failure for the account and address windows: a failure its pair forgave still counts.
const FAILURE: &str = "(outcome IN ('failed', 'forgiven') OR (outcome = 'in_flight' AND at <= $3))";
/// An attempt whose password is being checked now.
const IN_FLIGHT: &str = "(outcome = 'in_flight' AND at > $3)";

/// What the three windows of one attempt hold, in one statement: the account's rows give the
/// (account, address) and account windows, the address's rows the address window.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn counts(
    db: impl Executor<'_, Database = Db>,
    account: &str,
    address: &str,
    cutoffs: &LoginCutoffs,
) -> Result<LoginCounts, sqlx::Error> {
    let earliest = [
        cutoffs.stale_before,
        cutoffs.pair_since,
        cutoffs.account_since,
        cutoffs.address_since,
    ]
    .into_iter()
    .min()
    .unwrap_or(cutoffs.stale_before);
    let pair = format!("address_key = $2 AND at > $4 AND {PAIR_FAILURE}");
    let account_failure = format!("at > $5 AND {FAILURE}");
    let address_failure = format!("at > $6 AND {FAILURE}");
    let row: CountsRow = sqlx::query_as(&format!(
        "SELECT a.pair_failures, a.pair_oldest, a.pair_in_flight,
                a.account_failures, a.account_oldest, a.account_in_flight,
                d.address_failures, d.address_oldest, d.address_in_flight
         FROM (SELECT COUNT(*) FILTER (WHERE {pair}) AS pair_failures,
                      MIN(at) FILTER (WHERE {pair}) AS pair_oldest,
                      COUNT(*) FILTER (WHERE address_key = $2 AND {IN_FLIGHT}) AS pair_in_flight,
                      COUNT(*) FILTER (WHERE {account_failure}) AS account_failures,
                      MIN(at) FILTER (WHERE {account_failure}) AS account_oldest,
                      COUNT(*) FILTER (WHERE {IN_FLIGHT}) AS account_in_flight
               FROM login_attempts WHERE account_key = $1 AND at > $7) a,
              (SELECT COUNT(*) FILTER (WHERE {address_failure}) AS address_failures,
                      MIN(at) FILTER (WHERE {address_failure}) AS address_oldest,
                      COUNT(*) FILTER (WHERE {IN_FLIGHT}) AS address_in_flight
               FROM login_attempts WHERE address_key = $2 AND at > $7) d"
    ))
    .bind(account)
    .bind(address)
    .bind(cutoffs.stale_before.0)
    .bind(cutoffs.pair_since.0)
    .bind(cutoffs.account_since.0)
    .bind(cutoffs.address_since.0)
    .bind(earliest.0)
    .fetch_one(db)
    .await?;
    let window = |failures, oldest: Option<i64>, in_flight| WindowCount {
        failures,
        oldest_failure: oldest.map(Timestamp),
        in_flight,
    };
    Ok(LoginCounts {
        pair: window(row.pair_failures, row.pair_oldest, row.pair_in_flight),
        account: window(
            row.account_failures,
            row.account_oldest,
            row.account_in_flight,
        ),
        address: window(
            row.address_failures,
            row.address_oldest,
            row.address_in_flight,
        ),
    })
}

#[derive(FromRow)]
struct CountsRow {
    pair_failures: i64,
    pair_oldest: Option<i64>,
    pair_in_flight: i64,
    account_failures: i64,
    account_oldest: Option<i64>,
    account_in_flight: i64,
    address_failures: i64,
    address_oldest: Option<i64>,
    address_in_flight: i64,
}

/// Records an attempt in flight, begun at `now`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    db: impl Executor<'_, Database = Db>,
    account: &str,
    address: &str,
    now: Timestamp,
) -> Result<LoginAttemptId, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO login_attempts (account_key, address_key, at, outcome)
         VALUES ($1, $2, $3, 'in_flight') RETURNING id",
    )
    .bind(account)
    .bind(address)
    .bind(now.0)
    .fetch_one(db)
    .await?;
    Ok(LoginAttemptId(id))
}

/// Settles an attempt still in flight: it ended at `now` with `outcome`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn settle(
    db: impl Executor<'_, Database = Db>,
    id: LoginAttemptId,
    outcome: LoginOutcome,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE login_attempts SET outcome = $2, at = $3 WHERE id = $1 AND outcome = 'in_flight'",
    )
    .bind(id.0)
    .bind(outcome.as_str())
    .bind(now.0)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets an attempt still in flight whose password was not checked (or was right but the
/// login refused): as if it had never been made.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn release(
    db: impl Executor<'_, Database = Db>,
    id: LoginAttemptId,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_attempts WHERE id = $1 AND outcome = 'in_flight'")
        .bind(id.0)
        .execute(db)
        .await?;
    Ok(())
}

/// The right password from (account, address): that pair's failures (attempts in flight since
/// before `stale_before` included) no longer count for the pair, but still for the account and
/// the address. Returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forgive(
    db: impl Executor<'_, Database = Db>,
    account: &str,
    address: &str,
    stale_before: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(&format!(
        "UPDATE login_attempts SET outcome = 'forgiven'
         WHERE account_key = $1 AND address_key = $2 AND {PAIR_FAILURE}"
    ))
    .bind(account)
    .bind(address)
    .bind(stale_before.0)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// The successful logins of `account` since `since`: how many, and the oldest's time.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn successes(
    db: impl Executor<'_, Database = Db>,
    account: &str,
    since: Timestamp,
) -> Result<(i64, Option<Timestamp>), sqlx::Error> {
    let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM login_attempts
         WHERE account_key = $1 AND at > $2 AND outcome = 'succeeded'",
    )
    .bind(account)
    .bind(since.0)
    .fetch_one(db)
    .await?;
    Ok((count, oldest.map(Timestamp)))
}

/// Deletes the attempts older than `before` (past every window); returns how many.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete_before(
    db: impl Executor<'_, Database = Db>,
    before: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM login_attempts WHERE at < $1")
        .bind(before.0)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
