//! The typing indicator (docs/protocol.md, "Typing"): a participant writing in an open
//! conversation is told to the other participant's sockets, unless they turned it off.
//! Nothing of it is stored but the choice.

use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::util::now_ms;
use colloque_protocol::{ConversationId, ConversationStatus, TypingSettings};

use super::detached;

/// The caller's choice (shown, until they turn it off).
pub async fn typing_settings(
    state: &AppState,
    user: &AuthUser,
) -> Result<TypingSettings, AppError> {
    let share = state.store.share_typing(user.id).await?;
    Ok(
        share.map_or_else(TypingSettings::default, |share_typing| TypingSettings {
            share_typing,
        }),
    )
}

/// Replaces the caller's choice; audited in the same transaction.
pub async fn update_typing_settings(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    request: TypingSettings,
) -> Result<TypingSettings, AppError> {
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        tx.set_share_typing(user.id, request.share_typing, now_ms())
            .await?;
        let detail = if request.share_typing { "on" } else { "off" };
        let entry = Entry::new(Action::TypingSettingsChanged, Some(user.id)).detail(detail);
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        Ok(request)
    })
    .await
}

/// The caller is writing in `conversation`: tell the other participant, on every instance,
/// unless the caller turned the indicator off or the conversation is closed (then nothing
/// happens). Not a participant: 404, like any read of the conversation. Two reads, no write.
pub async fn typing(
    state: &AppState,
    user: &AuthUser,
    conversation: ConversationId,
) -> Result<(), AppError> {
    let found = state
        .store
        .conversation_for(conversation, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if found.status != ConversationStatus::Open {
        return Ok(());
    }
    if state.store.share_typing(user.id).await? == Some(false) {
        return Ok(());
    }
    let reader = if found.patient_id == user.id {
        found.doctor_id
    } else {
        found.patient_id
    };
    state.delivery.typing(conversation, user.id, reader);
    Ok(())
}
