//! Login throttling that cannot be raced, cannot be turned against others, and holds over every
//! instance (docs/security.md, "Login throttling").
//!
//! Three sliding windows of failures, checked and reserved in one step:
//! - per (account, address): the brute-force limit. A flood against one account from one
//!   address stops there, and never touches another account tried from the same address (a
//!   practice behind one NAT, a hospital behind one proxy).
//! - per account, over every address: a much higher ceiling against guessing spread over many
//!   addresses.
//! - per address, over every account: a much higher ceiling against credential stuffing.
//!
//! An attempt holds a place in all three until its password check ends ([`Attempt`]): two
//! hundred concurrent guesses get as many password checks as the limit allows, not two
//! hundred. An attempt refused by a window is not a failure, so it counts against nothing.
//! Successful logins are limited per account as well ([`Attempt::succeeded`]).
//!
//! The state is the database's (`login_attempts`, one row per attempt let through), not this
//! process's memory: several instances on one PostgreSQL share it, so no limit multiplies by
//! their number. Each check counts the windows and records the attempt in flight in one write
//! transaction that holds the attempt's account and address ([`Tx::lock_login_keys`]: SQLite's
//! write lock, PostgreSQL's advisory locks), so no other attempt on either, on any instance, is
//! counted in between. An attempt in flight for longer than a request can live counts as
//! failed: its instance died mid-check. What to answer, given the counts, is decided here by
//! pure functions ([`decide`], [`success_wait`]).
//!
//! [`Tx::lock_login_keys`]: crate::store::Tx::lock_login_keys

use crate::config::{Limits, LoginLimits, RateLimit};
use crate::store::{LoginAttemptId, LoginCounts, LoginCutoffs, LoginOutcome, Store, WindowCount};
use crate::util::now_ms;
use colloque_protocol::Timestamp;
use std::net::IpAddr;
use std::time::Duration;

/// What a client is told to wait when the window is full of attempts still being checked.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);
/// At least this long in flight, an attempt counts as failed (its instance died mid-check);
/// never less than twice the API's request deadline, past which a live instance has dropped the
/// request, and so settled the attempt as failed.
const IN_FLIGHT_STALE: Duration = Duration::from_secs(60);
/// Longest account key kept (an email's maximum length); longer input is cut.
const MAX_ACCOUNT_KEY: usize = 254;

