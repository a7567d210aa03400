//! REST request and response bodies. Routes (all under [`crate::API_PREFIX`]):
//!
//! | method | path | request | response |
//! |---|---|---|---|
//! | POST | `/api/auth/login` | [`LoginRequest`] | [`LoginResponse`] (with the outbox key) + the refresh cookie |
//! | POST | `/api/auth/login` (MFA on) | [`LoginRequest`] | 202 [`MfaChallenge`] |
//! | POST | `/api/auth/login/mfa` | [`MfaLoginRequest`] | [`LoginResponse`] + the refresh cookie |
//! | POST | `/api/auth/logout` | – | 204 |
//! | POST | `/api/auth/refresh/{session}` | the refresh cookie | [`LoginResponse`] + a rotated cookie |
//! | GET | `/api/me` | – | [`UserProfile`] |
//! | POST | `/api/me/password` | [`ChangePasswordRequest`] | 204 (the other sessions end) |
//! | GET | `/api/me/mfa` | – | [`MfaStatus`] |
//! | POST | `/api/me/mfa/enrol` | – | [`MfaEnrolment`] |
//! | POST | `/api/me/mfa/confirm` | [`MfaCodeRequest`] | [`RecoveryCodes`] (shown once) |
//! | POST | `/api/me/mfa/disable` | [`MfaDisableRequest`] | 204 |
//! | GET | `/api/sessions` | – | `Vec<`[`SessionInfo`]`>` (the caller's live sessions) |
//! | POST | `/api/sessions/{id}/end` | – | 204 |
//! | GET | `/api/conversations` | – | `Vec<`[`ConversationSummary`]`>` (role-aware) |
//! | POST | `/api/conversations` | [`StartConversationRequest`] | [`ConversationSummary`] (201 new, 200 existing) |
//! | GET | `/api/conversations/{id}` | – | [`ConversationSummary`] |
//! | GET | `/api/conversations/{id}/messages` | [`HistoryQuery`] | [`MessagePage`] |
//! | POST | `/api/conversations/{id}/messages` | [`SendMessageRequest`] | [`Message`] (201 new, 200 replay) |
//! | POST | `/api/conversations/{id}/read` | [`MarkReadRequest`] | [`ReadCursor`] |
//! | POST | `/api/conversations/{id}/received` | [`MarkReadRequest`] | [`ReadCursor`] (the delivery cursor) |
//! | POST | `/api/conversations/{id}/close` | [`CloseConversationRequest`](crate::CloseConversationRequest) | [`ConversationSummary`] (doctor only) |
//! | POST | `/api/conversations/{id}/reopen` | – | [`ConversationSummary`] (doctor only) |
//! | POST | `/api/conversations/{id}/triage` | [`SetTriageRequest`](crate::SetTriageRequest) | [`ConversationSummary`] (doctor only) |
//! | GET | `/api/appointments` | – | `Vec<`[`Appointment`]`>` |
//! | GET | `/api/care-team` | – | `Vec<`[`UserProfile`]`>` (a patient's doctors) |
//! | GET | `/api/patients` | – | `Vec<`[`UserProfile`]`>` (a doctor's patients) |
//! | GET, PUT | `/api/me/intake` | [`UpdateIntakeRequest`](crate::UpdateIntakeRequest) | [`IntakeSettings`](crate::IntakeSettings) (doctors) |
//! | PUT, DELETE | `/api/patients/{id}/block` | – | [`IntakeSettings`](crate::IntakeSettings) (doctors) |
//! | GET | `/api/care-team/intake` | – | `Vec<`[`IntakeStatus`](crate::IntakeStatus)`>` (patients) |
//! | GET | `/api/health` | – | [`HealthResponse`] |
//! | GET | `/api/openapi.json` | – | the OpenAPI document |
//!
//! The attachments' routes (upload, download, thumbnail, the Documents lists) are listed with
//! their types in `attachments.rs` ([`crate::AttachmentMeta`] and the types beside it).
//!
//! Authenticated routes take `Authorization: Bearer <token>`.

use crate::attachments::AttachmentMeta;
use crate::care::{MessageKind, Topic, TriageState};
use crate::ids::{
    AppointmentId, AttachmentId, ClientMsgId, ConversationId, MessageId, OutboxKey, Seq,
    SessionHandle, Timestamp, UserId,
};
use serde::{Deserialize, Serialize};

/// Whether a user is a patient or a doctor ("médecin").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A patient: talks to the doctors of their care team.
    Patient,
    /// A doctor: talks to the patients they follow.
    Doctor,
}

impl Role {
    /// The lowercase name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Doctor => "doctor",
        }
    }
}

