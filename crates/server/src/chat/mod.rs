//! The messaging rules, shared by the REST routes and the WebSocket: each operation is one
//! transaction ([`Store::begin_write`]: SQLite's write lock, or PostgreSQL row locks), and
//! what it changed is handed to [`crate::delivery`] only after it committed.

mod hours;
mod intake;
mod send_queue;
mod templates;
mod triage;
mod typing;

pub use hours::{
    Outlook, add_absence, after_patient_message, colleagues, delete_absence, outlook,
    reply_settings, summaries, update_reply_settings,
};
pub use intake::{block_patient, intake_settings, intake_statuses, update_intake};
pub use send_queue::SendQueue;
pub use templates::{create_template, delete_template, templates, update_template};
pub use triage::{close_conversation, reopen_conversation, set_triage};
pub use typing::{typing, typing_settings, update_typing_settings};

use crate::audit::Source;
use crate::auth::AuthUser;
use crate::care::{Triage, decide, recent_cutoff};
use crate::delivery::ConnId;
pub use crate::delivery::CursorKind;
use crate::domain::{MessageBody, Subject};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::Store;
use crate::util::now_ms;
use colloque_protocol::{
    AttachmentId, ClientMsgId, ConversationId, ConversationSummary, IntakeDecision, Message,
    ReadCursor, Role, Seq, TemplateId, Topic, UserId,
};

/// The outcome of a send.
#[derive(Debug)]
pub struct Sent {
    /// The stored message (the original one for a replay).
    pub message: Message,
    /// False when (sender, client id) was already stored: nothing new was written.
    pub created: bool,
    /// A patient's new message that started a wait, or reached a doctor away today: the due
    /// date may have to reach both sides, or an automatic reply be posted
    /// ([`after_patient_message`]). Decided in the send's transaction, so that the other
    /// messages (most of them) cost no further query.
    pub follow_up: bool,
}

/// A message a participant sends: what the socket's `send` frame and the REST route carry.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Where to.
    pub conversation_id: ConversationId,
    /// The sender's idempotency key.
    pub client_id: ClientMsgId,
    /// The text (checked).
    pub body: MessageBody,
    /// Sent past the red-flag screen (only a patient may), and where from: the mark is
    /// audited in the message's transaction.
    pub urgent: Option<Source>,
    /// Uploads sent with it, each once.
    pub attachments: Vec<AttachmentId>,
    /// The reply template the text came from (only a doctor may cite one: their own or a
    /// shared one), and where the send came from: the citation is stored on the message and
    /// audited (`template_used`) in its transaction.
    pub template: Option<(TemplateId, Source)>,
}

/// Stores a message and, if it is new, pushes it to every socket of both participants except
/// `origin` (the socket that sent it, which gets an `ack` instead).
///
/// The send rate is checked first (a flood costs a map lookup per message), then the send goes
/// to the [`SendQueue`], which commits concurrent sends together. For each message, inside the
/// batch's transaction:
/// 1. the sender must take part in the conversation (else 404, whether or not it exists);
/// 2. if the sender already stored this client id, that message is returned unchanged — checked
///    before the next tests so that a retry of a message stored just before the doctor closed
///    the conversation (or the care relationship ended) still gets its ack;
/// 3. only a patient may mark a message urgent (else 403 `forbidden`); an urgent message is
///    audited (`urgent_sent`, from `urgent`'s source) in the same transaction; only a doctor
///    may cite a reply template (else 403 `forbidden`), their own or a shared one (else 404),
///    and the citation is stored on the message and audited (`template_used`) with it;
/// 4. both participants must still be enabled and in a care relationship (else 403
///    `no_care_relationship`): authorization is re-checked on every send, not only when the
///    conversation started;
/// 5. a patient the doctor blocked may not write (else 403 `patient_blocked`); the intake
///    setting does not apply to an open conversation (see [`crate::care::intake`]);
/// 6. the conversation must be open (else 409);
/// 7. reserve `last_seq + 1`, insert, move the sender's own read cursor to it, and move the
///    conversation in the doctor's queue ([`crate::care::triage`]);
/// 8. after the commit, push; only then is the sender answered.
///
/// A patient's message that started a wait, or reached a doctor away today (both read in the
/// batch's lookup), is then followed up off the sender's path: the due date to both sides, or
/// the day's automatic reply ([`after_patient_message`]). The other messages cost no further
/// query (they cost three before: 25 % more server CPU per message, `cargo xtask bench`).
#[tracing::instrument(level = "debug", name = "send_message", skip_all, fields(user = %user.id, conversation = %outgoing.conversation_id))]
pub async fn send_message(
    state: &AppState,
    user: &AuthUser,
    outgoing: Outgoing,
    origin: Option<ConnId>,
) -> Result<Sent, AppError> {
    check_attachment_list(state, &outgoing.attachments)?;
    state
        .throttles
        .sends
        .take(&user.id)
        .map_err(AppError::rate_limited)?;
    let conversation_id = outgoing.conversation_id;
    let sent = state.sends.send(user.id, outgoing, origin).await?;
    // A patient's new message to a doctor away today: the automatic reply follows, after the
    // patient's own answer (it is delivered like any message); otherwise a wait it started
    // brings the due date to both sides.
    if sent.follow_up {
        let (state, patient, sent_at) = (state.clone(), user.id, sent.message.sent_at);
        tokio::spawn(async move {
            if let Err(error) =
                after_patient_message(&state, patient, conversation_id, sent_at).await
            {
                tracing::warn!(%error, conversation = %conversation_id, "the automatic reply failed");
            }
        });
    }
    Ok(sent)
}

