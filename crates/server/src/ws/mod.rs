//! The WebSocket endpoint ([`colloque_protocol::WS_PATH`]): authentication by first frame,
//! then client frames in, pushed events out.

mod admission;
mod handler;
mod hub;

pub use admission::Admission;

pub use handler::{Refused, decode, handler};
pub use hub::{
    ConnId, Hub, KICK_REVOKED, KICK_SHUTDOWN, KICK_TOO_SLOW, Kick, Outbound, Registration,
};
