//! The pushes of one notifier pass: each due push ([`rules::decide_push`]) is claimed (a
//! conditional update of the `push_notices` row, so that on a cluster one instance sends it),
//! then sent to every browser the user subscribed. A subscription its push service no longer
//! knows (404, 410) is deleted; if no browser took the push and one failed otherwise, the claim
//! is given back and the next pass tries again.

use super::push::PushOutcome;
use super::{LOOK_BACK_DAYS, Notifier, rules};
use crate::metrics::{Metrics, PushLabels};
use crate::store::{PushCandidate, Store};
use crate::util::DAY_MS;
use colloque_protocol::{NOTICE_FR, PushNotice, Seq, Timestamp};

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
        for candidate in store.push_candidates(since).await? {
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
        let subscriptions = store.push_subscriptions(candidate.user).await?;
        // A person's browsers at once (at most 10): one slow push service costs one timeout.
        let outcomes = futures_util::future::join_all(
            subscriptions
                .iter()
                .map(|subscription| self.push.send(subscription, &payload)),
        )
        .await;
        for (subscription, outcome) in subscriptions.iter().zip(outcomes) {
            match outcome {
                PushOutcome::Sent => sent = true,
                PushOutcome::Failed => failed = true,
                PushOutcome::Gone => {
                    store
                        .delete_gone_push_subscription(subscription.id, subscription.created_at)
                        .await?;
                    tracing::info!(
                        user = %candidate.user,
                        subscription = %subscription.id,
                        "a push subscription its push service no longer knows was deleted"
                    );
                }
            }
            metrics
                .pushes
                .get_or_create(&PushLabels {
                    outcome: outcome.as_str(),
                })
                .inc();
        }
        if failed && !sent {
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
