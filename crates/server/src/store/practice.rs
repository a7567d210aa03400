//! The operations of the practice: care links, appointments, conversations and their place in
//! the queue, intake, office hours and absences, reply templates, notification and typing
//! choices, attachments, read cursors (one table function each, on the pool or in a [`Tx`]).

use super::model::*;
use super::{Store, Tx, postgres, sqlite};
use crate::care::{IntakeRule, Triage};
use colloque_protocol::{
    AbsenceId, Appointment, AppointmentId, AttachmentId, ConversationId, ConversationSummary,
    Document, IntakeMode, MessageId, ReplyTemplate, Role, Seq, TemplateId, Timestamp, Topic,
    UserId, UserProfile,
};

operations! {
    /// Links a doctor and a patient; false if they already were.
    fn link(doctor: UserId, patient: UserId, now: Timestamp) -> bool = care::link;
    /// Ends the care relationship of a pair; false if there was none.
    fn unlink(doctor: UserId, patient: UserId) -> bool = care::unlink;
    /// Whether `doctor` follows `patient` (both accounts enabled, roles as expected).
    fn is_linked(doctor: UserId, patient: UserId) -> bool = care::is_linked;
    /// A patient's doctors, by name.
    fn doctors_of(patient: UserId) -> Vec<UserProfile> = care::doctors_of;
    /// A doctor's patients, by name.
    fn patients_of(doctor: UserId) -> Vec<UserProfile> = care::patients_of;

    /// Stores an appointment.
    fn insert_appointment(appointment: &NewAppointment<'_>) -> AppointmentId = appointments::insert;
    /// A user's appointments, by start.
    fn appointments_for(user: UserId, role: Role) -> Vec<Appointment> = appointments::for_user;

    /// The conversation `id` if `user` takes part in it.
    fn conversation_for(id: ConversationId, user: UserId) -> Option<ConversationRef> = conversations::for_participant;
    /// The open conversation of a patient–doctor pair.
    fn find_open_between(patient: UserId, doctor: UserId) -> Option<ConversationId> = conversations::find_open_between;
    /// Creates an open conversation about `topic`, at `triage`'s place in the queue.
    fn insert_conversation(patient: UserId, doctor: UserId, subject: &str, topic: Topic, triage: Triage) -> ConversationId = conversations::insert;
    /// Puts a conversation at a place in the queue (closed exactly when done).
    fn set_conversation_place(id: ConversationId, triage: Triage) -> () = conversations::set_place;
    /// Closes the open conversation of a patient–doctor pair, if any, at `now`; returns it.
    fn close_open_between(patient: UserId, doctor: UserId, now: Timestamp) -> Option<ConversationId> = conversations::close_open_between;

    /// A doctor's intake setting (the default if never set).
    fn intake_rule(doctor: UserId) -> IntakeRule = intake::rule;
    /// Replaces a doctor's intake setting.
    fn set_intake_rule(doctor: UserId, mode: IntakeMode, months: u32, now: Timestamp) -> () = intake::set_rule;
    /// The patients a doctor blocked.
    fn blocked_by(doctor: UserId) -> Vec<UserId> = intake::blocked_by;
    /// Blocks a patient; false if already blocked.
    fn block_patient(doctor: UserId, patient: UserId, now: Timestamp) -> bool = intake::block;
    /// Lifts a block; false if there was none.
    fn unblock_patient(doctor: UserId, patient: UserId) -> bool = intake::unblock;
    /// Whether the doctor blocked the patient, and whether they have an appointment since `since`.
    fn blocked_and_seen(doctor: UserId, patient: UserId, since: Timestamp) -> (bool, bool) = intake::blocked_and_seen;
    /// A doctor's promise and office hours, if set.
    fn reply_settings(doctor: UserId) -> Option<StoredReplySettings> = hours::settings;
    /// Replaces a doctor's promise and office hours.
    fn set_reply_settings(doctor: UserId, working_days: Option<u32>, hours: &str, now: Timestamp) -> () = hours::set_settings;
    /// A doctor's absences ending on `day` or later.
    fn absences_until(doctor: UserId, day: &str) -> Vec<AbsenceRow> = hours::absences_until;
    /// Records an absence.
    fn insert_absence(doctor: UserId, from: &str, to: &str, covering: Option<UserId>, now: Timestamp) -> AbsenceId = hours::insert_absence;
    /// Deletes one of a doctor's absences; false if there was none.
    fn delete_absence(doctor: UserId, id: AbsenceId) -> bool = hours::delete_absence;
    /// The enabled doctors who share a patient with `doctor`.
    fn colleagues(doctor: UserId) -> Vec<UserProfile> = hours::colleagues;
    /// Notes a conversation's automatic reply of `day`; false if it had one.
    fn claim_auto_reply(id: ConversationId, day: &str) -> bool = hours::claim_auto_reply;
    /// The reply templates `doctor` may use (their own and the shared ones), by title.
    fn templates_visible_to(doctor: UserId) -> Vec<ReplyTemplate> = templates::visible_to;
    /// A reply template, whoever owns it.
    fn template(id: TemplateId) -> Option<ReplyTemplate> = templates::by_id;
    /// How many templates a doctor owns.
    fn count_templates(doctor: UserId) -> i64 = templates::count_owned;
    /// Stores a doctor's new template.
    fn insert_template(doctor: UserId, template: &NewTemplate<'_>, now: Timestamp) -> TemplateId = templates::insert;
    /// Replaces a doctor's template; false if they own none with this id.
    fn update_template(doctor: UserId, id: TemplateId, template: &NewTemplate<'_>, now: Timestamp) -> bool = templates::update;
    /// Deletes a doctor's template; false if they own none with this id.
    fn delete_template(doctor: UserId, id: TemplateId) -> bool = templates::delete;
    /// The template a message was sent from, if any.
    fn template_of_message(id: MessageId) -> Option<TemplateId> = templates::of_message;
    /// The head of each conversation of `user`.
    fn conversation_heads(user: UserId) -> Vec<(ConversationId, Seq)> = conversations::heads_of_user;
    /// The heads of every conversation (with messages) of these users.
    fn heads_of_users(users: &[UserId]) -> Vec<Head> = conversations::heads_of_users;
    /// The heads of the conversations active since `since`.
    fn heads_active_since(since: Timestamp) -> Vec<Head> = conversations::heads_active_since;
    /// The conversations of `viewer` as they see them (or only `only`), latest activity first.
    fn summaries(viewer: UserId, role: Role, only: Option<ConversationId>) -> Vec<ConversationSummary> = conversations::summaries;

    /// A user's notification choices, if they made any.
    fn notification_settings(user: UserId) -> Option<StoredNotificationSettings> = notifications::settings;
    /// Replaces a user's notification choices.
    fn set_notification_settings(user: UserId, settings: &StoredNotificationSettings, now: Timestamp) -> () = notifications::set_settings;
    /// Turns a user's e-mail off; false if there is no such user.
    fn email_off(user: UserId, quiet: (u16, u16), now: Timestamp) -> bool = notifications::email_off;
    /// Who may have something to be told by e-mail (patients or doctors).
    fn notice_candidates(since: Timestamp, patients: bool) -> Vec<NoticeCandidate> = notifications::candidates;
    /// Claims an e-mail for a participant of a conversation; false if it was taken.
    fn claim_email_notice(user: UserId, conversation: ConversationId, previous: Timestamp, notified_seq: Seq, reminded_key: i64, now: Timestamp) -> bool = notifications::claim;

    /// Whether a user's writing is shown to the other participant, if they chose.
    fn share_typing(user: UserId) -> Option<bool> = typing::share;
    /// Replaces a user's typing indicator choice.
    fn set_share_typing(user: UserId, share: bool, now: Timestamp) -> () = typing::set_share;

    /// Whether a content of this hash is stored already.
    fn attachment_blob_exists(sha256: &str) -> bool = attachments::blob_exists;
    /// Stores a content unless the same bytes are stored (content-addressed).
    fn insert_attachment_blob(sha256: &str, content: &[u8], thumbnail: Option<&[u8]>, now: Timestamp) -> () = attachments::insert_blob;
    /// Records an upload.
    fn insert_attachment(attachment: &NewAttachment<'_>) -> () = attachments::insert;
    /// The bytes a user's uploads take.
    fn attachment_bytes_used(owner: UserId) -> i64 = attachments::used_bytes;
    /// The attachment `id` if `user` may fetch it.
    fn visible_attachment(id: AttachmentId, user: UserId) -> Option<AttachmentRow> = attachments::visible;
    /// A stored content (or its thumbnail).
    fn attachment_content(sha256: &str, thumbnail: bool) -> Option<Vec<u8>> = attachments::content;
    /// Attachments sent in the user's conversations (or one), newest first.
    fn documents(user: UserId, conversation: Option<ConversationId>, before: i64, limit: u32) -> (Vec<Document>, bool) = attachments::documents;

    /// How far `user` has read and received `conversation`.
    fn read_cursor(user: UserId, conversation: ConversationId) -> Cursors = read_cursors::get;
    /// Moves a read cursor forward at `at` (never back); returns the cursors.
    fn advance_read_cursor(user: UserId, conversation: ConversationId, seq: Seq, at: Timestamp) -> Cursors = read_cursors::advance;
    /// Moves a delivery cursor forward (never back); returns the cursors.
    fn advance_delivered(user: UserId, conversation: ConversationId, seq: Seq) -> Cursors = read_cursors::advance_delivered;
}