/// A user as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserProfile {
    /// The user's id.
    pub id: UserId,
    /// Patient or doctor.
    pub role: Role,
    /// The name to display, e.g. "Dr Claire Martin" or "Lucas Bernard".
    pub display_name: String,
    /// A doctor's speciality ("Médecin généraliste"); `None` for patients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speciality: Option<String>,
}

/// `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// The account's email.
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// The answer to a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// A signed access token (JWT). Send it as `Authorization: Bearer` and in the WebSocket's
    /// first frame; never in a URL.
    pub token: String,
    /// When the token expires.
    pub expires_at: Timestamp,
    /// Who logged in.
    pub user: UserProfile,
    /// The session's public name: its refresh route is `POST /api/auth/refresh/{session}`
    /// (where its refresh cookie is sent), and it is the `id` of its [`SessionInfo`].
    pub session: SessionHandle,
    /// The user's outbox key (see [`OutboxKey`]): the same at each login and refresh until it
    /// is rotated.
    pub outbox_key: OutboxKey,
    /// True when this deployment requires multi-factor authentication for doctors and this
    /// doctor has not enrolled: the session may only enrol (`/api/me/mfa/*`), read `/api/me`
    /// and log out; everything else answers 403 `mfa_enrolment_required` until the enrolment
    /// is confirmed. Absent means false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mfa_enrolment_required: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// `202` answer to `POST /api/auth/login` when the account has multi-factor authentication:
/// the password was right, and no session exists yet. Send the challenge back with a code to
/// `POST /api/auth/login/mfa`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaChallenge {
    /// A short-lived token good for the second step of this login only: not an access token,
    /// not a session, no refresh cookie.
    pub challenge: String,
    /// When the challenge expires (log in again after it).
    pub expires_at: Timestamp,
}

// Never print the challenge, even in a debug dump.
impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// `POST /api/auth/login/mfa`: the second step of a login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaLoginRequest {
    /// [`MfaChallenge::challenge`].
    pub challenge: String,
    /// The 6-digit code of the authenticator app, or one of the recovery codes (spaces and
    /// dashes ignored, case-insensitive).
    pub code: String,
}

// Never print a code or a challenge, even in a debug dump.
impl std::fmt::Debug for MfaLoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaLoginRequest { .. }")
    }
}

/// `GET /api/me/mfa`: where the caller's multi-factor authentication stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaStatus {
    /// Logins need a code.
    pub enabled: bool,
    /// This deployment requires it for the caller (a doctor, with `--require-mfa-for-doctors`).
    pub required: bool,
    /// Unused recovery codes left (0 when disabled).
    pub recovery_codes_left: u32,
}

/// A QR code's dark modules, to draw as one SVG path: `<svg viewBox="0 0 size size">` with
/// `<path d="{path}"/>` (a quiet zone of 4 modules is included in `size`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QrCode {
    /// Width and height, in modules, quiet zone included.
    pub size: u32,
    /// SVG path data: one `M x y h w v 1 h -w z` rectangle per run of dark modules in a row.
    pub path: String,
}

/// `POST /api/me/mfa/enrol`: a new, pending authenticator secret. It is on only once
/// `POST /api/me/mfa/confirm` has been given a code from it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaEnrolment {
    /// `otpauth://totp/Colloque:<email>?secret=…&issuer=Colloque&algorithm=SHA1&digits=6&period=30`.
    pub otpauth_uri: String,
    /// The secret in base32 (RFC 4648, no padding), for typing into the app by hand.
    pub secret: String,
    /// `otpauth_uri` as a QR code.
    pub qr: QrCode,
}

// Never print the secret, even in a debug dump.
impl std::fmt::Debug for MfaEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaEnrolment { .. }")
    }
}

/// `POST /api/me/mfa/confirm`: the first code of the new authenticator.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaCodeRequest {
    /// The 6-digit code the authenticator app shows now.
    pub code: String,
}

impl std::fmt::Debug for MfaCodeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaCodeRequest { .. }")
    }
}

/// The ten recovery codes made when multi-factor authentication is turned on: each works
/// once, in place of a code from the app. Shown this once; the server keeps only their hashes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    /// `XXXX-XXXX-XXXX-XXXX` (base32 letters and digits 2–7).
    pub codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCodes { .. }")
    }
}

/// `POST /api/me/mfa/disable`: the password and a current code (or a recovery code).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaDisableRequest {
    /// The account's password.
    pub password: String,
    /// A code from the authenticator app, or a recovery code.
    pub code: String,
}

impl std::fmt::Debug for MfaDisableRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaDisableRequest { .. }")
    }
}

/// One of the caller's live sessions (`GET /api/sessions`): a browser or device logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The session's public name (`POST /api/sessions/{id}/end` ends it).
    pub id: SessionHandle,
    /// The browser and system it was opened with, read coarsely from its `User-Agent` at
    /// login ("Firefox · Android"); empty when they could not be told.
    pub device: String,
    /// The client's address at its latest login or refresh, as the audit trail reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// When it was opened (the login).
    pub created_at: Timestamp,
    /// Its latest recorded activity (a request, a socket frame, a refresh).
    pub last_seen_at: Timestamp,
    /// True for the session the request was made with ("this device").
    pub current: bool,
}

