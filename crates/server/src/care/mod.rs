//! The care workflow's rules that do not depend on storage: who may write to a doctor
//! ([`intake`]), where a conversation stands in the doctor's queue ([`triage`]), and when a
//! patient may expect an answer (office hours, absences and French public holidays).

pub mod holidays;
pub mod hours;
pub mod intake;
pub mod reply_due;
pub mod triage;

pub use intake::{IntakeRule, decide, recent_cutoff};
pub use reply_due::{Absence, OfficeHours, ReplyPolicy, reply_due};
pub use triage::Triage;