/// A send's list of attachments: at most the configured number, each once.
fn check_attachment_list(state: &AppState, ids: &[AttachmentId]) -> Result<(), AppError> {
    let limits = &state.limits.attachments;
    if ids.len() > limits.per_message {
        return Err(AppError::TooManyAttachments(format!(
            "a message carries at most {} attachments; {}",
            limits.per_message,
            limits.accepted()
        )));
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    if distinct.len() != ids.len() {
        return Err(AppError::InvalidInput(
            "an attachment is listed twice".into(),
        ));
    }
    Ok(())
}

/// Runs a transaction to its end (commit or rollback) even if the caller goes away.
///
/// axum drops a handler's future when its client disconnects, and a socket's reader is aborted
/// when the socket is cut. Dropping a future in the middle of a `BEGIN IMMEDIATE` transaction
/// would return its connection to the pool still holding SQLite's write lock (sqlx only
/// schedules the rollback for the connection's next use), so every other writer would wait for
/// `busy_timeout` and fail ("database is locked", "begin_with at non-zero transaction depth").
/// A spawned task is not cancelled with its caller.
pub(crate) async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, AppError>> + Send + 'static,
) -> Result<T, AppError> {
    tokio::spawn(work).await.map_err(|error| {
        AppError::Internal(anyhow::Error::new(error).context("a database task failed"))
    })?
}

/// Moves the caller's read cursor forward (clamped to the latest message) and, if it moved,
/// pushes a `read` frame to every socket of both participants except `origin` (the socket that
/// asked, which gets the cursor as its answer).
pub async fn mark_read(
    state: &AppState,
    user: &AuthUser,
    conversation_id: ConversationId,
    seq: Seq,
    origin: Option<ConnId>,
) -> Result<ReadCursor, AppError> {
    move_cursor(state, user, CursorKind::Read, conversation_id, seq, origin).await
}

/// Moves one of the caller's cursors forward, clamped to the latest message: only a
/// participant moves their own cursor (else 404), never backward. If it moved, pushes a
/// `read` or `delivered` frame to every socket of both participants except `origin` (the
/// socket that asked, which gets the cursor as its answer), here and on the other instances.
pub async fn move_cursor(
    state: &AppState,
    user: &AuthUser,
    kind: CursorKind,
    conversation_id: ConversationId,
    seq: Seq,
    origin: Option<ConnId>,
) -> Result<ReadCursor, AppError> {
    let (state, user) = (state.clone(), user.clone());
    detached(
        async move { move_cursor_now(&state, &user, kind, conversation_id, seq, origin).await },
    )
    .await
}

