//! Session activity, written in batches.
//!
//! Each authenticated request records that its session is in use, so that an idle session can
//! end. Written one by one, that was one fsynced write transaction per active session every
//! few seconds (55 a second with 550 busy users), each waiting for SQLite's write lock behind
//! the message writer: `cargo xtask bench` saw single touches wait over a second and stall
//! sends by as much. They are now kept in memory and written together, in one statement, a few
//! times per idle period ([`flush_every`]).

use crate::domain::SessionId;
use crate::store::Store;
use colloque_protocol::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Sessions used since the last write, with when. Cheap to clone.
#[derive(Clone, Default)]
pub struct SessionTouches {
    pending: Arc<Mutex<HashMap<String, Timestamp>>>,
}

impl SessionTouches {
    /// Records that `session` was used at `at`.
    pub fn record(&self, session: &SessionId, at: Timestamp) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = pending.entry(session.0.clone()).or_insert(at);
        entry.0 = entry.0.max(at.0);
    }

    /// Writes what was recorded since the last call, in one transaction. The write runs in a
    /// task of its own, so a caller that is cancelled (the periodic task at shutdown) never
    /// drops a transaction half-way; on failure the activity is kept for the next call.
    pub async fn flush(&self, db: &Store) -> Result<(), sqlx::Error> {
        let batch: Vec<(String, Timestamp)> = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.drain().collect()
        };
        if batch.is_empty() {
            return Ok(());
        }
        let (db, touches) = (db.clone(), self.clone());
        let written = tokio::spawn(async move {
            let result = db.touch_sessions(&batch).await;
            if result.is_err() {
                for (session, at) in batch {
                    touches.record(&SessionId(session), at);
                }
            }
            result
        })
        .await;
        written.unwrap_or_else(|error| Err(sqlx::Error::Protocol(error.to_string())))
    }
}

/// How often recorded activity is written: a tenth of the idle limit, between 10 ms and 1 s.
/// With the touch interval (also a tenth of the idle limit, at most 10 s), the stored
/// `last_seen_at` lags the real activity by at most a fifth of the idle limit.
pub fn flush_every(session_idle: Duration) -> Duration {
    (session_idle / 10).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

/// Writes recorded session activity every [`flush_every`], for as long as the server runs.
pub async fn write_periodically(touches: SessionTouches, store: Store, session_idle: Duration) {
    let mut every = tokio::time::interval(flush_every(session_idle));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(error) = touches.flush(&store).await {
            tracing::warn!(%error, "failed to record session activity");
        }
    }
}
