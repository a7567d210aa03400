//! Shared state as hooks: messaging for the whole app, one conversation, and data fetching.

pub mod outbox;
pub mod use_attachments;
pub mod use_fetch;
pub mod use_inactivity;
pub mod use_messaging;
pub mod use_secure_messaging;
pub mod use_triage;

pub use use_fetch::{FetchState, Fetched, use_fetch};
pub use use_messaging::{MessagingHandle, MessagingProvider, use_messaging};
pub use use_secure_messaging::{SecureMessagingHandle, use_secure_messaging};
pub use use_triage::{NewRequestHandle, RequestStep, TriageHandle, use_new_request, use_triage};
