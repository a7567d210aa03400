//! The patient's pages. Each carries messaging buttons: the original app's fix was to put the
//! existing button in the patient pages, so patients share the doctors' WebSocket and hooks.

pub mod appointments;
pub mod care_team;
pub mod dashboard;
pub mod messages;
