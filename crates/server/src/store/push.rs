//! What the store keeps for Web Push: subscriptions and the push notices' claims (tables in
//! `tables/push.rs`).

use super::model::StoredNotificationSettings;
use super::{Store, Tx, postgres, sqlite};
use colloque_protocol::{ConversationId, PushSubscriptionId, Seq, Timestamp, UserId};

/// A browser's subscription, as stored (keys base64url, as the browser gave them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPushSubscription {
    /// Its id.
    pub id: PushSubscriptionId,
    /// Whose it is.
    pub user: UserId,
    /// The push service's URL for this browser (a capability: never logged whole).
    pub endpoint: String,
    /// The browser's P-256 public key, uncompressed, base64url.
    pub p256dh: String,
    /// The authentication secret, base64url.
    pub auth: String,
    /// When it was stored or last renewed.
    pub created_at: Timestamp,
    /// Since when its pushes fail, if they do (cleared by one that goes, or a renewal).
    pub failing_since: Option<Timestamp>,
    /// While failing: not tried before this.
    pub retry_at: Option<Timestamp>,
}

/// A participant who may have a push due about a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCandidate {
    /// The conversation.
    pub conversation: ConversationId,
    /// Who would be told.
    pub user: UserId,
    /// Its latest message.
    pub last_seq: Seq,
    /// Messages up to this one were announced by push.
    pub notified_seq: Seq,
    /// When the latest push about this conversation went to them (0: never).
    pub last_sent_at: Timestamp,
    /// The first message of someone else neither announced by push nor read.
    pub first_new_at: Option<Timestamp>,
    /// Their choices, if they made any.
    pub settings: Option<StoredNotificationSettings>,
}

operations! {
    /// Stores a browser's subscription, or renews the one of the same endpoint.
    fn upsert_push_subscription(user: UserId, endpoint: &str, p256dh: &str, auth: &str, now: Timestamp) -> PushSubscriptionId = push::upsert;
    /// How many subscriptions a user has besides the one of `endpoint`.
    fn count_other_push_subscriptions(user: UserId, endpoint: &str) -> i64 = push::count_other;
    /// A user's subscriptions, oldest first.
    fn push_subscriptions(user: UserId) -> Vec<StoredPushSubscription> = push::of_user;
    /// Deletes a subscription of `user`'s; false if they have none of this id.
    fn delete_push_subscription(user: UserId, id: PushSubscriptionId) -> bool = push::delete;
    /// Deletes a subscription its push service says is gone, unless renewed since `created_at`.
    fn delete_gone_push_subscription(id: PushSubscriptionId, created_at: Timestamp) -> bool = push::delete_gone;
    /// Records a failed push: failing since `failing_since` (the streak's start), not tried
    /// before `retry_at`; unless the subscription was renewed since `created_at`.
    fn push_subscription_failed(id: PushSubscriptionId, created_at: Timestamp, failing_since: Timestamp, retry_at: Timestamp) -> () = push::failed;
    /// A subscription took a push: not failing any more.
    fn push_subscription_recovered(id: PushSubscriptionId) -> () = push::recovered;
    /// Who may have a push due about a conversation active since `since`, with a browser that
    /// may be tried at `now`.
    fn push_candidates(since: Timestamp, now: Timestamp) -> Vec<PushCandidate> = push::candidates;
    /// Claims a push (a conditional update of the `push_notices` row); false if taken.
    fn claim_push_notice(user: UserId, conversation: ConversationId, previous: Timestamp, notified_seq: Seq, now: Timestamp) -> bool = push::claim;
}
