//! The doctor's pages.

pub mod inbox;
pub mod patients;
pub mod settings;