/// `POST /api/me/password`: a new password, given the current one. Every other session of the
/// account ends; the caller's own goes on.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    /// The password in use now.
    pub current_password: String,
    /// The new one (at least 8 characters).
    pub new_password: String,
}

// Never print a password, even in a debug dump.
impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePasswordRequest { .. }")
    }
}

/// Open conversations accept messages; closed ones are read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Messages can be sent.
    Open,
    /// Read-only.
    Closed,
}

/// The start of the latest message, for inbox previews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePreview {
    /// Who wrote it.
    pub sender_id: UserId,
    /// At most the first 140 characters of the body.
    pub excerpt: String,
    /// When it was stored.
    pub sent_at: Timestamp,
    /// Its sequence number.
    pub seq: Seq,
    /// Text, or a system line (then `excerpt` is its body: the closing reason).
    #[serde(default, skip_serializing_if = "MessageKind::is_text")]
    pub kind: MessageKind,
}

/// A conversation as one participant sees it (unread counts are per viewer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationSummary {
    /// The conversation's id.
    pub id: ConversationId,
    /// What it is about.
    pub subject: String,
    /// Open or closed.
    pub status: ConversationStatus,
    /// The patient taking part.
    pub patient: UserProfile,
    /// The doctor taking part.
    pub doctor: UserProfile,
    /// When it was created.
    pub created_at: Timestamp,
    /// The time of the latest message, or of creation if there is none.
    pub last_activity_at: Timestamp,
    /// The latest message, if any.
    pub last_message: Option<MessagePreview>,
    /// The sequence number of the latest message (`Seq(0)` if none).
    pub last_seq: Seq,
    /// How far the viewer has read.
    pub my_read_seq: Seq,
    /// How far the other participant has read ("seen" marks).
    pub other_read_seq: Seq,
    /// When the other participant's read cursor last moved: the messages after
    /// `other_read_from` up to `other_read_seq` were read then. Absent when it never moved
    /// (or moved before the server kept the time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_read_at: Option<Timestamp>,
    /// Where the other participant's read cursor was before its last move.
    #[serde(default)]
    pub other_read_from: Seq,
    /// How far the other participant's devices have received the conversation (their app
    /// said so with [`crate::ClientFrame::Received`]): the "Reçu" step of a message's status.
    #[serde(default)]
    pub other_delivered_seq: Seq,
    /// Messages from the other participant after `my_read_seq`.
    pub unread_count: u32,
    /// What it is about, chosen when it started. (Absent from an older server: a medical
    /// question.)
    #[serde(default)]
    pub topic: Topic,
    /// Where it stands in the doctor's queue (`done` exactly when `status` is closed).
    #[serde(default)]
    pub triage: TriageState,
    /// When it entered its triage state.
    #[serde(default)]
    pub triage_at: Timestamp,
    /// Since when the patient has been waiting for the doctor: the time of the patient's first
    /// message after the doctor's latest one. `None` when the doctor wrote last, nobody wrote
    /// yet, or the conversation is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<Timestamp>,
    /// The doctor blocked the patient: the patient can no longer write in it (nor to this
    /// doctor at all), and their app says so instead of offering a composer. Absent when not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub blocked: bool,
    /// Since when the conversation is urgent: the time of the patient's first message sent
    /// past the red-flag screen since the doctor last wrote. The doctor's queue puts it at the
    /// top. Cleared by the doctor's next message, and by closing. Absent when not urgent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent_since: Option<Timestamp>,
    /// In an open conversation whose doctor made a promise: the answer is due at the latest at
    /// this instant — while the patient waits, counted from `waiting_since`; before anybody
    /// wrote, for a message sent now. Absent once the doctor answered last, when closed, or
    /// without a promise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_due: Option<Timestamp>,
    /// The doctor is away today (the patient sees it before sending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absence: Option<crate::AbsenceNotice>,
}

