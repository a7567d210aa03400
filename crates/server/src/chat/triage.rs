//! The doctor's hand on a conversation's place in the queue: moving it between the open states,
//! closing it with a reason (a system line in the thread), reopening it. Each change is one
//! transaction that holds the conversation (its row on PostgreSQL, the write lock on SQLite)
//! and records its audit entry, or is not made; its pushes follow the commit.

use super::{detached, summary_for};
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::care::Triage;
use crate::domain::CloseReason;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{ConversationRef, HeadUpdate, NewMessage, Tx};
use crate::util::now_ms;
use colloque_protocol::{
    ClientMsgId, ConversationId, ConversationStatus, ConversationSummary, Message, MessageKind,
    Seq, Timestamp, TriageState,
};

/// The body of a reopening line. The app shows its own words for it, never this text; the
/// database wants a body.
const REOPENED_BODY: &str = "reopened";

/// The conversation, held for this transaction, if `user` is its doctor: 404 for anybody who
/// does not take part, 403 for its patient.
async fn doctor_holds(
    tx: &mut Tx,
    user: &AuthUser,
    id: ConversationId,
) -> Result<ConversationRef, AppError> {
    tx.lock_conversation(id).await?;
    let conversation = tx
        .conversation_for(id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if conversation.doctor_id != user.id {
        return Err(AppError::Forbidden(
            "only the conversation's doctor changes its place in the queue",
        ));
    }
    Ok(conversation)
}

/// Moves an open conversation to `state` (`new`, `in_progress` or `waiting_patient`; `done`
/// takes a reason: [`close_conversation`]). Moving it where it is changes nothing.
pub async fn set_triage(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    id: ConversationId,
    target: TriageState,
) -> Result<ConversationSummary, AppError> {
    if target == TriageState::Done {
        return Err(AppError::InvalidInput(
            "closing takes a reason: POST /api/conversations/{id}/close".into(),
        ));
    }
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        let conversation = doctor_holds(&mut tx, &user, id).await?;
        if conversation.status == ConversationStatus::Closed {
            return Err(AppError::ConversationClosed);
        }
        let place = conversation.triage.moved_to(target, now_ms());
        if place == conversation.triage {
            tx.rollback().await?;
            return summary_for(&state.store, &user, id).await;
        }
        tx.set_conversation_place(id, place).await?;
        let detail = format!("{}→{}", conversation.triage.state.as_str(), target.as_str());
        let entry = Entry::new(Action::TriageChanged, Some(user.id))
            .conversation(id)
            .detail(detail);
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        state
            .delivery
            .conversation_changed(id, conversation.participants())
            .await?;
        summary_for(&state.store, &user, id).await
    })
    .await
}

/// Closes a conversation (its doctor only), with a reason: it becomes done and read-only, and
/// a system line (`kind: closed`, body: the reason) takes the next seq, so every tab of both
/// sides gets it like any message. Closing a closed conversation changes nothing.
pub async fn close_conversation(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    id: ConversationId,
    reason: &CloseReason,
) -> Result<ConversationSummary, AppError> {
    let (state, source, user, reason) =
        (state.clone(), source.clone(), user.clone(), reason.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        let conversation = doctor_holds(&mut tx, &user, id).await?;
        if conversation.status == ConversationStatus::Closed {
            tx.rollback().await?;
            return summary_for(&state.store, &user, id).await;
        }
        let now = now_ms();
        let place = Triage::closed(now);
        let line = system_line(
            &mut tx,
            &conversation,
            MessageKind::Closed,
            reason.as_str(),
            now,
            place,
        )
        .await?;
        tx.set_conversation_place(id, place).await?;
        let entry = Entry::new(Action::ConversationClosed, Some(user.id))
            .conversation(id)
            .detail(format!("{}→done", conversation.triage.state.as_str()));
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        changed(&state, &conversation, line).await?;
        summary_for(&state.store, &user, id).await
    })
    .await
}

/// Reopens a closed conversation (its doctor only): in progress again, with a system line
/// (`kind: reopened`). Refused while the two have another open conversation (`409
/// open_conversation_exists`) or are no longer in a care relationship (`403
/// no_care_relationship`). Reopening an open conversation changes nothing.
pub async fn reopen_conversation(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    id: ConversationId,
) -> Result<ConversationSummary, AppError> {
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        let known = tx
            .conversation_for(id, user.id)
            .await?
            .ok_or(AppError::NotFound)?;
        // The pair first, as when a conversation starts: a patient's new request and this
        // reopening cannot both make an open conversation.
        tx.lock_care_pair(known.doctor_id, known.patient_id).await?;
        let conversation = doctor_holds(&mut tx, &user, id).await?;
        if conversation.status == ConversationStatus::Open {
            tx.rollback().await?;
            return summary_for(&state.store, &user, id).await;
        }
        if !tx
            .is_linked(conversation.doctor_id, conversation.patient_id)
            .await?
        {
            return Err(AppError::NoCareRelationship);
        }
        if tx
            .find_open_between(conversation.patient_id, conversation.doctor_id)
            .await?
            .is_some()
        {
            return Err(AppError::OpenConversationExists);
        }
        let now = now_ms();
        let place = Triage::reopened(now);
        tx.set_conversation_place(id, place).await?;
        let line = system_line(
            &mut tx,
            &conversation,
            MessageKind::Reopened,
            REOPENED_BODY,
            now,
            place,
        )
        .await?;
        let entry = Entry::new(Action::ConversationReopened, Some(user.id))
            .conversation(id)
            .detail("done→in_progress");
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        changed(&state, &conversation, line).await?;
        summary_for(&state.store, &user, id).await
    })
    .await
}

/// Stores a system line of the doctor's at the conversation's next seq (the conversation is
/// held), moving its head, its place in the queue and the doctor's read cursor, exactly as a
/// send does.
async fn system_line(
    tx: &mut Tx,
    conversation: &ConversationRef,
    kind: MessageKind,
    body: &str,
    at: Timestamp,
    place: Triage,
) -> Result<Message, AppError> {
    let seq = Seq(conversation.last_seq.0 + 1);
    let client_id = ClientMsgId(uuid::Uuid::new_v4());
    let new = NewMessage {
        conversation_id: conversation.id,
        seq,
        sender_id: conversation.doctor_id,
        client_id,
        body,
        sent_at: at,
        kind,
        template_id: None,
    };
    let head = HeadUpdate {
        conversation: conversation.id,
        seq,
        at,
        triage: place,
    };
    let cursor = (conversation.doctor_id, conversation.id, seq, at);
    let ids = tx.append_batch(&[new], &[head], &[cursor]).await?;
    let id = ids
        .first()
        .copied()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a system line was not stored")))?;
    Ok(Message {
        id,
        conversation_id: conversation.id,
        seq,
        sender_id: conversation.doctor_id,
        client_id,
        body: body.to_owned(),
        sent_at: at,
        kind,
        attachments: Vec::new(),
    })
}

/// After the commit: the system line to every socket of both sides (here, and a wake-up for
/// the other instances), then each side's new view of the conversation.
pub(super) async fn changed(
    state: &AppState,
    conversation: &ConversationRef,
    line: Message,
) -> Result<(), AppError> {
    let participants = conversation.participants();
    state
        .delivery
        .messages_stored(&[(line, participants, None)]);
    state
        .delivery
        .conversation_changed(conversation.id, participants)
        .await?;
    Ok(())
}
