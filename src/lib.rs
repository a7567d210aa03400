//! Colloque app.
