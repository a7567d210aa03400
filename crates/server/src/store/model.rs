//! The values that cross the storage boundary: what callers hand to [`super::Store`] and what it
//! hands back. Plain data, the same for every backend.

use crate::care::Triage;
use crate::domain::{Email, SessionId};
use colloque_protocol::{
    ClientMsgId, ConversationId, ConversationStatus, HistoryQuery, IntakeMode, Message, MessageId,
    MessageKind, ReadCursor, Role, Seq, SessionHandle, Timestamp, Topic, TriageState, UserId,
};

/// What login needs to know about an account.
#[derive(Debug)]
pub struct Credentials {
    /// The user.
    pub id: UserId,
    /// Their role.
    pub role: Role,
    /// PHC argon2id hash.
    pub password_hash: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
}

/// A new account.
pub struct NewUser<'a> {
    /// Patient or doctor.
    pub role: Role,
    /// Shown to others.
    pub display_name: &'a str,
    /// Login.
    pub email: &'a Email,
    /// Doctors only.
    pub speciality: Option<&'a str>,
    /// Already hashed.
    pub password_hash: &'a str,
}

/// A new appointment.
pub struct NewAppointment<'a> {
    /// The patient.
    pub patient: UserId,
    /// The doctor.
    pub doctor: UserId,
    /// Start.
    pub starts_at: Timestamp,
    /// Length in minutes.
    pub duration_minutes: u32,
    /// Where.
    pub location: &'a str,
    /// Why.
    pub reason: &'a str,
}

/// The user behind an active session.
#[derive(Debug)]
pub struct ActiveUser {
    /// Their role, as stored now.
    pub role: Role,
    /// The session's last recorded activity.
    pub last_seen_at: Timestamp,
    /// The session's absolute end.
    pub expires_at: Timestamp,
    /// The session's public name.
    pub handle: SessionHandle,
    /// The session's generation: bumped by every refresh that rotates its credential.
    pub generation: i64,
    /// When it last rotated.
    pub rotated_at: Option<Timestamp>,
    /// Whether the account has multi-factor authentication enabled.
    pub mfa: bool,
}

/// An account's TOTP authenticator (`mfa_totp`).
pub struct MfaTotp {
    /// The secret, encrypted (`auth::mfa::MfaKeys`): never logged, never sent once enabled.
    pub secret: String,
    /// False while enrolment waits for its first code.
    pub enabled: bool,
    /// The latest time step whose code was accepted.
    pub last_step: i64,
}

/// A session being opened (login).
pub struct NewSession<'a> {
    /// Its id (the tokens' `sid`).
    pub id: &'a SessionId,
    /// Whose.
    pub user: UserId,
    /// Its absolute end.
    pub expires_at: Timestamp,
    /// The coarse browser and system label (`domain::device_label`).
    pub device: &'a str,
    /// The client's address, as the audit trail reads it.
    pub ip: Option<&'a str>,
}

/// A live session that a refresh may renew.
#[derive(Debug)]
pub struct RefreshableSession {
    /// Whose.
    pub user: UserId,
    /// Their role, as stored now.
    pub role: Role,
    /// Its public name.
    pub handle: SessionHandle,
    /// Its absolute end.
    pub expires_at: Timestamp,
}

/// One of a user's live sessions, as the sessions page lists it.
#[derive(Debug)]
pub struct SessionRow {
    /// Its id (compared with the caller's, never shown).
    pub id: SessionId,
    /// Its public name.
    pub handle: SessionHandle,
    /// The browser and system label.
    pub device: String,
    /// The client's address at the latest login or refresh.
    pub ip: Option<String>,
    /// The login.
    pub created_at: Timestamp,
    /// The latest recorded activity.
    pub last_seen_at: Timestamp,
}

/// A live session's generation, for the sockets' periodic check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveGeneration {
    /// The session id.
    pub id: String,
    /// Its generation.
    pub generation: i64,
    /// When it last rotated.
    pub rotated_at: Option<Timestamp>,
}

/// How many characters of the latest message the inbox preview shows.
pub const EXCERPT_CHARS: i64 = 140;

/// The facts about a conversation that authorization and sending need.
#[derive(Debug, Clone, Copy)]
pub struct ConversationRef {
    /// The conversation.
    pub id: ConversationId,
    /// Its patient.
    pub patient_id: UserId,
    /// Its doctor.
    pub doctor_id: UserId,
    /// Open or closed.
    pub status: ConversationStatus,
    /// The latest seq.
    pub last_seq: Seq,
    /// Its place in the doctor's queue.
    pub triage: Triage,
}

