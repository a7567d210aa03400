//! The doctor's pages.

pub mod hours;
pub mod inbox;
pub mod patients;
pub mod settings;
pub mod templates;
