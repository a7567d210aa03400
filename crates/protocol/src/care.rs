//! The care workflow (issue 12): who may write to a doctor, what a request is about, and where
//! it stands in the doctor's queue.
//!
//! | method | path | request | response |
//! |---|---|---|---|
//! | GET | `/api/me/intake` | – | [`IntakeSettings`] (doctors) |
//! | PUT | `/api/me/intake` | [`UpdateIntakeRequest`] | [`IntakeSettings`] (doctors) |
//! | PUT | `/api/patients/{id}/block` | – | [`IntakeSettings`] (doctors) |
//! | DELETE | `/api/patients/{id}/block` | – | [`IntakeSettings`] (doctors) |
//! | GET | `/api/care-team/intake` | – | `Vec<`[`IntakeStatus`]`>` (patients) |
//! | POST | `/api/conversations/{id}/triage` | [`SetTriageRequest`] | [`crate::ConversationSummary`] (its doctor) |
//! | POST | `/api/conversations/{id}/close` | [`CloseConversationRequest`] | [`crate::ConversationSummary`] (its doctor) |
//! | POST | `/api/conversations/{id}/reopen` | – | [`crate::ConversationSummary`] (its doctor) |

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// The longest closing reason accepted, in characters, after trimming.
pub const MAX_CLOSE_REASON_CHARS: usize = 500;

/// The longest look-back of [`IntakeMode::RecentPatients`], in months.
pub const MAX_INTAKE_MONTHS: u32 = 24;

/// What a patient's request is about, chosen when the conversation starts.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Renouvellement d'ordonnance.
    PrescriptionRenewal,
    /// Résultats d'examens.
    TestResults,
    /// Rendez-vous, démarches administratives.
    Administrative,
    /// Certificat, formulaire.
    Certificate,
    /// Question médicale (also the topic of conversations started before topics existed).
    #[default]
    MedicalQuestion,
}

impl Topic {
    /// Every topic, in the order the composer offers them.
    pub const ALL: [Topic; 5] = [
        Topic::PrescriptionRenewal,
        Topic::TestResults,
        Topic::Administrative,
        Topic::Certificate,
        Topic::MedicalQuestion,
    ];

    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::PrescriptionRenewal => "prescription_renewal",
            Topic::TestResults => "test_results",
            Topic::Administrative => "administrative",
            Topic::Certificate => "certificate",
            Topic::MedicalQuestion => "medical_question",
        }
    }

    /// The topic named `name` ([`Topic::as_str`]).
    pub fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|topic| topic.as_str() == name)
    }
}

/// Where a conversation stands in its doctor's queue. `Done` is a closed conversation, and only
/// a closed one.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TriageState {
    /// Not looked at yet.
    #[default]
    New,
    /// The doctor is on it.
    InProgress,
    /// The doctor waits for the patient (an answer, a document).
    WaitingPatient,
    /// Closed, with a reason.
    Done,
}

impl TriageState {
    /// Every state, in queue order.
    pub const ALL: [TriageState; 4] = [
        TriageState::New,
        TriageState::InProgress,
        TriageState::WaitingPatient,
        TriageState::Done,
    ];

    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TriageState::New => "new",
            TriageState::InProgress => "in_progress",
            TriageState::WaitingPatient => "waiting_patient",
            TriageState::Done => "done",
        }
    }

    /// The state named `name` ([`TriageState::as_str`]).
    pub fn parse(name: &str) -> Option<TriageState> {
        TriageState::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
    }
}

/// What a stored message is: text written by a participant, or a line the server wrote for a
/// change of the conversation (shown as a system line, never as a bubble).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Written by its sender.
    #[default]
    Text,
    /// The doctor closed the conversation; the body is the reason they gave.
    Closed,
    /// The doctor reopened the conversation (the body is not meant to be shown).
    Reopened,
    /// The server's automatic reply while the doctor is away (at most one per conversation
    /// and day): the body says, in French, until when and who covers. Not the doctor's words.
    AutoReply,
}

impl MessageKind {
    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Closed => "closed",
            MessageKind::Reopened => "reopened",
            MessageKind::AutoReply => "auto_reply",
        }
    }

    /// True for [`MessageKind::Text`] (the wire omits it).
    pub fn is_text(&self) -> bool {
        *self == MessageKind::Text
    }
}

/// Who may start a conversation with a doctor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IntakeMode {
    /// Nobody: the doctor takes no new requests by message.
    Off,
    /// Every patient of the doctor's care team (the default).
    CareTeam,
    /// Patients of the care team seen within the last `months` months, or with an appointment
    /// booked.
    RecentPatients,
}

/// A doctor's intake setting (`GET`/`PUT /api/me/intake`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntakeSettings {
    /// Who may start a conversation.
    pub mode: IntakeMode,
    /// The look-back of [`IntakeMode::RecentPatients`], 1 to [`MAX_INTAKE_MONTHS`] (kept when
    /// another mode is chosen).
    pub months: u32,
    /// The patients blocked by this doctor, whatever the mode.
    pub blocked: Vec<UserId>,
}

/// `PUT /api/me/intake`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateIntakeRequest {
    /// Who may start a conversation.
    pub mode: IntakeMode,
    /// 1 to [`MAX_INTAKE_MONTHS`]; absent keeps the current value. (`6.0` is 6, as JSON Schema
    /// reads it: [`crate::ids::integral`].)
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::ids::integral::option_u32"
    )]
    pub months: Option<u32>,
}

/// Whether the viewer (a patient) may write to one doctor, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IntakeDecision {
    /// A new request may be started.
    Open,
    /// The doctor takes no new requests by message.
    IntakeClosed,
    /// The doctor takes requests only from patients seen or booked within `months` months.
    NotRecentPatient,
    /// The doctor does not take messages from this patient.
    PatientBlocked,
}

/// `GET /api/care-team/intake`: one per doctor of the patient's care team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntakeStatus {
    /// The doctor.
    pub doctor_id: UserId,
    /// Whether a new request may be started.
    pub decision: IntakeDecision,
    /// The look-back, for [`IntakeDecision::NotRecentPatient`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
    /// A request sent now would be answered at the latest at this instant, when the doctor
    /// made a promise (office hours, absences and public holidays counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_due: Option<crate::Timestamp>,
    /// The doctor is away today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absence: Option<crate::AbsenceNotice>,
}

/// `POST /api/conversations/{id}/triage`: moves an open conversation within the queue.
/// [`TriageState::Done`] is refused here: closing takes a reason (`…/close`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetTriageRequest {
    /// The new state.
    pub state: TriageState,
}

/// `POST /api/conversations/{id}/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CloseConversationRequest {
    /// Why, in a few words the patient will read (1 to [`MAX_CLOSE_REASON_CHARS`] characters).
    pub reason: String,
}
