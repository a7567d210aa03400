//! Routed pages: they fetch their data and compose components.

pub mod login;
#[cfg(feature = "second-build")]
pub mod medecin;
pub mod not_found;
pub mod patient;
#[cfg(feature = "second-build")]
pub mod security;
