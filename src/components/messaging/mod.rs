//! The messaging UI, shared by doctors and patients.

pub mod attach;
pub mod attachment_view;
pub mod medecin_messaging;
pub mod message_list;
pub mod messaging_button;
#[cfg(feature = "second-build")]
pub mod patient_panel;
pub mod red_flag_screen;
pub mod secure_messaging;
#[cfg(feature = "second-build")]
pub mod template_picker;
pub mod topic_picker;
pub mod triage_bar;

pub use medecin_messaging::MedecinMessaging;
pub use messaging_button::MessagingButton;
pub use secure_messaging::SecureMessaging;
