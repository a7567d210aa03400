//! Office hours, the promised reply time and absences: the doctor's own settings (each write
//! authorized to the caller's own row and audited in its transaction), what a patient reads
//! before sending (the due instant, today's absence), and the automatic reply during an
//! absence (the rules: [`crate::care::reply_due`], [`crate::care::hours`]).

use super::detached;
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::care::hours::{
    auto_reply_text, hours_from_db, hours_to_db, hours_to_wire, parse_day, parse_hours, policy,
    practice_day,
};
use crate::care::{OfficeHours, ReplyPolicy, reply_due};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{AbsenceRow, HeadUpdate, NewMessage, Store};
use crate::util::now_ms;
use colloque_protocol::{
    Absence, AbsenceId, AbsenceNotice, ClientMsgId, ConversationId, ConversationStatus,
    ConversationSummary, MAX_ABSENCES, MAX_WORKING_DAYS, Message, MessageKind, NewAbsenceRequest,
    PRACTICE_TIME_ZONE, ReplySettings, Role, Seq, Timestamp, UpdateReplySettingsRequest, UserId,
    UserProfile,
};
use jiff::civil::Date;
use std::collections::HashMap;
use std::collections::hash_map::Entry as Slot;

/// How far back absences are read to compute a due date from an older `waiting_since`.
const LOOK_BACK_DAYS: i64 = 366;

fn doctor_only(user: &AuthUser) -> Result<(), AppError> {
    match user.role {
        Role::Doctor => Ok(()),
        Role::Patient => Err(AppError::Forbidden(
            "only doctors have office hours and absences",
        )),
    }
}

fn today(now: Timestamp) -> Result<Date, AppError> {
    practice_day(now)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the clock is out of range")))
}

fn absence_to_wire(row: AbsenceRow) -> Absence {
    Absence {
        id: row.id,
        from: row.from,
        to: row.to,
        covering_doctor: row.covering,
    }
}

async fn settings_of(store: &Store, doctor: UserId) -> Result<ReplySettings, AppError> {
    let stored = store.reply_settings(doctor).await?;
    let (working_days, hours) = match stored {
        Some(stored) => (
            stored.working_days,
            hours_from_db(&stored.hours).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("unreadable office hours of {doctor}"))
            })?,
        ),
        None => (None, OfficeHours::weekdays_nine_to_six()),
    };
    let day = today(now_ms())?.to_string();
    let absences = store.absences_until(doctor, &day).await?;
    Ok(ReplySettings {
        working_days,
        hours: hours_to_wire(&hours),
        time_zone: PRACTICE_TIME_ZONE.to_owned(),
        absences: absences.into_iter().map(absence_to_wire).collect(),
    })
}

/// The caller's (a doctor's) promise, hours and absences not yet over. A doctor who never set
/// them has no promise, and Monday to Friday 9:00–18:00 to start from.
pub async fn reply_settings(state: &AppState, user: &AuthUser) -> Result<ReplySettings, AppError> {
    doctor_only(user)?;
    settings_of(&state.store, user.id).await
}

/// Replaces the caller's (a doctor's) promise and hours; audited in the same transaction.
pub async fn update_reply_settings(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    request: &UpdateReplySettingsRequest,
) -> Result<ReplySettings, AppError> {
    doctor_only(user)?;
    if request
        .working_days
        .is_some_and(|days| days > MAX_WORKING_DAYS)
    {
        return Err(AppError::InvalidInput(format!(
            "working_days must be 0 to {MAX_WORKING_DAYS}"
        )));
    }
    let hours = parse_hours(&request.hours).ok_or_else(|| {
        AppError::InvalidInput(
            "hours must be seven entries, Monday first, each null or {opens, closes} as HH:MM"
                .into(),
        )
    })?;
    let (state, source, user, working_days) = (
        state.clone(),
        source.clone(),
        user.clone(),
        request.working_days,
    );
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        tx.set_reply_settings(user.id, working_days, &hours_to_db(&hours), now_ms())
            .await?;
        let promise = working_days.map_or("no promise".to_owned(), |days| {
            format!("{days} working days")
        });
        let entry = Entry::new(Action::ReplySettingsChanged, Some(user.id)).detail(promise);
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        settings_of(&state.store, user.id).await
    })
    .await
}

