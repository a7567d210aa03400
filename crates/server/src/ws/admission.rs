//! Who may open a socket: a cap on open sockets in total, and on sockets not yet authenticated
//! per client address (IPv6 by /64). Checked before the upgrade, so a refused client costs an
//! HTTP answer, not a socket; the places are given back when the guards are dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Why a socket was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The server holds as many sockets as it may.
    Full,
    /// This address has as many sockets waiting to authenticate as it may.
    TooManyFromAddress,
}

/// The socket counters, shared by every upgrade.
#[derive(Clone)]
pub struct Admission {
    inner: Arc<Inner>,
}

struct Inner {
    open: AtomicUsize,
    max_open: usize,
    unauthenticated: Mutex<HashMap<String, u32>>,
    max_unauthenticated: u32,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, u32>> {
        // Every update is complete under the lock: a poisoned lock holds consistent counts.
        self.unauthenticated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A place among the open sockets, held for the socket's life.
pub struct OpenSocket {
    inner: Arc<Inner>,
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.inner.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A place among one address's sockets waiting to authenticate, held until the socket has
/// authenticated or closed.
pub struct Unauthenticated {
    inner: Arc<Inner>,
    address: String,
}

impl Drop for Unauthenticated {
    fn drop(&mut self) {
        let mut waiting = self.inner.lock();
        if let Some(count) = waiting.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                waiting.remove(&self.address);
            }
        }
    }
}

impl Admission {
    /// At most `max_open` sockets, and `max_unauthenticated` per address before `auth`.
    pub fn new(max_open: usize, max_unauthenticated: u32) -> Self {
        Self {
            inner: Arc::new(Inner {
                open: AtomicUsize::new(0),
                max_open,
                unauthenticated: Mutex::new(HashMap::new()),
                max_unauthenticated,
            }),
        }
    }

    /// Takes a place for a new socket from `address` (an address key), or says why not.
    pub fn admit(&self, address: &str) -> Result<(OpenSocket, Unauthenticated), Refusal> {
        let before = self.inner.open.fetch_add(1, Ordering::AcqRel);
        let open = OpenSocket {
            inner: Arc::clone(&self.inner),
        };
        if before >= self.inner.max_open {
            return Err(Refusal::Full);
        }
        let mut waiting = self.inner.lock();
        let count = waiting.entry(address.to_owned()).or_insert(0);
        if *count >= self.inner.max_unauthenticated {
            if *count == 0 {
                waiting.remove(address);
            }
            return Err(Refusal::TooManyFromAddress);
        }
        *count += 1;
        drop(waiting);
        Ok((
            open,
            Unauthenticated {
                inner: Arc::clone(&self.inner),
                address: address.to_owned(),
            },
        ))
    }

    /// Sockets open now.
    pub fn open(&self) -> usize {
        self.inner.open.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_for_at_most_its_share_and_gets_it_back() {
        let admission = Admission::new(100, 2);
        let a = admission.admit("1.1.1.1").unwrap();
        let b = admission.admit("1.1.1.1").unwrap();
        assert_eq!(
            admission.admit("1.1.1.1").err(),
            Some(Refusal::TooManyFromAddress)
        );
        let other = admission
            .admit("2.2.2.2")
            .expect("another address has its own share");
        // `a` authenticates: its waiting place comes back, its socket stays open.
        let (a_open, a_waiting) = a;
        drop(a_waiting);
        let c = admission.admit("1.1.1.1").expect("a place came free");
        assert_eq!(admission.open(), 4);
        drop((a_open, b, c, other));
        assert_eq!(admission.open(), 0);
        assert!(admission.inner.lock().is_empty(), "no key left behind");
    }

    #[test]
    fn past_the_total_every_address_is_refused_until_a_socket_closes() {
        let admission = Admission::new(2, 10);
        let first = admission.admit("1.1.1.1").unwrap();
        let _second = admission.admit("2.2.2.2").unwrap();
        assert_eq!(admission.admit("3.3.3.3").err(), Some(Refusal::Full));
        assert_eq!(admission.open(), 2, "a refusal holds no place");
        drop(first);
        admission.admit("3.3.3.3").expect("a socket closed");
    }
}
