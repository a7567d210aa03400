//! Integration tests: a real server per test (port 0, fresh SQLite file, demo data), driven
//! over real HTTP and real WebSockets.

mod auth;
mod conversations;
mod helpers;
mod history;
mod http;
mod messages;
mod tokens;
mod websocket;
