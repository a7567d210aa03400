//! Reusable UI pieces. Components take props and emit `on_*` callbacks; the messaging ones
//! read the shared messaging state through the hooks.

pub mod alert_dialog;
pub mod cards;
pub mod connection_status;
pub mod documents;
pub mod emergency_note;
pub mod error_view;
pub mod idle_warning;
pub mod layout;
pub mod messaging;
pub mod mfa_settings;
pub mod notification_settings;
pub mod outbox_notice;
pub mod push_settings;
pub mod session_notice;
pub mod typing_setting;
