//! The real engines of a Colloque cluster, started on loopback for tests, benchmarks and
//! `cargo xtask cluster`: a private PostgreSQL cluster ([`Postgres`]), a `nats-server`
//! ([`Nats`]), an nginx reverse proxy ([`Nginx`]) an SMTP server ([`SmtpSink`]) and a Web Push service ([`PushService`]), each on a port of its own, each owned by
//! this process and broken on purpose when a test asks (`kill -9`, immediate restart,
//! `SIGSTOP`). [`Cluster`] puts them together with N `colloque-server` processes
//! ([`ServerInstance`]).
//!
//! Nothing here touches the machine's own PostgreSQL or NATS services: each engine gets a
//! scratch directory, a port of its own, and a watchdog (a `sh` loop) that stops it and removes
//! its directory when the process that started it is gone, even after a panic or a `kill -9`
//! of the test binary.
//!
//! Synchronous on purpose (std processes, no runtime), so that any test, whatever its runtime,
//! and the task runner can use it.

mod cluster;
mod nats;
mod nginx;
mod postgres;
mod process;
mod push;
mod smtp;

pub use cluster::{Cluster, ClusterOptions, DATABASE, ServerInstance, http_get};
pub use nats::Nats;
pub use nginx::Nginx;
pub use postgres::{Postgres, PostgresOptions};
pub use process::{free_port, signal, wait_for_port};
pub use push::{BrowserSubscription, PushService, ReceivedPush, Vapid};
pub use smtp::{Mail, SmtpSink, parse_mail};
