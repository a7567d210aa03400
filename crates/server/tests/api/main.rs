//! Integration tests: a real server per test (port 0, fresh SQLite file, demo data), driven
//! over real HTTP and real WebSockets.

#[macro_use]
mod helpers;

mod attachment_fixtures;
mod attachments;
mod attachments_fuzz;
mod attachments_send;
mod attachments_slow;
mod audit;
mod audit_chain;
mod audit_refusals;
mod auth;
mod care;
mod contract;
mod conversations;
mod fuzz;
mod history;
mod hours;
mod http;
mod intake;
mod login_throttling;
mod messages;
mod metrics;
mod mfa;
mod notifications;
mod notifying;
mod outbox_key;
mod push;
mod receipts;
mod refresh_tokens;
mod safe_defaults;
mod second_build;
mod sessions;
mod sessions_page;
mod shutdown;
mod socket_cap;
mod templates;
mod tokens;
mod triage;
mod typing;
mod urgent;
mod websocket;
mod ws_limits;
