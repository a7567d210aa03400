//! Who may write to a doctor: the doctor's own setting and blocks, and what a patient learns
//! before typing (the rules: [`crate::care::intake`]).

use super::detached;
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::care::{IntakeRule, decide, recent_cutoff};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::Store;
use crate::util::now_ms;
use colloque_protocol::{
    IntakeDecision, IntakeSettings, IntakeStatus, Role, UpdateIntakeRequest, UserId,
};

fn doctor_only(user: &AuthUser) -> Result<(), AppError> {
    match user.role {
        Role::Doctor => Ok(()),
        Role::Patient => Err(AppError::Forbidden("only doctors have an intake setting")),
    }
}

async fn settings_of(store: &Store, doctor: UserId) -> Result<IntakeSettings, AppError> {
    let rule = store.intake_rule(doctor).await?;
    Ok(IntakeSettings {
        mode: rule.mode,
        months: rule.months,
        blocked: store.blocked_by(doctor).await?,
    })
}

/// The caller's (a doctor's) intake setting and blocks.
pub async fn intake_settings(
    state: &AppState,
    user: &AuthUser,
) -> Result<IntakeSettings, AppError> {
    doctor_only(user)?;
    settings_of(&state.store, user.id).await
}

/// Replaces the caller's (a doctor's) intake setting, recorded in the audit trail in the same
/// transaction. Open conversations are not touched: they stay answerable until the doctor
/// closes them.
pub async fn update_intake(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    request: &UpdateIntakeRequest,
) -> Result<IntakeSettings, AppError> {
    doctor_only(user)?;
    if let Some(months) = request.months
        && !IntakeRule::months_valid(months)
    {
        return Err(AppError::InvalidInput(format!(
            "months must be 1 to {}",
            colloque_protocol::MAX_INTAKE_MONTHS
        )));
    }
    let (state, source, user, request) =
        (state.clone(), source.clone(), user.clone(), request.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        let months = match request.months {
            Some(months) => months,
            None => tx.intake_rule(user.id).await?.months,
        };
        tx.set_intake_rule(user.id, request.mode, months, now_ms())
            .await?;
        let mode = crate::store::intake_mode_str(request.mode);
        let entry = Entry::new(Action::IntakeChanged, Some(user.id))
            .detail(format!("{mode}, {months} months"));
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        settings_of(&state.store, user.id).await
    })
    .await
}

/// Blocks (`blocked`) or unblocks one of the caller's patients: `404` for anybody who is not in
/// the caller's care team. From then on the patient can neither start a conversation with this
/// doctor nor write in an open one (`403 patient_blocked`), and the open one's summary says so
/// (`blocked`), pushed to both sides. Recorded in the audit trail.
pub async fn block_patient(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    patient: UserId,
    blocked: bool,
) -> Result<IntakeSettings, AppError> {
    doctor_only(user)?;
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        tx.lock_care_pair(user.id, patient).await?;
        if !tx.is_linked(user.id, patient).await? {
            return Err(AppError::NotFound);
        }
        let changed = if blocked {
            tx.block_patient(user.id, patient, now_ms()).await?
        } else {
            tx.unblock_patient(user.id, patient).await?
        };
        if changed {
            let action = if blocked {
                Action::PatientBlocked
            } else {
                Action::PatientUnblocked
            };
            let entry = Entry::new(action, Some(user.id)).detail(format!("patient {patient}"));
            tx.audit(&source, &entry).await?;
            let open = tx.find_open_between(patient, user.id).await?;
            tx.commit().await?;
            // The patient's open screen learns it now (`blocked` in the summary), not when they
            // send.
            if let Some(id) = open {
                state
                    .delivery
                    .conversation_changed(id, [patient, user.id])
                    .await?;
            }
        } else {
            tx.rollback().await?;
        }
        settings_of(&state.store, user.id).await
    })
    .await
}

/// Whether the caller (a patient) may start a request with each doctor of their care team, and
/// if not, why: what the app says before the patient types.
pub async fn intake_statuses(
    state: &AppState,
    user: &AuthUser,
) -> Result<Vec<IntakeStatus>, AppError> {
    if user.role != Role::Patient {
        return Err(AppError::Forbidden("only patients write to a care team"));
    }
    let now = now_ms();
    let mut statuses = Vec::new();
    for doctor in state.store.doctors_of(user.id).await? {
        let rule = state.store.intake_rule(doctor.id).await?;
        let since = recent_cutoff(now, rule.months);
        let (blocked, seen) = state
            .store
            .blocked_and_seen(doctor.id, user.id, since)
            .await?;
        let decision = decide(rule, blocked, seen);
        // What the patient reads before writing: when a request sent now would be answered,
        // and whether the doctor is away today.
        let outlook = super::outlook(&state.store, doctor.id, now).await?;
        statuses.push(IntakeStatus {
            doctor_id: doctor.id,
            decision,
            months: (decision == IntakeDecision::NotRecentPatient).then_some(rule.months),
            reply_due: outlook.due(now),
            absence: outlook.absence,
        });
    }
    Ok(statuses)
}
