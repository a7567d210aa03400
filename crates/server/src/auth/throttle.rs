//! Login throttling that cannot be raced and cannot be turned against others
//! (docs/security.md, "Login throttling").
//!
//! Three sliding windows of failures, checked and reserved in one step under one lock:
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

use crate::config::{LoginLimits, RateLimit};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Above this many keys in a map, idle ones are pruned before one is added.
const PRUNE_ABOVE: usize = 10_000;
/// What a client is told to wait when the window is full of attempts still being checked.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);
/// Longest account key kept (an email's maximum length); longer input is cut.
const MAX_ACCOUNT_KEY: usize = 254;

/// The key of an account: the email as typed, trimmed and lower-cased, at most 254 characters.
/// Known and unknown emails are keyed alike, so the answer never tells which exists.
pub fn account_key(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(MAX_ACCOUNT_KEY)
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

#[derive(Default)]
struct Counter {
    failures: VecDeque<Instant>,
    in_flight: u32,
}

impl Counter {
    fn forget_old(&mut self, window: Duration, now: Instant) {
        while self
            .failures
            .front()
            .is_some_and(|at| now.duration_since(*at) >= window)
        {
            self.failures.pop_front();
        }
    }

    /// `Err(wait)` when the failures and the attempts in flight fill the window.
    fn check(&mut self, limit: RateLimit, now: Instant) -> Result<(), Duration> {
        self.forget_old(limit.window, now);
        let max = limit.max as usize;
        if self.failures.len() >= max {
            let oldest = self.failures.front().copied().unwrap_or(now);
            return Err(limit.window.saturating_sub(now.duration_since(oldest)));
        }
        if self.failures.len() + self.in_flight as usize >= max {
            return Err(IN_FLIGHT_WAIT);
        }
        Ok(())
    }

    fn settle(&mut self, failed: bool, limit: RateLimit, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if failed {
            self.failures.push_back(now);
            // Never more than needed to decide.
            while self.failures.len() > limit.max as usize {
                self.failures.pop_front();
            }
        }
    }

    fn idle(&self, window: Duration, now: Instant) -> bool {
        self.in_flight == 0
            && self
                .failures
                .back()
                .is_none_or(|last| now.duration_since(*last) >= window)
    }
}

/// One window's counters by key.
struct Window<K> {
    limit: RateLimit,
    counters: HashMap<K, Counter>,
}

impl<K: Hash + Eq + Clone> Window<K> {
    fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            counters: HashMap::new(),
        }
    }

    fn check(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        match self.counters.get_mut(key) {
            Some(counter) => counter.check(self.limit, now),
            None if self.limit.max == 0 => Err(self.limit.window),
            None => Ok(()),
        }
    }

    fn reserve(&mut self, key: &K, now: Instant) {
        if self.counters.len() > PRUNE_ABOVE {
            let window = self.limit.window;
            self.counters
                .retain(|_, counter| !counter.idle(window, now));
        }
        self.counters.entry(key.clone()).or_default().in_flight += 1;
    }

    fn settle(&mut self, key: &K, failed: bool, now: Instant) {
        if let Some(counter) = self.counters.get_mut(key) {
            counter.settle(failed, self.limit, now);
        }
    }

    fn release(&mut self, key: &K) {
        if let Some(counter) = self.counters.get_mut(key) {
            counter.in_flight = counter.in_flight.saturating_sub(1);
        }
    }

    fn clear(&mut self, key: &K) {
        if let Some(counter) = self.counters.get_mut(key) {
            counter.failures.clear();
            if counter.in_flight == 0 {
                self.counters.remove(key);
            }
        }
    }
}

struct Windows {
    pairs: Window<(String, String)>,
    accounts: Window<String>,
    addresses: Window<String>,
}

/// The login throttle, shared by every request.
#[derive(Clone)]
pub struct LoginThrottle {
    windows: Arc<Mutex<Windows>>,
}

