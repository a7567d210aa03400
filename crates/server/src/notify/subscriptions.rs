//! Each user's Web Push subscriptions: stored (at most [`MAX_PUSH_SUBSCRIPTIONS`]), listed,
//! deleted; writes audited in their transaction. The list shows each one's push service only:
//! an endpoint's path and the keys never leave the server again.

use super::push::origin;
use crate::audit::{Action, Entry, Source};
use crate::auth::AuthUser;
use crate::chat::detached;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::StoredPushSubscription;
use crate::util::now_ms;
use colloque_protocol::{
    MAX_PUSH_SUBSCRIPTIONS, PushSubscription, PushSubscriptionId, PushSubscriptionRequest,
};

fn to_wire(stored: &StoredPushSubscription) -> PushSubscription {
    PushSubscription {
        id: stored.id,
        service: origin(&stored.endpoint),
        created_at: stored.created_at,
    }
}

/// The caller's subscriptions, oldest first.
pub async fn list(state: &AppState, user: &AuthUser) -> Result<Vec<PushSubscription>, AppError> {
    let stored = state.store.push_subscriptions(user.id).await?;
    Ok(stored.iter().map(to_wire).collect())
}

/// Stores (or renews) a browser's subscription for the caller; audited. `409 limit_reached`
/// past [`MAX_PUSH_SUBSCRIPTIONS`].
pub async fn subscribe(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    request: &PushSubscriptionRequest,
) -> Result<PushSubscription, AppError> {
    let valid = state.notifier.push.check(request)?;
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        // Two subscriptions of one user at once count one after the other.
        tx.lock_user_collections(user.id).await?;
        let others = tx
            .count_other_push_subscriptions(user.id, &valid.endpoint)
            .await?;
        if usize::try_from(others).unwrap_or(usize::MAX) >= MAX_PUSH_SUBSCRIPTIONS {
            return Err(AppError::LimitReached(format!(
                "at most {MAX_PUSH_SUBSCRIPTIONS} browsers per user receive pushes"
            )));
        }
        let now = now_ms();
        let id = tx
            .upsert_push_subscription(user.id, &valid.endpoint, &valid.p256dh, &valid.auth, now)
            .await?;
        let detail = format!("subscription {id}, {}", origin(&valid.endpoint));
        let entry = Entry::new(Action::PushSubscribed, Some(user.id)).detail(detail);
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        Ok(PushSubscription {
            id,
            service: origin(&valid.endpoint),
            created_at: now,
        })
    })
    .await
}

/// Deletes one of the caller's subscriptions (404 for any other id, someone else's
/// included); audited.
pub async fn unsubscribe(
    state: &AppState,
    source: &Source,
    user: &AuthUser,
    id: PushSubscriptionId,
) -> Result<(), AppError> {
    let (state, source, user) = (state.clone(), source.clone(), user.clone());
    detached(async move {
        let mut tx = state.store.begin_write().await?;
        if !tx.delete_push_subscription(user.id, id).await? {
            return Err(AppError::NotFound);
        }
        let entry = Entry::new(Action::PushUnsubscribed, Some(user.id))
            .detail(format!("subscription {id}"));
        tx.audit(&source, &entry).await?;
        tx.commit().await?;
        Ok(())
    })
    .await
}