/// The key of an account: the email as typed, trimmed and lower-cased, at most 254 characters,
/// a NUL character read as U+FFFD (PostgreSQL's text cannot hold one; such an email has no
/// account anyway). Known and unknown emails are keyed alike, so the answer never tells which
/// exists.
pub fn account_key(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(MAX_ACCOUNT_KEY)
        .map(|c| {
            if c == '\0' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The key of a client address: an IPv4 address as is, an IPv6 address by its /64 (what one
/// subscriber or one site is usually given), an IPv4-mapped IPv6 address as its IPv4 one.
pub fn address_key(address: Option<IpAddr>) -> String {
    match address {
        None => String::new(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// `duration` before `now`.
fn before(now: Timestamp, duration: Duration) -> Timestamp {
    Timestamp(now.0.saturating_sub(millis(duration)))
}

/// How long until the oldest of a full window's events leaves it.
fn until_oldest_leaves(window: Duration, oldest: Option<Timestamp>, now: Timestamp) -> Duration {
    let elapsed = oldest.map_or(0, |oldest| now.0.saturating_sub(oldest.0).max(0));
    window.saturating_sub(Duration::from_millis(elapsed.unsigned_abs()))
}

/// Where each window begins at `now`.
fn cutoffs(limits: &LoginLimits, in_flight_stale: Duration, now: Timestamp) -> LoginCutoffs {
    LoginCutoffs {
        stale_before: before(now, in_flight_stale),
        pair_since: before(now, limits.per_pair.window),
        account_since: before(now, limits.per_account.window),
        address_since: before(now, limits.per_address.window),
    }
}

/// One window: `Some(wait)` when its failures, or its failures and the attempts in flight,
/// fill it.
fn window_wait(limit: RateLimit, count: &WindowCount, now: Timestamp) -> Option<Duration> {
    let max = i64::from(limit.max);
    if count.failures >= max {
        return Some(until_oldest_leaves(limit.window, count.oldest_failure, now));
    }
    (count.failures + count.in_flight >= max).then_some(IN_FLIGHT_WAIT)
}

/// Whether an attempt may go on to its password check, given what its three windows hold:
/// `Err(wait)` when any is full, for the longest of their waits.
pub fn decide(limits: &LoginLimits, counts: &LoginCounts, now: Timestamp) -> Result<(), Duration> {
    let waits = [
        window_wait(limits.per_pair, &counts.pair, now),
        window_wait(limits.per_account, &counts.account, now),
        window_wait(limits.per_address, &counts.address, now),
    ];
    match waits.into_iter().flatten().max() {
        Some(wait) => Err(wait),
        None => Ok(()),
    }
}

/// Whether one more successful login fits an account that had `count` in the window (the
/// oldest at `oldest`): `Some(wait)` if not. At least one per window, whatever the setting.
pub fn success_wait(
    limit: RateLimit,
    count: i64,
    oldest: Option<Timestamp>,
    now: Timestamp,
) -> Option<Duration> {
    (count >= i64::from(limit.max.max(1))).then(|| until_oldest_leaves(limit.window, oldest, now))
}

/// The login throttle, shared by every request (and, through the database, every instance).
#[derive(Clone)]
pub struct LoginThrottle {
    store: Store,
    limits: LoginLimits,
    successes: RateLimit,
    in_flight_stale: Duration,
}

impl LoginThrottle {
    /// The throttle of these limits (`login`, `logins_per_account`), on `store`.
    pub fn new(store: Store, limits: &Limits) -> Self {
        Self {
            store,
            limits: limits.login,
            successes: limits.logins_per_account,
            in_flight_stale: IN_FLIGHT_STALE.max(limits.http_request_timeout.saturating_mul(2)),
        }
    }

    /// Checks the three windows and, if none is full, holds a place in each until the returned
    /// attempt is settled. `Ok(Err(wait))`: refused, for at least this long.
    pub async fn begin(
        &self,
        account: String,
        address: String,
    ) -> Result<Result<Attempt, Duration>, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.store.begin_write().await?;
        tx.lock_login_keys(&account, &address).await?;
        let cutoffs = cutoffs(&self.limits, self.in_flight_stale, now);
        let counts = tx.login_counts(&account, &address, &cutoffs).await?;
        if let Err(wait) = decide(&self.limits, &counts, now) {
            tx.rollback().await?;
            return Ok(Err(wait));
        }
        let id = tx.insert_login_attempt(&account, &address, now).await?;
        tx.commit().await?;
        Ok(Ok(Attempt {
            throttle: self.clone(),
            id,
            account,
            address,
            settled: false,
        }))
    }

    /// Deletes the attempts that no window looks at any more; returns how many.
    pub async fn forget_old(&self) -> Result<u64, sqlx::Error> {
        let kept = [
            self.limits.per_pair.window,
            self.limits.per_account.window,
            self.limits.per_address.window,
            self.successes.window,
            self.in_flight_stale,
        ]
        .into_iter()
        .max()
        .unwrap_or(self.in_flight_stale);
        self.store
            .delete_login_attempts_before(before(now_ms(), kept))
            .await
    }
}

/// Records how an attempt ended. A failed write is logged: the attempt stays in flight, which
/// counts against its windows, and as a failure once stale.
async fn settle(store: &Store, id: LoginAttemptId, outcome: LoginOutcome) {
    if let Err(error) = store.settle_login_attempt(id, outcome, now_ms()).await {
        tracing::error!(%error, "failed to record how a login attempt ended");
    }
}

/// A login attempt holding its place in the windows. Settle it with [`Attempt::failed`],
/// [`Attempt::released`] or [`Attempt::succeeded`]; dropped unsettled (the request was
/// cancelled mid-check), it counts as a failure, so hanging up cannot buy free guesses.
pub struct Attempt {
    throttle: LoginThrottle,
    id: LoginAttemptId,
    account: String,
    address: String,
    settled: bool,
}

impl Attempt {
    /// The password was wrong, or the account unknown or disabled.
    pub async fn failed(mut self) {
        self.settled = true;
        settle(&self.throttle.store, self.id, LoginOutcome::Failed).await;
    }

    /// The check did not happen (the server was too busy): as if never attempted.
    pub async fn released(mut self) {
        self.settled = true;
        if let Err(error) = self.throttle.store.release_login_attempt(self.id).await {
            tracing::error!(%error, "failed to release a login attempt");
        }
    }

    /// The password was right: its own (account, address)'s earlier failures are forgiven (the
    /// account's and the address's ceilings are not: they count others' attempts too), and it
    /// counts as a successful login if the account has had fewer than its limit within the
    /// window; `Ok(Err(wait))` if not (the login is refused, and counts as nothing). One
    /// transaction holding the account, so that the limit holds over every instance.
    pub async fn succeeded(mut self) -> Result<Result<(), Duration>, sqlx::Error> {
        let throttle = &self.throttle;
        let now = now_ms();
        let mut tx = throttle.store.begin_write().await?;
        tx.lock_login_keys(&self.account, &self.address).await?;
        let stale_before = before(now, throttle.in_flight_stale);
        tx.forgive_login_failures(&self.account, &self.address, stale_before)
            .await?;
        let since = before(now, throttle.successes.window);
        let (count, oldest) = tx.login_successes(&self.account, since).await?;
        let answer = match success_wait(throttle.successes, count, oldest, now) {
            Some(wait) => {
                tx.release_login_attempt(self.id).await?;
                Err(wait)
            }
            None => {
                tx.settle_login_attempt(self.id, LoginOutcome::Succeeded, now)
                    .await?;
                Ok(())
            }
        };
        tx.commit().await?;
        self.settled = true;
        Ok(answer)
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Settled as failed in the background. Without a runtime (shutting down), the row
        // stays in flight and counts as failed once stale.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = self.throttle.store.clone();
            let id = self.id;
            runtime.spawn(async move { settle(&store, id, LoginOutcome::Failed).await });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DatabaseUrl;

    fn limits(pair: u32, account: u32, address: u32) -> Limits {
        Limits {
            login: LoginLimits {
                per_pair: RateLimit::per_minutes(pair, 15),
                per_account: RateLimit::per_minutes(account, 15),
                per_address: RateLimit::per_minutes(address, 15),
            },
            ..Limits::default()
        }
    }

    /// A throttle on a fresh SQLite database (the directory lives as long as the test).
    async fn throttle(limits: &Limits) -> (LoginThrottle, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&DatabaseUrl::in_data_dir(dir.path()))
            .await
            .unwrap();
        (LoginThrottle::new(store, limits), dir)
    }

    async fn begin(
        throttle: &LoginThrottle,
        account: &str,
        address: &str,
    ) -> Result<Attempt, Duration> {
        throttle
            .begin(account.to_owned(), address.to_owned())
            .await
            .expect("the database answers")
    }

    async fn succeeded(attempt: Attempt) -> Result<(), Duration> {
        attempt.succeeded().await.expect("the database answers")
    }

    fn window(failures: i64, oldest_secs_ago: i64, in_flight: i64) -> WindowCount {
        WindowCount {
            failures,
            oldest_failure: Some(Timestamp(NOW.0 - oldest_secs_ago * 1000)),
            in_flight,
        }
    }

    const NOW: Timestamp = Timestamp(1_000_000_000);

    #[test]
    fn the_decision_waits_for_the_oldest_failure_or_for_attempts_in_flight() {
        let limits = limits(5, 50, 100).login;
        let quiet = LoginCounts::default();
        assert_eq!(decide(&limits, &quiet, NOW), Ok(()));

        let full_pair = LoginCounts {
            pair: window(5, 60, 0),
            ..quiet
        };
        assert_eq!(
            decide(&limits, &full_pair, NOW),
            Err(Duration::from_secs(14 * 60)),
            "the oldest of five failures leaves the 15-minute window in 14 minutes"
        );

        let checking = LoginCounts {
            pair: window(3, 60, 2),
            ..quiet
        };
        assert_eq!(decide(&limits, &checking, NOW), Err(IN_FLIGHT_WAIT));

        let both = LoginCounts {
            pair: window(3, 60, 2),
            address: window(100, 5 * 60, 0),
            ..quiet
        };
        assert_eq!(
            decide(&limits, &both, NOW),
            Err(Duration::from_secs(10 * 60)),
            "the longest wait"
        );

        let closed = self::limits(0, 50, 100).login;
        assert_eq!(
            decide(&closed, &quiet, NOW),
            Err(Duration::from_secs(15 * 60)),
            "a window of zero refuses everything"
        );
    }

    #[test]
    fn the_success_limit_waits_for_the_oldest_success_to_leave_the_window() {
        let limit = RateLimit::per_minute(10);
        let oldest = Some(Timestamp(NOW.0 - 20_000));
        assert_eq!(success_wait(limit, 9, oldest, NOW), None);
        assert_eq!(
            success_wait(limit, 10, oldest, NOW),
            Some(Duration::from_secs(40))
        );
        assert_eq!(
            success_wait(RateLimit::per_minute(0), 0, None, NOW),
            None,
            "at least one"
        );
    }

    #[tokio::test]
    async fn attempts_in_flight_fill_the_window_until_their_check_ends() {
        let (throttle, _dir) = throttle(&limits(3, 100, 100)).await;
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(begin(&throttle, "a", "1.2.3.4").await.unwrap());
        }
        assert_eq!(
            begin(&throttle, "a", "1.2.3.4").await.err(),
            Some(IN_FLIGHT_WAIT),
            "three checks in flight: a fourth waits"
        );
        let mut held = held.into_iter();
        succeeded(held.next().unwrap()).await.unwrap();
        let fourth = begin(&throttle, "a", "1.2.3.4")
            .await
            .expect("a place came free");
        fourth.failed().await;
        for attempt in held {
            attempt.failed().await;
        }
        let wait = begin(&throttle, "a", "1.2.3.4")
            .await
            .err()
            .expect("throttled");
        assert!(
            wait > Duration::from_secs(14 * 60),
            "three failures: {wait:?}"
        );
    }

    #[tokio::test]
    async fn failures_on_one_account_never_block_another_from_the_same_address() {
        let (throttle, _dir) = throttle(&limits(5, 100, 100)).await;
        for _ in 0..5 {
            begin(&throttle, "a", "10.0.0.1")
                .await
                .unwrap()
                .failed()
                .await;
        }
        for _ in 0..100 {
            // Refused attempts count against nothing.
            assert!(begin(&throttle, "a", "10.0.0.1").await.is_err());
        }
        succeeded(begin(&throttle, "b", "10.0.0.1").await.unwrap())
            .await
            .unwrap();
        succeeded(begin(&throttle, "a", "10.0.0.2").await.unwrap())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_account_and_address_ceilings_hold_over_many_pairs() {
        let (throttle, _dir) = throttle(&limits(5, 3, 4)).await;
        for address in ["1.1.1.1", "1.1.1.2", "1.1.1.3"] {
            begin(&throttle, "a", address).await.unwrap().failed().await;
        }
        assert!(
            begin(&throttle, "a", "1.1.1.4").await.is_err(),
            "guessing spread over addresses"
        );
        for account in ["b", "c", "d", "e"] {
            begin(&throttle, account, "9.9.9.9")
                .await
                .unwrap()
                .failed()
                .await;
        }
        assert!(
            begin(&throttle, "f", "9.9.9.9").await.is_err(),
            "stuffing from one address"
        );
        succeeded(begin(&throttle, "f", "9.9.9.8").await.unwrap())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_success_forgives_its_own_pairs_typos_a_released_one_counts_nothing_and_a_dropped_one_fails()
     {
        let (throttle, _dir) = throttle(&limits(2, 100, 100)).await;
        begin(&throttle, "a", "x").await.unwrap().failed().await;
        succeeded(begin(&throttle, "a", "x").await.unwrap())
            .await
            .unwrap();
        begin(&throttle, "a", "x").await.unwrap().failed().await;
        begin(&throttle, "a", "x").await.unwrap().failed().await;
        assert!(begin(&throttle, "a", "x").await.is_err());

        for _ in 0..10 {
            begin(&throttle, "c", "x").await.unwrap().released().await;
        }
        drop(begin(&throttle, "b", "x").await.unwrap());
        drop(begin(&throttle, "b", "x").await.unwrap());
        assert!(
            begin(&throttle, "b", "x").await.is_err(),
            "hanging up mid-check is no free guess"
        );
    }

    #[tokio::test]
    async fn a_forgiven_failure_still_counts_for_the_account_and_the_address() {
        let (throttle, _dir) = throttle(&limits(5, 2, 100)).await;
        begin(&throttle, "a", "x").await.unwrap().failed().await;
        succeeded(begin(&throttle, "a", "x").await.unwrap())
            .await
            .unwrap();
        begin(&throttle, "a", "y").await.unwrap().failed().await;
        assert!(
            begin(&throttle, "a", "z").await.is_err(),
            "x's forgiven failure and y's fill the account's window"
        );
    }

    #[tokio::test]
    async fn an_attempt_left_in_flight_by_a_dead_instance_counts_as_failed_once_stale() {
        let (throttle, _dir) = throttle(&limits(1, 100, 100)).await;
        let long_ago = Timestamp(now_ms().0 - 2 * 60 * 1000);
        throttle
            .store
            .insert_login_attempt("a", "x", long_ago)
            .await
            .unwrap();
        let wait = begin(&throttle, "a", "x")
            .await
            .err()
            .expect("the dead instance's attempt fills the window");
        assert!(
            wait > Duration::from_secs(12 * 60) && wait <= Duration::from_secs(13 * 60),
            "a failure two minutes ago, not an attempt in flight: {wait:?}"
        );
    }

    #[tokio::test]
    async fn successful_logins_are_limited_per_account_and_a_refused_one_counts_nothing() {
        let mut limits = limits(5, 100, 100);
        limits.logins_per_account = RateLimit::per_minute(2);
        let (throttle, _dir) = throttle(&limits).await;
        for _ in 0..2 {
            succeeded(begin(&throttle, "a", "x").await.unwrap())
                .await
                .unwrap();
        }
        for _ in 0..10 {
            let wait = succeeded(begin(&throttle, "a", "x").await.unwrap())
                .await
                .expect_err("a third login within the minute");
            assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        }
        succeeded(begin(&throttle, "b", "x").await.unwrap())
            .await
            .expect("another account");
        assert_eq!(
            throttle
                .store
                .login_successes("a", Timestamp(0))
                .await
                .unwrap()
                .0,
            2,
            "refused logins are not recorded as successes"
        );
    }

    #[tokio::test]
    async fn old_attempts_are_forgotten() {
        let (throttle, _dir) = throttle(&limits(5, 50, 100)).await;
        let store = &throttle.store;
        let now = now_ms();
        store
            .insert_login_attempt("a", "x", Timestamp(now.0 - 16 * 60 * 1000))
            .await
            .unwrap();
        store.insert_login_attempt("a", "x", now).await.unwrap();
        assert_eq!(throttle.forget_old().await.unwrap(), 1);
        assert_eq!(throttle.forget_old().await.unwrap(), 0);
    }

    #[test]
    fn keys_are_normalised_bounded_and_ipv6_is_grouped_by_64() {
        assert_eq!(
            account_key("  Emma.Petit@Colloque.TEST "),
            "emma.petit@colloque.test"
        );
        assert_eq!(account_key(&"x".repeat(10_000)).len(), MAX_ACCOUNT_KEY);
        let v6 = |s: &str| address_key(Some(s.parse().unwrap()));
        assert_eq!(v6("2001:db8:1:2:aaaa::1"), v6("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
        assert_eq!(v6("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(v6("192.0.2.7"), "192.0.2.7");
    }
}