impl LoginThrottle {
    /// Windows with these limits.
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            windows: Arc::new(Mutex::new(Windows {
                pairs: Window::new(limits.per_pair),
                accounts: Window::new(limits.per_account),
                addresses: Window::new(limits.per_address),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Windows> {
        // Every update is complete under the lock: a poisoned lock holds consistent counters.
        self.windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks the three windows and, if none is full, holds a place in each until the returned
    /// attempt is settled. `Err(wait)`: refused, for at least this long.
    pub fn begin(&self, account: String, address: String) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let mut windows = self.lock();
        let pair = (account, address);
        let waits = [
            windows.pairs.check(&pair, now),
            windows.accounts.check(&pair.0, now),
            windows.addresses.check(&pair.1, now),
        ];
        if let Some(wait) = waits.iter().filter_map(|w| w.err()).max() {
            return Err(wait);
        }
        windows.pairs.reserve(&pair, now);
        windows.accounts.reserve(&pair.0, now);
        windows.addresses.reserve(&pair.1, now);
        Ok(Attempt {
            throttle: self.clone(),
            pair,
            settled: false,
        })
    }

    fn release(&self, pair: &(String, String)) {
        let mut windows = self.lock();
        windows.pairs.release(pair);
        windows.accounts.release(&pair.0);
        windows.addresses.release(&pair.1);
    }

    fn settle(&self, pair: &(String, String), failed: bool) {
        let now = Instant::now();
        let mut windows = self.lock();
        windows.pairs.settle(pair, failed, now);
        windows.accounts.settle(&pair.0, failed, now);
        windows.addresses.settle(&pair.1, failed, now);
        if !failed {
            // The right password from this address: its own earlier typos are forgiven. The
            // account's and the address's ceilings are not (they count others' attempts too).
            windows.pairs.clear(pair);
        }
    }
}

/// A login attempt holding its place in the windows. Settle it with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropped unsettled (the request was cancelled mid-check), it counts
/// as a failure, so hanging up cannot buy free guesses.
pub struct Attempt {
    throttle: LoginThrottle,
    pair: (String, String),
    settled: bool,
}

impl Attempt {
    /// The password was wrong, or the account unknown or disabled.
    pub fn failed(mut self) {
        self.settled = true;
        self.throttle.settle(&self.pair, true);
    }

    /// The check did not happen (the server was too busy): as if never attempted.
    pub fn released(mut self) {
        self.settled = true;
        self.throttle.release(&self.pair);
    }

    /// The password was right.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle.settle(&self.pair, false);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.settle(&self.pair, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(pair: u32, account: u32, address: u32) -> LoginLimits {
        LoginLimits {
            per_pair: RateLimit::per_minutes(pair, 15),
            per_account: RateLimit::per_minutes(account, 15),
            per_address: RateLimit::per_minutes(address, 15),
        }
    }

    fn begin(throttle: &LoginThrottle, account: &str, address: &str) -> Result<Attempt, Duration> {
        throttle.begin(account.to_owned(), address.to_owned())
    }

    #[test]
    fn attempts_in_flight_fill_the_window_until_their_check_ends() {
        let throttle = LoginThrottle::new(limits(3, 100, 100));
        let held: Vec<Attempt> = (0..3)
            .map(|_| begin(&throttle, "a", "1.2.3.4").unwrap())
            .collect();
        assert_eq!(
            begin(&throttle, "a", "1.2.3.4").err(),
            Some(IN_FLIGHT_WAIT),
            "three checks in flight: a fourth waits"
        );
        let mut held = held.into_iter();
        held.next().unwrap().succeeded();
        let fourth = begin(&throttle, "a", "1.2.3.4").expect("a place came free");
        fourth.failed();
        for attempt in held {
            attempt.failed();
        }
        let wait = begin(&throttle, "a", "1.2.3.4").err().expect("throttled");
        assert!(
            wait > Duration::from_secs(14 * 60),
            "three failures: {wait:?}"
        );
    }

    #[test]
    fn failures_on_one_account_never_block_another_from_the_same_address() {
        let throttle = LoginThrottle::new(limits(5, 100, 100));
        for _ in 0..5 {
            begin(&throttle, "a", "10.0.0.1").unwrap().failed();
        }
        for _ in 0..100 {
            // Refused attempts count against nothing.
            assert!(begin(&throttle, "a", "10.0.0.1").is_err());
        }
        begin(&throttle, "b", "10.0.0.1").unwrap().succeeded();
        begin(&throttle, "a", "10.0.0.2").unwrap().succeeded();
    }

    #[test]
    fn the_account_and_address_ceilings_hold_over_many_pairs() {
        let throttle = LoginThrottle::new(limits(5, 3, 4));
        for address in ["1.1.1.1", "1.1.1.2", "1.1.1.3"] {
            begin(&throttle, "a", address).unwrap().failed();
        }
        assert!(
            begin(&throttle, "a", "1.1.1.4").is_err(),
            "guessing spread over addresses"
        );
        for account in ["b", "c", "d", "e"] {
            begin(&throttle, account, "9.9.9.9").unwrap().failed();
        }
        assert!(
            begin(&throttle, "f", "9.9.9.9").is_err(),
            "stuffing from one address"
        );
        begin(&throttle, "f", "9.9.9.8").unwrap().succeeded();
    }

    #[test]
    fn a_success_forgives_its_own_pairs_typos_a_released_one_counts_nothing_and_a_dropped_one_fails()
     {
        let throttle = LoginThrottle::new(limits(2, 100, 100));
        begin(&throttle, "a", "x").unwrap().failed();
        begin(&throttle, "a", "x").unwrap().succeeded();
        begin(&throttle, "a", "x").unwrap().failed();
        begin(&throttle, "a", "x").unwrap().failed();
        assert!(begin(&throttle, "a", "x").is_err());

        for _ in 0..10 {
            begin(&throttle, "c", "x").unwrap().released();
        }
        drop(begin(&throttle, "b", "x").unwrap());
        drop(begin(&throttle, "b", "x").unwrap());
        assert!(
            begin(&throttle, "b", "x").is_err(),
            "hanging up mid-check is no free guess"
        );
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