/// Records an absence of the caller (a doctor), with a colleague who covers (an enabled doctor
/// who shares a patient with the caller; anybody else is `404`). The two days may come in
/// either order; an absence already over records nothing. Audited.
pub async fn add_absence(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    request: &NewAbsenceRequest,
) -> Result<ReplySettings, AppError> {
    doctor_only(user)?;
    let bad = |why: &str| AppError::InvalidInput(why.to_owned());
    let first = parse_day(&request.from).ok_or_else(|| bad("from must be a day YYYY-MM-DD"))?;
    let last = parse_day(&request.to).ok_or_else(|| bad("to must be a day YYYY-MM-DD"))?;
    let (from, to) = (first.min(last), first.max(last));
    let now = now_ms();
    if to < today(now)? {
        return settings_of(&state.store, user.id).await;
    }
    let (state, source, user, covering) = (
        state.clone(),
        source.clone(),
        user.clone(),
        request.covering_doctor_id,
    );
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        if let Some(covering) = covering
            && !tx
                .colleagues(user.id)
                .await?
                .iter()
                .any(|colleague| colleague.id == covering)
        {
            // Like any person who is not in the caller's care team: unknown.
            return Err(AppError::UnknownReference(
                "covering_doctor_id is not one of your colleagues",
            ));
        }
        // Two absences added at once count one after the other.
        tx.lock_user_collections(user.id).await?;
        let current = tx.absences_until(user.id, &today(now)?.to_string()).await?;
        if current.len() >= MAX_ABSENCES {
            return Err(AppError::LimitReached(format!(
                "at most {MAX_ABSENCES} absences to come"
            )));
        }
        let (from, to) = (from.to_string(), to.to_string());
        let id = tx
            .insert_absence(user.id, &from, &to, covering, now)
            .await?;
        let covered = covering.map_or("nobody".to_owned(), |id| format!("doctor {id}"));
        let entry = Entry::new(Action::AbsenceAdded, Some(user.id))
            .detail(format!("absence {id}, {from}..{to}, covered by {covered}"));
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        settings_of(&state.store, user.id).await
    })
    .await
}

/// Deletes one of the caller's (a doctor's) absences: `404` for an id that is not theirs.
/// Audited.
pub async fn delete_absence(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    id: AbsenceId,
) -> Result<ReplySettings, AppError> {
    doctor_only(user)?;
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        if !tx.delete_absence(user.id, id).await? {
            return Err(AppError::NotFound);
        }
        let entry =
            Entry::new(Action::AbsenceDeleted, Some(user.id)).detail(format!("absence {id}"));
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        settings_of(&state.store, user.id).await
    })
    .await
}

/// The caller's (a doctor's) colleagues: who may cover their absences.
pub async fn colleagues(state: &AppState, user: &AuthUser) -> Result<Vec<UserProfile>, AppError> {
    doctor_only(user)?;
    Ok(state.store.colleagues(user.id).await?)
}

/// What a patient is told about one doctor: the promise (if any) and today's absence.
#[derive(Debug, Clone, Default)]
pub struct Outlook {
    policy: Option<ReplyPolicy>,
    /// The doctor is away today.
    pub absence: Option<AbsenceNotice>,
}

impl Outlook {
    /// When an answer to a message received at `received` is due, if the doctor promised one.
    pub fn due(&self, received: Timestamp) -> Option<Timestamp> {
        reply_due(self.policy.as_ref()?, received)
    }
}

/// A doctor's [`Outlook`] at `now`.
pub async fn outlook(
    store: &Store,
    doctor: UserId,
    now: Timestamp,
) -> Result<Outlook, sqlx::Error> {
    let Some(today) = practice_day(now) else {
        return Ok(Outlook::default());
    };
    let since = today
        .checked_sub(jiff::Span::new().days(LOOK_BACK_DAYS))
        .unwrap_or(today);
    let absences = store.absences_until(doctor, &since.to_string()).await?;
    let today_text = today.to_string();
    let absence = absences
        .iter()
        .filter(|a| a.from <= today_text && today_text <= a.to)
        .max_by(|a, b| a.to.cmp(&b.to))
        .map(|a| AbsenceNotice {
            until: a.to.clone(),
            covering_doctor: a.covering.as_ref().map(|c| c.display_name.clone()),
        });
    let policy = match store.reply_settings(doctor).await? {
        Some(stored) => match (stored.working_days, hours_from_db(&stored.hours)) {
            (Some(days), Some(hours)) => {
                let days_away: Vec<(&str, &str)> = absences
                    .iter()
                    .map(|a| (a.from.as_str(), a.to.as_str()))
                    .collect();
                Some(policy(days, hours, &days_away))
            }
            _ => None,
        },
        None => None,
    };
    Ok(Outlook { policy, absence })
}

