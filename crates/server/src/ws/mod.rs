//! The WebSocket endpoint ([`colloque_protocol::WS_PATH`]): authentication by first frame,
//! then client frames in, pushed events out.

mod handler;
mod hub;

pub use handler::handler;
pub use hub::{ConnId, Hub, Kick, Outbound, Registration};
