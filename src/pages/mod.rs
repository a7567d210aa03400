//! Routed pages: they fetch their data and compose components.

pub mod login;
#[cfg(feature = "doctor")]
pub mod medecin;
pub mod not_found;
pub mod patient;
#[cfg(feature = "doctor")]
pub mod security;