/// The conversations of `viewer` as they see them (or only `only`), with, for each open one,
/// today's absence of its doctor and when an answer is due: while the patient waits, from
/// their first unanswered message; before anybody wrote, for a message sent now; not once the
/// doctor answered last.
pub async fn summaries(
    store: &Store,
    viewer: UserId,
    role: Role,
    only: Option<ConversationId>,
) -> Result<Vec<ConversationSummary>, sqlx::Error> {
    let mut list = store.summaries(viewer, role, only).await?;
    let now = now_ms();
    let mut outlooks: HashMap<UserId, Outlook> = HashMap::new();
    for summary in list
        .iter_mut()
        .filter(|s| s.status == ConversationStatus::Open)
    {
        let doctor = summary.doctor.id;
        let outlook = match outlooks.entry(doctor) {
            Slot::Occupied(known) => known.into_mut(),
            Slot::Vacant(slot) => slot.insert(outlook(store, doctor, now).await?),
        };
        summary.absence = outlook.absence.clone();
        summary.reply_due = match (summary.waiting_since, &summary.last_message) {
            // The patient waits: from their first unanswered message.
            (Some(since), _) => outlook.due(since),
            // Nobody wrote yet: what the patient reads before sending their request.
            (None, None) => outlook.due(now),
            // The doctor answered last: no promise.
            (None, Some(_)) => None,
        };
    }
    Ok(list)
}

/// After a patient's new message (sent at `sent_at`): if its doctor is away today, posts the
/// automatic reply (a system line, `kind: auto_reply`) unless the conversation already had one
/// today (practice time; `auto_replies` holds the day, so two instances cannot both post it).
/// The doctor's read cursor does not move (the patient's message is not "seen"), nor the
/// conversation's place in the queue. Otherwise, if the message started the patient's wait and
/// the doctor made a promise, both sides get the conversation again, with its due date (a
/// message alone does not carry it).
pub async fn after_patient_message(
    state: &AppState,
    patient: UserId,
    conversation_id: ConversationId,
    sent_at: Timestamp,
) -> Result<(), AppError> {
    let now = now_ms();
    let Some(conversation) = state
        .store
        .conversation_for(conversation_id, patient)
        .await?
    else {
        return Ok(());
    };
    if conversation.patient_id != patient {
        return Ok(());
    }
    let outlook = outlook(&state.store, conversation.doctor_id, now).await?;
    let Some(absence) = outlook.absence.clone() else {
        if conversation.triage.waiting_since == Some(sent_at) && outlook.policy.is_some() {
            state
                .delivery
                .conversation_changed(conversation_id, conversation.participants())
                .await?;
        }
        return Ok(());
    };
    let day = today(now)?.to_string();
    let doctor_name = state
        .store
        .profile(conversation.doctor_id)
        .await?
        .map(|profile| profile.display_name)
        .unwrap_or_default();
    let body = auto_reply_text(
        &doctor_name,
        &absence.until,
        absence.covering_doctor.as_deref(),
    );
    let state = state.clone();
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        tx.lock_conversation(conversation_id).await?;
        let Some(conversation) = tx.conversation_for(conversation_id, patient).await? else {
            return Ok(());
        };
        if conversation.status != ConversationStatus::Open
            || !tx.claim_auto_reply(conversation_id, &day).await?
        {
            tx.rollback().await?;
            return Ok(());
        }
        let seq = Seq(conversation.last_seq.0 + 1);
        let client_id = ClientMsgId(uuid::Uuid::new_v4());
        let new = NewMessage {
            conversation_id,
            seq,
            sender_id: conversation.doctor_id,
            client_id,
            body: &body,
            sent_at: now,
            kind: MessageKind::AutoReply,
            template_id: None,
        };
        let head = HeadUpdate {
            conversation: conversation_id,
            seq,
            at: now,
            triage: conversation.triage,
        };
        // The doctor's cursor at 0: the batch takes one, and it only ever moves forward, so it
        // stays where it is (the patient's message is not "seen").
        let cursor = (conversation.doctor_id, conversation_id, Seq(0), now);
        let ids = tx.append_batch(&[new], &[head], &[cursor]).await?;
        tx.commit().await?;
        let Some(&id) = ids.first() else {
            return Ok(());
        };
        let line = Message {
            id,
            conversation_id,
            seq,
            sender_id: conversation.doctor_id,
            client_id,
            body,
            sent_at: now,
            kind: MessageKind::AutoReply,
            attachments: Vec::new(),
        };
        super::triage::changed(&state, &conversation, line).await
    })
    .await
}
