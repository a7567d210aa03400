//! Cluster tests: three `colloque-server` processes (this crate's binary) on a private
//! PostgreSQL and `nats-server`, sometimes behind nginx, all on loopback
//! ([`colloque_testbed::Cluster`]). Each test starts its own cluster, breaks what it is about
//! (an instance, the bus, the database), and checks every acknowledged message: stored once,
//! in a gap-free order, and pushed to every socket that should have it.
//!
//! The chaos test's client and checker are shared (tests/chaos).

#[path = "../chaos/checker.rs"]
mod checker;
// The chaos test also cuts sockets on command; these tests break the cluster instead.
#[allow(dead_code)]
#[path = "../chaos/client.rs"]
mod client;

mod audit;
mod delivery;
mod faults;
mod harness;
mod login_throttling;
mod receipts;
mod schema;
mod sessions;
mod typing;
mod writers;
