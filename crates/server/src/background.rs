//! The tasks that run beside the server for as long as it serves: the audit purge, the sweeps
//! of ended sessions (their sockets, then their rows) and of old login attempts, the writer of
//! session activity and the delivery loop. [`crate::startup::Application::run_until_stopped`]
//! starts them and aborts them at shutdown.

use crate::audit::{Action, Entry, Source};
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
) -> [JoinHandle<()>; 6] {
    [
        tokio::spawn(purge_audit_daily(state.store.clone(), audit_retention_days)),
        tokio::spawn(sweep_revoked_sessions(state.clone())),
        tokio::spawn(delete_ended_sessions(state.clone())),
        tokio::spawn(delete_old_login_attempts(state.clone())),
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
/// server runs.
async fn purge_audit_daily(store: Store, retention_days: u32) {
    let mut every_day = tokio::time::interval(std::time::Duration::from_secs(24 * 60 * 60));
    loop {
        every_day.tick().await;
        let before = Timestamp(now_ms().0 - i64::from(retention_days) * DAY_MS);
        match store.purge_audit(before).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "purged old audit entries"),
            Err(error) => tracing::error!(%error, "failed to purge old audit entries"),
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
                    state.store.audit(&Source::system(), entry).await;
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