impl ConversationRef {
    /// Both participants.
    pub fn participants(&self) -> [UserId; 2] {
        [self.patient_id, self.doctor_id]
    }
}

fn decode_error(what: &str, text: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {text:?} in the database").into())
}

pub(crate) fn parse_topic(text: &str) -> Result<Topic, sqlx::Error> {
    Topic::parse(text).ok_or_else(|| decode_error("topic", text))
}

pub(crate) fn parse_triage(text: &str) -> Result<TriageState, sqlx::Error> {
    TriageState::parse(text).ok_or_else(|| decode_error("triage state", text))
}

pub(crate) fn parse_kind(text: &str) -> Result<MessageKind, sqlx::Error> {
    match text {
        "text" => Ok(MessageKind::Text),
        "closed" => Ok(MessageKind::Closed),
        "reopened" => Ok(MessageKind::Reopened),
        "auto_reply" => Ok(MessageKind::AutoReply),
        other => Err(decode_error("message kind", other)),
    }
}

pub(crate) fn parse_intake_mode(text: &str) -> Result<IntakeMode, sqlx::Error> {
    match text {
        "off" => Ok(IntakeMode::Off),
        "care_team" => Ok(IntakeMode::CareTeam),
        "recent_patients" => Ok(IntakeMode::RecentPatients),
        other => Err(decode_error("intake mode", other)),
    }
}

/// The stored name of an intake mode.
pub fn intake_mode_str(mode: IntakeMode) -> &'static str {
    match mode {
        IntakeMode::Off => "off",
        IntakeMode::CareTeam => "care_team",
        IntakeMode::RecentPatients => "recent_patients",
    }
}

pub(crate) fn parse_status(text: &str) -> Result<ConversationStatus, sqlx::Error> {
    match text {
        "open" => Ok(ConversationStatus::Open),
        "closed" => Ok(ConversationStatus::Closed),
        other => Err(sqlx::Error::Decode(
            format!("unknown conversation status {other:?}").into(),
        )),
    }
}

/// Where a conversation stands: its participants and its latest seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The conversation.
    pub conversation: ConversationId,
    /// Its patient.
    pub patient: UserId,
    /// Its doctor.
    pub doctor: UserId,
    /// Its latest seq.
    pub seq: Seq,
}

/// What a send needs to know: the conversation (if the sender takes part in it) and the
/// message this sender already stored under this client id, in any conversation.
pub struct SendContext {
    /// The conversation.
    pub conversation: ConversationRef,
    /// Both participants are enabled and still in a care relationship: they may write to each
    /// other.
    pub linked: bool,
    /// The doctor blocked the patient: the patient may not write.
    pub blocked: bool,
    /// The doctor is away today (an absence covers the batch's day, practice time): a
    /// patient's message may call for an automatic reply.
    pub doctor_away: bool,
    /// The earlier message with the same (sender, client id): the send is a replay.
    pub replay: Option<Message>,
}

/// One send of a batch, as looked up by [`send_contexts`].
#[derive(Debug, Clone, Copy)]
pub struct SendKey {
    /// Where.
    pub conversation: ConversationId,
    /// Who.
    pub sender: UserId,
    /// The idempotency key.
    pub client_id: ClientMsgId,
}

/// A message about to be stored.
pub struct NewMessage<'a> {
    /// Where.
    pub conversation_id: ConversationId,
    /// Its reserved sequence number.
    pub seq: Seq,
    /// Who.
    pub sender_id: UserId,
    /// The client's idempotency key.
    pub client_id: ClientMsgId,
    /// The (parsed) text.
    pub body: &'a str,
    /// When.
    pub sent_at: Timestamp,
    /// Text, or a system line.
    pub kind: MessageKind,
    /// The reply template it came from (checked by the send), for the audit.
    pub template_id: Option<colloque_protocol::TemplateId>,
}

/// A conversation's new head after a batch: its last new message, and its place in the queue
/// after the batch's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadUpdate {
    /// The conversation.
    pub conversation: ConversationId,
    /// Its new `last_seq`.
    pub seq: Seq,
    /// Its new `last_activity_at`.
    pub at: Timestamp,
    /// Its place in the queue.
    pub triage: Triage,
}

