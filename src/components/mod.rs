//! Reusable UI pieces. Components take props and emit `on_*` callbacks; the messaging ones
//! read the shared messaging state through the hooks. The account page's pieces are in the
//! second build only (src/doctor_build.rs).

pub mod alert_dialog;
pub mod cards;
pub mod connection_status;
pub mod documents;
pub mod emergency_note;
pub mod error_view;
pub mod idle_warning;
pub mod layout;
pub mod messaging;
#[cfg(feature = "doctor")]
pub mod mfa_settings;
#[cfg(feature = "doctor")]
pub mod notification_settings;
pub mod outbox_notice;
#[cfg(feature = "doctor")]
pub mod push_settings;
pub mod session_notice;
#[cfg(feature = "doctor")]
pub mod typing_setting;
