//! Appointments, a patient's care team and a doctor's patients; who may write to a doctor, and
//! a conversation's place in the doctor's queue (issue 12).

use super::requests::{Api, Error, request};
use colloque_protocol::{
    AbsenceId, Appointment, CloseConversationRequest, ConversationId, ConversationSummary,
    IntakeSettings, IntakeStatus, NewAbsenceRequest, ReplySettings, SetTriageRequest, TriageState,
    UpdateIntakeRequest, UpdateReplySettingsRequest, UserId, UserProfile,
};
use gloo_net::http::Method;

/// `GET /api/appointments` (the viewer's, patient or doctor).
pub async fn get_appointments(api: &Api) -> Result<Vec<Appointment>, Error> {
    request::<(), _>(api, Method::GET, "/appointments", &[], None).await
}

/// `GET /api/care-team`: a patient's doctors.
pub async fn get_care_team(api: &Api) -> Result<Vec<UserProfile>, Error> {
    request::<(), _>(api, Method::GET, "/care-team", &[], None).await
}

/// `GET /api/patients`: a doctor's patients.
pub async fn get_patients(api: &Api) -> Result<Vec<UserProfile>, Error> {
    request::<(), _>(api, Method::GET, "/patients", &[], None).await
}

/// `GET /api/care-team/intake`: whether the patient may start a request with each doctor.
pub async fn get_intake_statuses(api: &Api) -> Result<Vec<IntakeStatus>, Error> {
    request::<(), _>(api, Method::GET, "/care-team/intake", &[], None).await
}

/// `GET /api/me/intake`: the doctor's intake setting.
pub async fn get_intake_settings(api: &Api) -> Result<IntakeSettings, Error> {
    request::<(), _>(api, Method::GET, "/me/intake", &[], None).await
}

/// `PUT /api/me/intake`.
pub async fn put_intake_settings(
    api: &Api,
    update: &UpdateIntakeRequest,
) -> Result<IntakeSettings, Error> {
    request(api, Method::PUT, "/me/intake", &[], Some(update)).await
}

/// `PUT` (block) or `DELETE` (unblock) `/api/patients/{id}/block`.
pub async fn set_blocked(
    api: &Api,
    patient: UserId,
    blocked: bool,
) -> Result<IntakeSettings, Error> {
    let method = if blocked { Method::PUT } else { Method::DELETE };
    let path = format!("/patients/{patient}/block");
    request::<(), _>(api, method, &path, &[], None).await
}

/// `POST /api/conversations/{id}/triage`.
pub async fn set_triage(
    api: &Api,
    conversation: ConversationId,
    state: TriageState,
) -> Result<ConversationSummary, Error> {
    let path = format!("/conversations/{conversation}/triage");
    request(
        api,
        Method::POST,
        &path,
        &[],
        Some(&SetTriageRequest { state }),
    )
    .await
}

/// `POST /api/conversations/{id}/close`, with the reason the patient will read.
pub async fn close_conversation(
    api: &Api,
    conversation: ConversationId,
    reason: &str,
) -> Result<ConversationSummary, Error> {
    let path = format!("/conversations/{conversation}/close");
    let body = CloseConversationRequest {
        reason: reason.to_owned(),
    };
    request(api, Method::POST, &path, &[], Some(&body)).await
}

/// `POST /api/conversations/{id}/reopen`.
pub async fn reopen_conversation(
    api: &Api,
    conversation: ConversationId,
) -> Result<ConversationSummary, Error> {
    let path = format!("/conversations/{conversation}/reopen");
    request::<(), _>(api, Method::POST, &path, &[], None).await
}

/// `GET /api/me/reply-settings`: the doctor's office hours, promise and absences.
pub async fn get_reply_settings(api: &Api) -> Result<ReplySettings, Error> {
    request::<(), _>(api, Method::GET, "/me/reply-settings", &[], None).await
}

/// `PUT /api/me/reply-settings`.
pub async fn put_reply_settings(
    api: &Api,
    update: &UpdateReplySettingsRequest,
) -> Result<ReplySettings, Error> {
    request(api, Method::PUT, "/me/reply-settings", &[], Some(update)).await
}

/// `POST /api/me/absences`.
pub async fn add_absence(api: &Api, absence: &NewAbsenceRequest) -> Result<ReplySettings, Error> {
    request(api, Method::POST, "/me/absences", &[], Some(absence)).await
}

/// `DELETE /api/me/absences/{id}`.
pub async fn delete_absence(api: &Api, id: AbsenceId) -> Result<ReplySettings, Error> {
    let path = format!("/me/absences/{id}");
    request::<(), _>(api, Method::DELETE, &path, &[], None).await
}

/// `GET /api/me/colleagues`: who may cover the doctor's absences.
pub async fn get_colleagues(api: &Api) -> Result<Vec<UserProfile>, Error> {
    request::<(), _>(api, Method::GET, "/me/colleagues", &[], None).await
}