/// Which page of history to read; built from a validated [`HistoryQuery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The latest messages.
    Latest,
    /// Messages with `seq < n`.
    Before(Seq),
    /// Messages with `seq > n`.
    After(Seq),
    /// Messages with `after < seq < before`, from `after` on: `Between(after, before)`.
    Between(Seq, Seq),
}

impl Page {
    /// The page a query asks for.
    pub fn from_query(query: &HistoryQuery) -> Page {
        match (query.after, query.before) {
            (None, None) => Page::Latest,
            (None, Some(before)) => Page::Before(before),
            (Some(after), None) => Page::After(after),
            (Some(after), Some(before)) => Page::Between(after, before),
        }
    }
}
/// A login attempt's row (`login_attempts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttemptId(pub i64);

/// How a login attempt that was checked ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Wrong password, unknown or disabled account, or the request dropped mid-check.
    Failed,
    /// The right password.
    Succeeded,
}

impl LoginOutcome {
    /// The `outcome` column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginOutcome::Failed => "failed",
            LoginOutcome::Succeeded => "succeeded",
        }
    }
}

/// What one window of the login throttle holds for one key (an (account, address) pair, an
/// account or an address).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowCount {
    /// Failures within the window, attempts in flight for too long included (their instance
    /// died mid-check).
    pub failures: i64,
    /// When the oldest of them happened.
    pub oldest_failure: Option<Timestamp>,
    /// Attempts whose password is being checked now.
    pub in_flight: i64,
}

/// The login throttle's three windows for one attempt (see `auth::throttle`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginCounts {
    /// Per (account, address); failures forgiven by that pair's right password excluded.
    pub pair: WindowCount,
    /// Per account, over every address.
    pub account: WindowCount,
    /// Per address, over every account.
    pub address: WindowCount,
}

/// Where the login throttle's windows begin: rows after each time count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginCutoffs {
    /// Attempts in flight since before this count as failed (their instance died).
    pub stale_before: Timestamp,
    /// The (account, address) window.
    pub pair_since: Timestamp,
    /// The account window.
    pub account_since: Timestamp,
    /// The address window.
    pub address_since: Timestamp,
}

/// Reads a role column.
pub(crate) fn parse_role(text: &str) -> Result<Role, sqlx::Error> {
    match text {
        "patient" => Ok(Role::Patient),
        "doctor" => Ok(Role::Doctor),
        other => Err(sqlx::Error::Decode(
            format!("unknown role {other:?} in the database").into(),
        )),
    }
}

/// The ids of a batch of stored messages, in the order of `messages`, from the `(id,
/// conversation, seq)` rows the insert returned (in no particular order).
pub(crate) fn ids_in_order(
    messages: &[NewMessage<'_>],
    rows: Vec<(i64, i64, i64)>,
) -> Result<Vec<MessageId>, sqlx::Error> {
    let ids: std::collections::HashMap<(i64, i64), i64> = rows
        .into_iter()
        .map(|(id, conversation, seq)| ((conversation, seq), id))
        .collect();
    messages
        .iter()
        .map(|message| {
            ids.get(&(message.conversation_id.0, message.seq.0))
                .map(|id| MessageId(*id))
                .ok_or_else(|| sqlx::Error::Protocol("a batched message was not stored".into()))
        })
        .collect()
}

/// The audit trail's chain (`audit_chain`, see [`crate::audit::chain`]): its head, where the
/// next row links, and its anchor, where the first remaining row links.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditChain {
    /// The last row's id.
    pub head_id: i64,
    /// The last row's hash.
    pub head_hash: String,
    /// Rows at or below this id are older than the chain (or purged).
    pub anchor_id: i64,
    /// The hash the first row after the anchor links to.
    pub anchor_hash: String,
}

/// A doctor's stored promise and office hours (`reply_settings`), as text the care rules parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReplySettings {
    /// Working days to answer in; `None`: no promise.
    pub working_days: Option<u32>,
    /// Seven `open-close` pairs in minutes, Monday first, comma-separated (empty: closed).
    pub hours: String,
}

/// A stored absence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsenceRow {
    /// Its id.
    pub id: colloque_protocol::AbsenceId,
    /// First day away, `YYYY-MM-DD`.
    pub from: String,
    /// Last day away, `YYYY-MM-DD`.
    pub to: String,
    /// The covering doctor, if any (and still enabled).
    pub covering: Option<colloque_protocol::UserProfile>,
}

