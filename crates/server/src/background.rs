//! The tasks that run beside the server for as long as it serves: the audit purge and the
//! writer of the audit trail's counts of refusals, the sweeps
//! of ended sessions (their sockets, then their rows) and of old login attempts, the writer of
//! session activity, the delivery loop and the e-mail notifier. [`crate::startup::Application::run_until_stopped`]
//! starts them and aborts them at shutdown.

use crate::audit::{self, Action, Auditor, Entry, Source};
use crate::bus::Incoming;
use crate::state::AppState;
use crate::store::Store;
use crate::util::{DAY_MS, now_ms};
use colloque_protocol::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Starts every background task of a server about to serve.
pub(crate) fn spawn(
    state: &AppState,
    from_bus: mpsc::Receiver<Incoming>,
    audit_retention_days: u32,
) -> [JoinHandle<()>; 9] {
    [
        tokio::spawn(
            state
                .notifier
                .clone()
                .run(state.store.clone(), state.metrics.clone()),
        ),
        tokio::spawn(purge_audit_daily(state.store.clone(), audit_retention_days)),
        tokio::spawn(write_refusals(state.audit.clone())),
        tokio::spawn(sweep_revoked_sessions(state.clone())),
        tokio::spawn(delete_ended_sessions(state.clone())),
        tokio::spawn(delete_old_login_attempts(state.clone())),
        tokio::spawn(delete_unsent_attachments(state.clone())),
        tokio::spawn(crate::auth::write_touches_periodically(
            state.touches.clone(),
            state.store.clone(),
            state.limits.session_idle,
        )),
        tokio::spawn(state.delivery.clone().run(
            from_bus,
            state.limits.delivery_sweep,
            state.limits.delivery_sweep_bus_down,
        )),
    ]
}

/// Purges the audit entries older than the retention now, then once a day, for as long as the
/// server runs. A retention under the minimum (outside production, which refuses it) purges at
/// the minimum: the store and the database refuse more recent cut-offs.
async fn purge_audit_daily(store: Store, retention_days: u32) {
    let days = retention_days.max(audit::MIN_RETENTION_DAYS);
    let mut every_day = tokio::time::interval(std::time::Duration::from_secs(24 * 60 * 60));
    loop {
        every_day.tick().await;
        let before = Timestamp(now_ms().0 - i64::from(days) * DAY_MS);
        match store.purge_audit(before).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "purged old audit entries"),
            Err(error) => tracing::error!(%error, "failed to purge old audit entries"),
        }
    }
}

/// Appends the counts of refusals once their minute has closed: every second, so a count is
/// written within a second or two of its minute's end. What the database refuses is kept and
/// tried again.
async fn write_refusals(audit: Auditor) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(error) = audit.flush_closed().await {
            tracing::error!(%error, "failed to write counts of refusals to the audit trail");
        }
    }
}

/// Closes the sockets of sessions that ended elsewhere: an account disabled by the admin CLI
/// (another process), a session revoked by another server process, or one that went idle or
/// reached its end. Logout in this process closes its sockets at once; this catches the rest
/// within [`crate::config::Limits::revocation_check`].
async fn sweep_revoked_sessions(state: AppState) {
    let mut every = tokio::time::interval(state.limits.revocation_check);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match state.delivery.recheck_sessions(None).await {
            Ok(users) if users.is_empty() => {}
            Ok(users) => {
                tracing::info!(users = users.len(), "closed the sockets of ended sessions");
                for user in users {
                    let entry =
                        Entry::new(Action::SessionRevoked, Some(user)).detail("sockets closed");
                    state.audit.note(&Source::system(), entry).await;
                }
            }
            Err(error) => tracing::error!(%error, "failed to check the sessions of open sockets"),
        }
    }
}

/// Deletes the sessions that ended more than a day ago, at start and then every
/// [`crate::config::Limits::session_sweep`], so the table holds live sessions and recent ones,
/// not every login since the server was installed.
async fn delete_ended_sessions(state: AppState) {
    let mut every = tokio::time::interval(state.limits.session_sweep);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = now_ms();
        let cutoff = crate::auth::idle_cutoff(state.limits.session_idle, now);
        match state.store.delete_expired_sessions(now, cutoff).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted ended sessions"),
            Err(error) => tracing::error!(%error, "failed to delete ended sessions"),
        }
    }
}

/// Deletes the login attempts that no throttle window looks at any more, at start and then
/// every [`crate::config::Limits::session_sweep`], so the table holds the last quarter of an
/// hour's attempts, not every login since the server was installed. Every instance of a
/// cluster runs it; the deletes are idempotent.
async fn delete_old_login_attempts(state: AppState) {
    let mut every = tokio::time::interval(state.limits.session_sweep);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match state.throttles.logins.forget_old().await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted old login attempts"),
            Err(error) => tracing::error!(%error, "failed to delete old login attempts"),
        }
    }
}

/// Deletes the uploads never sent within [`crate::attachments::AttachmentLimits::unsent_ttl`]
/// (and the contents nothing refers to any more), at start and then every
/// [`crate::attachments::AttachmentLimits::sweep`]. Idempotent on every instance.
async fn delete_unsent_attachments(state: AppState) {
    let limits = &state.limits.attachments;
    let mut every = tokio::time::interval(limits.sweep);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let ttl = i64::try_from(limits.unsent_ttl.as_millis()).unwrap_or(i64::MAX);
        let cutoff = colloque_protocol::Timestamp(now_ms().0.saturating_sub(ttl));
        match state.store.delete_unsent_attachments(cutoff).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted unsent attachments"),
            Err(error) => tracing::error!(%error, "failed to delete unsent attachments"),
        }
    }
}