#[tracing::instrument(name = "move_cursor", skip(state, user), fields(user = %user.id))]
async fn move_cursor_now(
    state: &AppState,
    user: &AuthUser,
    kind: CursorKind,
    conversation_id: ConversationId,
    seq: Seq,
    origin: Option<ConnId>,
) -> Result<ReadCursor, AppError> {
    if seq.0 < 0 {
        return Err(AppError::InvalidCursor("seq must not be negative".into()));
    }
    // A cursor that would not move is answered from a read, without the write lock: a client
    // repeating its mark_read (or a device its receipts) cannot make sends wait.
    {
        let conversation = state
            .store
            .conversation_for(conversation_id, user.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let before = state.store.read_cursor(user.id, conversation_id).await?;
        if seq.min(conversation.last_seq) <= kind.position(&before) {
            return Ok(kind.of(&before, user.id, conversation_id));
        }
    }
    let mut tx = state.store.begin_write().await?;
    let conversation = tx
        .conversation_for(conversation_id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = tx.read_cursor(user.id, conversation_id).await?;
    let target = seq.min(conversation.last_seq);
    let after = if target <= kind.position(&before) {
        before
    } else {
        match kind {
            CursorKind::Read => {
                tx.advance_read_cursor(user.id, conversation_id, target, now_ms())
                    .await?
            }
            CursorKind::Delivered => {
                tx.advance_delivered(user.id, conversation_id, target)
                    .await?
            }
        }
    };
    tx.commit().await?;
    let cursor = kind.of(&after, user.id, conversation_id);
    if kind.position(&after) > kind.position(&before) {
        state
            .delivery
            .cursor_moved(kind, cursor, conversation.participants(), origin);
    }
    Ok(cursor)
}

/// Starts (or finds) the open conversation between the caller and `with`, who must be in a
/// care relationship with them; a patient's new request must also pass the doctor's intake
/// setting. Returns the conversation as the caller sees it and whether it was created; a new
/// conversation is pushed to both users' sockets.
pub async fn start_conversation(
    state: &AppState,
    user: &AuthUser,
    with: UserId,
    subject: &Subject,
    topic: Topic,
) -> Result<(ConversationSummary, bool), AppError> {
    let (state, user, subject) = (state.clone(), user.clone(), subject.clone());
    detached(async move { start_conversation_now(&state, &user, with, &subject, topic).await })
        .await
}

#[tracing::instrument(name = "start_conversation", skip(state, user, subject), fields(user = %user.id))]
async fn start_conversation_now(
    state: &AppState,
    user: &AuthUser,
    with: UserId,
    subject: &Subject,
    topic: Topic,
) -> Result<(ConversationSummary, bool), AppError> {
    let (patient, doctor) = match user.role {
        Role::Patient => (user.id, with),
        Role::Doctor => (with, user.id),
    };
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    // Two instances starting the pair's conversation at once: the second waits here, then
    // finds the first one's conversation.
    tx.lock_care_pair(doctor, patient).await?;
    if !tx.is_linked(doctor, patient).await? {
        return Err(AppError::NoCareRelationship);
    }
    // A patient's request: a block refuses everything; an open conversation stays theirs to
    // answer whatever the setting; a new one must pass the setting.
    let mut intake = IntakeDecision::Open;
    if user.role == Role::Patient {
        let rule = tx.intake_rule(doctor).await?;
        let since = recent_cutoff(now, rule.months);
        let (blocked, seen) = tx.blocked_and_seen(doctor, patient, since).await?;
        intake = decide(rule, blocked, seen);
        if intake == IntakeDecision::PatientBlocked {
            return Err(AppError::PatientBlocked);
        }
    }
    let existing = tx.find_open_between(patient, doctor).await?;
    let (id, created) = match existing {
        Some(id) => (id, false),
        None if intake != IntakeDecision::Open => return Err(AppError::IntakeClosed),
        None => {
            let place = Triage::started(user.role == Role::Patient, now);
            let id = tx
                .insert_conversation(patient, doctor, subject.as_str(), topic, place)
                .await?;
            (id, true)
        }
    };
    tx.commit().await?;
    if created {
        state
            .delivery
            .conversation_changed(id, [patient, doctor])
            .await?;
    }
    let summary = summary_for(&state.store, user, id).await?;
    Ok((summary, created))
}

/// The conversation as `user` sees it, or 404 if they do not take part.
pub async fn summary_for(
    pool: &Store,
    user: &AuthUser,
    id: ConversationId,
) -> Result<ConversationSummary, AppError> {
    summaries(pool, user.id, user.role, Some(id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}
