//! Colloque server.
