//! The care workflow's rules that do not depend on storage: when a patient may expect an
//! answer (office hours, absences and French public holidays).

pub mod holidays;
pub mod reply_due;

pub use reply_due::{Absence, OfficeHours, ReplyPolicy, reply_due};
