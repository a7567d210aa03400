//! The WebSocket endpoint ([`colloque_protocol::WS_PATH`]): authentication by first frame,
//! then client frames in, pushed events out.
//!
//! One task per socket direction, like axum's chat example: after authentication
//! (`handshake.rs`) the socket is split; the writer (`writer.rs`) drains the socket's queue
//! (its own answers and pushed events, in order) and pings the client every heartbeat, the
//! reader (`reader.rs`) handles client frames and closes a socket that went silent. When either
//! ends, the other is stopped. `frames.rs` decodes client frames and builds the error and
//! close frames.

mod admission;
mod frames;
mod handshake;
mod reader;
mod writer;

pub use admission::Admission;

pub use frames::{Refused, decode};
pub use handshake::handler;
