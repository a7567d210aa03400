//! Colloque server: REST + WebSocket, over SQLite (one instance) or PostgreSQL and NATS (a
//! cluster).
//!
//! The binary (`main.rs`) only calls [`cli::run`]; everything else lives here so that the
//! integration tests (and other crates' end-to-end tests) can start a real server with
//! [`Application::build`].

#![forbid(unsafe_code)]

pub mod admin;
pub mod attachments;
pub mod audit;
pub mod auth;
mod background;
pub mod bus;
pub mod care;
pub mod chat;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod error;
mod http;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod routes;
pub mod security;
pub mod serve;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod util;
pub mod ws;

pub use config::{Argon2Cost, Config, Limits, LoginLimits, RateLimit};
pub use demo::{DEMO_ACCOUNTS, DEMO_PASSWORD};
pub use startup::{Application, ShutdownHandle};