/// An upload about to be recorded (its content stored under `sha256`).
pub struct NewAttachment<'a> {
    /// Its public id.
    pub id: colloque_protocol::AttachmentId,
    /// The uploader.
    pub owner: UserId,
    /// The stored content's hash (hex).
    pub sha256: &'a str,
    /// The sniffed type.
    pub content_type: colloque_protocol::AttachmentType,
    /// The name given (display only).
    pub name: &'a str,
    /// The stored size in bytes.
    pub size: u64,
    /// When.
    pub now: Timestamp,
}

/// A stored upload.
#[derive(Debug, Clone)]
pub struct AttachmentRow {
    /// What participants see.
    pub meta: colloque_protocol::AttachmentMeta,
    /// The uploader.
    pub owner: UserId,
    /// The message it was sent with, once sent.
    pub message: Option<MessageId>,
    /// That message's conversation.
    pub conversation: Option<ConversationId>,
    /// Its content's hash.
    pub sha256: String,
}

/// A user's notification choices, as stored (quiet hours in minutes after midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredNotificationSettings {
    /// E-mail on.
    pub email: bool,
    /// Web Push on.
    pub push: bool,
    /// Quiet from, to (practice time); `None`: none.
    pub quiet: Option<(u16, u16)>,
}

/// A participant who may have something to be told about a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeCandidate {
    /// The conversation.
    pub conversation: ConversationId,
    /// Who would be told.
    pub user: UserId,
    /// Their address.
    pub email: String,
    /// They are the patient (else the doctor).
    pub patient: bool,
    /// The conversation's doctor (whose office hours count for a doctor's reminder).
    pub doctor: UserId,
    /// The conversation is open.
    pub open: bool,
    /// Its latest message.
    pub last_seq: Seq,
    /// Their read cursor.
    pub read_seq: Seq,
    /// Messages up to this one were announced by e-mail.
    pub notified_seq: Seq,
    /// What their latest reminder was about (0: none).
    pub reminded_key: i64,
    /// When the latest e-mail about this conversation went to them (0: never).
    pub last_sent_at: Timestamp,
    /// The first message of someone else not yet announced nor read.
    pub first_new_at: Option<Timestamp>,
    /// The first message of someone else they have not read, and when it came.
    pub first_unread: Option<(Seq, Timestamp)>,
    /// Since when the patient waits for the doctor.
    pub waiting_since: Option<Timestamp>,
    /// Their choices, if they made any.
    pub settings: Option<StoredNotificationSettings>,
}

/// A participant's cursors in one conversation (a row of `read_cursors`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursors {
    /// How far they have read.
    pub read: Seq,
    /// When the read cursor last moved (unknown for a move older than the column).
    pub read_at: Option<Timestamp>,
    /// Where the read cursor was before its last move.
    pub read_from: Seq,
    /// How far their devices have received.
    pub delivered: Seq,
}

impl Cursors {
    /// From `(seq, read_at, read_from, delivered_seq)`.
    pub(crate) fn from_row((read, at, from, delivered): (i64, Option<i64>, i64, i64)) -> Self {
        Self {
            read: Seq(read),
            read_at: at.map(Timestamp),
            read_from: Seq(from),
            delivered: Seq(delivered),
        }
    }

    /// The read cursor as the protocol carries it.
    pub fn read_cursor(&self, user: UserId, conversation: ConversationId) -> ReadCursor {
        ReadCursor {
            conversation_id: conversation,
            user_id: user,
            seq: self.read,
            at: self.read_at,
            from: self.read_from,
        }
    }

    /// The delivery cursor as the protocol carries it.
    pub fn delivery_cursor(&self, user: UserId, conversation: ConversationId) -> ReadCursor {
        ReadCursor {
            conversation_id: conversation,
            user_id: user,
            seq: self.delivered,
            at: None,
            from: Seq(0),
        }
    }
}

/// A reply template to store (its title and body parsed: `domain::TemplateTitle`,
/// `domain::TemplateBody`).
#[derive(Debug, Clone, Copy)]
pub struct NewTemplate<'a> {
    /// The title.
    pub title: &'a str,
    /// The body, variables as typed.
    pub body: &'a str,
    /// Shared with every doctor.
    pub shared: bool,
}

/// Who owns a template and whether it is shared: what a send that cites it is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateOwner {
    /// The template.
    pub id: colloque_protocol::TemplateId,
    /// Its owner (a doctor).
    pub owner: UserId,
    /// Every doctor may use it.
    pub shared: bool,
}
