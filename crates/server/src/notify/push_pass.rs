//! The pushes of one notifier pass: each due push ([`rules::decide_push`]) is claimed (a
//! conditional update of the `push_notices` row, so that on a cluster one instance sends it),
//! then sent to every browser the user subscribed. A subscription its push service no longer
//! knows (404, 410) is deleted; if no browser took the push and one failed otherwise or waits,
//! the claim is given back and a later pass tries again.
//!
//! A subscription that fails (its push service's name does not resolve, or it answers 5xx)
//! waits before its next try, half as long as it has been failing, between a minute and an
//! hour: a push service down for a moment is tried again soon, a dead one every hour rather
//! than at every pass. One failing for [`GIVE_UP_AFTER_MS`] (each try within a day of the last
//! wait's end; a longer silence starts afresh) is deleted, as a forgotten one is
//! (its user can turn notifications on again on that device). A renewed subscription starts
//! afresh.

use super::push::PushOutcome;
use super::{LOOK_BACK_DAYS, Notifier, rules};
use crate::metrics::{Metrics, PushLabels};
use crate::store::{PushCandidate, Store, StoredPushSubscription};
use crate::util::DAY_MS;
use colloque_protocol::{NOTICE_FR, PushNotice, Seq, Timestamp};

const MINUTE_MS: i64 = 60 * 1000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
/// A subscription failing for this long is deleted.
pub const GIVE_UP_AFTER_MS: i64 = 7 * DAY_MS;

/// How long a subscription failing for `failing_ms` waits before its next try.
fn retry_delay_ms(failing_ms: i64) -> i64 {
    (failing_ms / 2).clamp(MINUTE_MS, HOUR_MS)
}

impl Notifier {
    /// What every push says, once decrypted: the notice and the app's address. Nothing of the
    /// message, the conversation or the people can reach it: it takes none of them.
    pub fn push_payload(&self) -> Vec<u8> {
        let notice = PushNotice {
            title: "Colloque".into(),
            body: NOTICE_FR.into(),
            url: format!("{}/", self.public_url),
        };
        serde_json::to_vec(&notice).unwrap_or_default()
    }

    /// Every push due at `now`, claimed and sent.
    pub(super) async fn push_pass(
        &self,
        store: &Store,
        metrics: &Metrics,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        let since = Timestamp(now.0 - LOOK_BACK_DAYS * DAY_MS);
        for candidate in store.push_candidates(since, now).await? {
            if let Some(seq) = rules::decide_push(&candidate, now, &self.rules) {
                self.push(store, metrics, &candidate, seq, now).await?;
            }
        }
        Ok(())
    }

    async fn push(
        &self,
        store: &Store,
        metrics: &Metrics,
        candidate: &PushCandidate,
        seq: Seq,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        // Only the browsers that may be tried now (the candidate has at least one); one still
        // waiting after a failure keeps the push due for itself.
        let all = store.push_subscriptions(candidate.user).await?;
        let count = all.len();
        let subscriptions: Vec<StoredPushSubscription> = all
            .into_iter()
            .filter(|subscription| subscription.retry_at.is_none_or(|at| at <= now))
            .collect();
        if subscriptions.is_empty() {
            return Ok(());
        }
        let held_back = subscriptions.len() < count;
        let claimed = store
            .claim_push_notice(
                candidate.user,
                candidate.conversation,
                candidate.last_sent_at,
                seq,
                now,
            )
            .await?;
        if !claimed {
            return Ok(());
        }
        let payload = self.push_payload();
        let (mut sent, mut failed) = (false, false);
        // A person's browsers at once (at most 10): one slow push service costs one timeout.
        let outcomes = futures_util::future::join_all(
            subscriptions
                .iter()
                .map(|subscription| self.push.send(subscription, &payload)),
        )
        .await;
        for (subscription, outcome) in subscriptions.iter().zip(outcomes) {
            match outcome {
                PushOutcome::Sent => {
                    sent = true;
                    if subscription.failing_since.is_some() {
                        store.push_subscription_recovered(subscription.id).await?;
                    }
                }
                PushOutcome::Failed => {
                    failed = true;
                    failing(store, candidate, subscription, now).await?;
                }
                PushOutcome::Gone => {
                    let why = "its push service no longer knows it";
                    delete(store, candidate, subscription, why).await?;
                }
            }
            metrics
                .pushes
                .get_or_create(&PushLabels {
                    outcome: outcome.as_str(),
                })
                .inc();
        }
        // No browser took it: the claim goes back for the next try of one that failed or
        // waits (a browser deleted as gone meanwhile does not end the push for the others).
        if !sent && (failed || held_back) {
            // Give the claim back (unless a newer claim took the row meanwhile).
            store
                .claim_push_notice(
                    candidate.user,
                    candidate.conversation,
                    now,
                    candidate.notified_seq,
                    candidate.last_sent_at,
                )
                .await?;
        }
        Ok(())
    }
}

/// After a failed push: the subscription waits before its next try, or is deleted once it has
/// been failing for [`GIVE_UP_AFTER_MS`].
async fn failing(
    store: &Store,
    candidate: &PushCandidate,
    subscription: &StoredPushSubscription,
    now: Timestamp,
) -> anyhow::Result<()> {
    // A failure within a day of the end of the last wait continues the streak; one after a
    // longer silence (no push was due meanwhile) starts a new one: a week of failing means a
    // week of tries that failed, not two blips a week apart.
    let since = match (subscription.failing_since, subscription.retry_at) {
        (Some(since), Some(retry_at)) if now.0 - retry_at.0 <= DAY_MS => since,
        _ => now,
    };
    let failing_ms = now.0 - since.0;
    if failing_ms >= GIVE_UP_AFTER_MS {
        delete(store, candidate, subscription, "failing for a week").await?;
    } else {
        let retry_at = Timestamp(now.0 + retry_delay_ms(failing_ms));
        store
            .push_subscription_failed(subscription.id, subscription.created_at, since, retry_at)
            .await?;
    }
    Ok(())
}

/// Deletes a subscription that takes no more pushes, unless it was renewed since it was read.
async fn delete(
    store: &Store,
    candidate: &PushCandidate,
    subscription: &StoredPushSubscription,
    why: &'static str,
) -> anyhow::Result<()> {
    store
        .delete_gone_push_subscription(subscription.id, subscription.created_at)
        .await?;
    tracing::info!(
        user = %candidate.user,
        subscription = %subscription.id,
        why,
        "a push subscription was deleted"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_subscription_waits_half_its_failing_time_between_a_minute_and_an_hour() {
        assert_eq!(retry_delay_ms(0), MINUTE_MS);
        assert_eq!(retry_delay_ms(90 * 1000), MINUTE_MS);
        assert_eq!(retry_delay_ms(10 * MINUTE_MS), 5 * MINUTE_MS);
        assert_eq!(retry_delay_ms(2 * HOUR_MS), HOUR_MS);
        assert_eq!(retry_delay_ms(GIVE_UP_AFTER_MS), HOUR_MS);
    }
}
