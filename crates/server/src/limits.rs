//! In-memory rate limits: token buckets (sends and requests per user). The login limits are
//! in `auth::throttle`, in the database.
//!
//! In memory on purpose: they budget authenticated users, whose every request is audited, so a
//! user spreading sockets over N instances gets at most N times the budget, and a restart
//! forgetting them costs at most one more window (docs/security.md, "Login throttling"). Maps
//! are pruned as they grow, so a flood of distinct keys cannot exhaust memory.

use crate::config::RateLimit;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Above this many keys, idle entries are pruned before inserting.
const PRUNE_ABOVE: usize = 10_000;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update is a single, complete map operation: a poisoned lock holds consistent data.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A token bucket per key: `max` tokens, refilled continuously at `max` per `window`. Bursts up
/// to `max` pass, then the steady rate.
#[derive(Clone)]
pub struct TokenBuckets<K> {
    limit: RateLimit,
    buckets: Arc<Mutex<HashMap<K, (f64, Instant)>>>,
}

impl<K: Hash + Eq + Clone> TokenBuckets<K> {
    /// A bucket of `limit.max` tokens per key.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one token for `key`, or says how long until one is available.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.limit.max.max(1));
        let per_second = capacity / self.limit.window.as_secs_f64().max(0.001);
        let mut buckets = lock(&self.buckets);
        if buckets.len() > PRUNE_ABOVE {
            // A bucket that would be full again is the same as no bucket.
            let full_after = self.limit.window;
            buckets.retain(|_, (_, at)| now.duration_since(*at) < full_after);
        }
        let (tokens, at) = buckets.entry(key.clone()).or_insert((capacity, now));
        let refilled = (*tokens + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(Duration::from_secs_f64((1.0 - refilled) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_lets_a_burst_through_then_refills_at_the_steady_rate() {
        let buckets = TokenBuckets::new(RateLimit::per_minute(3));
        let start = Instant::now();
        for _ in 0..3 {
            buckets.take_at(&1, start).unwrap();
        }
        let wait = buckets.take_at(&1, start).unwrap_err();
        assert!(wait <= Duration::from_secs(20) && wait > Duration::from_secs(19));
        // Other keys have their own bucket.
        buckets.take_at(&2, start).unwrap();
        // One token every 20 s.
        buckets
            .take_at(&1, start + Duration::from_secs(20))
            .unwrap();
        assert!(
            buckets
                .take_at(&1, start + Duration::from_secs(21))
                .is_err()
        );
    }
}