/// `POST /api/conversations`: a patient starts a conversation with a doctor of their care
/// team, or a doctor with one of their patients. If an open conversation between the two
/// already exists it is returned (200) instead of creating a second one (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartConversationRequest {
    /// The doctor (for a patient) or patient (for a doctor) to talk to.
    #[serde(deserialize_with = "crate::ids::integral::user_id")]
    pub with_user_id: UserId,
    /// What it is about; a default subject is used when absent or blank.
    #[serde(default)]
    pub subject: Option<String>,
    /// The request's topic (required).
    pub topic: Topic,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// The server's id.
    pub id: MessageId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Its position in the conversation.
    pub seq: Seq,
    /// Who wrote it.
    pub sender_id: UserId,
    /// The id the sender's client gave it.
    pub client_id: ClientMsgId,
    /// The text, exactly as sent (trimmed). Plain text: never to be rendered as HTML.
    pub body: String,
    /// When the server stored it.
    pub sent_at: Timestamp,
    /// Text, or a system line the server wrote (closing, reopening). Absent means text.
    #[serde(default, skip_serializing_if = "MessageKind::is_text")]
    pub kind: MessageKind,
    /// The files sent with it, in the order given. Absent (older servers) means none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentMeta>,
}

/// `POST /api/conversations/{id}/messages`. Idempotent on (sender, `client_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessageRequest {
    /// A UUID chosen by the client before the first attempt and kept across retries.
    pub client_id: ClientMsgId,
    /// The text, 1 to [`crate::MAX_MESSAGE_CHARS`] characters after trimming.
    pub body: String,
    /// The patient chose to send it past the red-flag screen: the conversation goes to the
    /// top of the doctor's queue until they answer. Only a patient may set it (else 403
    /// `forbidden`). Absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// Files uploaded before (`POST /api/attachments`) by the sender and not yet sent, at most
    /// [`crate::MAX_ATTACHMENTS_PER_MESSAGE`]. Absent means none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachment_ids: Vec<AttachmentId>,
    /// The reply template the text came from (`GET /api/me/templates`), for the audit: the
    /// message row and the audit trail keep it. Only a doctor may cite a template, and only
    /// their own or a shared one (a patient: 403 `forbidden`; another doctor's personal
    /// template or none of this id: 404). Absent means none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::templates::option_template_id"
    )]
    pub template_id: Option<crate::TemplateId>,
}

/// Query of `GET /api/conversations/{id}/messages`.
///
/// - neither `before` nor `after`: the latest `limit` messages;
/// - `before=N`: the `limit` messages just before seq N (older history, scrolling up);
/// - `after=N`: the first `limit` messages after seq N (catching up after a reconnect);
/// - both: the first `limit` messages strictly between `after` and `before`.
///
/// Messages are always returned in ascending `seq` order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Return messages with `seq < before`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Seq>,
    /// Return messages with `seq > after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Seq>,
    /// How many, 1 to [`crate::MAX_PAGE_SIZE`]; default [`crate::DEFAULT_PAGE_SIZE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// A page of messages in ascending `seq` order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePage {
    /// The messages.
    pub messages: Vec<Message>,
    /// True when more messages exist in the direction asked (older for `before` and latest,
    /// newer for `after`).
    pub has_more: bool,
}

/// `POST /api/conversations/{id}/read`: the viewer has seen everything up to `seq`; and
/// `POST /api/conversations/{id}/received`: the viewer's device holds everything up to `seq`.
/// Cursors only move forward and never past the latest message; a lower `seq` is a no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkReadRequest {
    /// The highest sequence number seen.
    #[serde(deserialize_with = "crate::ids::integral::seq")]
    pub seq: Seq,
}

/// Where a user has read up to in a conversation, and when they got there. The same shape
/// tells how far a user's devices have received a conversation (the delivery cursor of
/// `POST /api/conversations/{id}/received` and [`crate::ServerFrame::Delivered`]), without
/// `at` and with `from` 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadCursor {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The reader.
    pub user_id: UserId,
    /// The highest sequence number they have seen.
    pub seq: Seq,
    /// When the cursor last moved: the messages after `from` up to `seq` were read then.
    /// Absent for a delivery cursor, and for a read cursor that never moved (or moved before
    /// the server kept the time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// Where the cursor was before its last move (0 for a delivery cursor).
    #[serde(default)]
    pub from: Seq,
}

/// An appointment between a patient and a doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Appointment {
    /// The appointment's id.
    pub id: AppointmentId,
    /// The patient.
    pub patient: UserProfile,
    /// The doctor.
    pub doctor: UserProfile,
    /// When it starts.
    pub starts_at: Timestamp,
    /// How long it lasts, in minutes.
    pub duration_minutes: u32,
    /// Where ("Cabinet, 12 rue …", "Téléconsultation").
    pub location: String,
    /// Why (free text written by the practice, e.g. "Suivi tension").
    pub reason: String,
}

/// `GET /api/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// `ok`; `degraded` when the bus between instances is down (messages are still stored
    /// and acknowledged; recipients on other instances get them within the sweep interval);
    /// `failing` when the database is unreachable (answered with 503: sends cannot be stored).
    pub status: String,
    /// `ok` or `unreachable`.
    pub database: String,
    /// `local` (one instance, no bus), `up` or `down`.
    pub bus: String,
    /// The server's version.
    pub version: String,
}
