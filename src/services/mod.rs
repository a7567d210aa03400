//! The only code that touches the network: typed REST calls and the WebSocket.

pub mod attachments;
pub mod auth;
pub mod care;
pub mod config;
pub mod json;
pub mod messaging_api;
pub mod notifications;
pub mod push;
pub mod requests;
#[cfg(feature = "second-build")]
pub mod templates;
pub mod typing;
pub mod websocket;

pub use requests::{Api, Error};
