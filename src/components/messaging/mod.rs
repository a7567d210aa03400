//! The messaging UI, shared by doctors and patients.

pub mod medecin_messaging;
pub mod message_list;
pub mod messaging_button;
pub mod secure_messaging;

pub use medecin_messaging::MedecinMessaging;
pub use messaging_button::MessagingButton;
pub use secure_messaging::SecureMessaging;
