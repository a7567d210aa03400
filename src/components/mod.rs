//! Reusable UI pieces. Components take props and emit `on_*` callbacks; the messaging ones
//! read the shared messaging state through the hooks. The account page's pieces are in the
//! second build only (src/second_build.rs).

pub mod alert_dialog;
pub mod cards;
pub mod connection_status;
pub mod documents;
pub mod emergency_note;
pub mod error_view;
pub mod idle_warning;
pub mod layout;
pub mod messaging;
#[cfg(feature = "second-build")]
pub mod mfa_settings;
#[cfg(feature = "second-build")]
pub mod notification_settings;
pub mod outbox_notice;
#[cfg(feature = "second-build")]
pub mod push_settings;
pub mod session_notice;
#[cfg(feature = "second-build")]
pub mod typing_setting;
