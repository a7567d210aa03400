//! The WebSocket endpoint ([`colloque_protocol::WS_PATH`]): authentication by first frame,
//! then client frames in, pushed events out.

mod admission;
mod handler;

pub use admission::Admission;

pub use handler::{Refused, decode, handler};
