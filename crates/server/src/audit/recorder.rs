//! [`Auditor`]: how the server writes its trail — refusals counted, the rest appended to the
//! chain before the answer.

use super::refusals::Refusals;
use super::{Action, Entry, Row, Source};
use crate::error::AppError;
use crate::store::Store;
use crate::util::now_ms;
use std::sync::{Arc, Mutex, PoisonError};

/// Rows of closed counts kept for another attempt while the database refuses them; past this
/// many, the oldest are dropped (and the loss is logged).
const MAX_PENDING: usize = 100_000;

/// Records audit entries. Cheap to clone.
#[derive(Clone)]
pub struct Auditor {
    store: Store,
    waiting: Arc<Mutex<Waiting>>,
    /// One flush at a time: the flush at shutdown waits for the periodic one in flight, whose
    /// rows it could not see (taken out of `waiting`, not yet appended) and which the database
    /// closing right after could lose. Seen once in a clean-clone run: a test's two refused
    /// origins missing from the trail when its minute closed during the shutdown.
    flushing: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct Waiting {
    refusals: Refusals,
    /// Rows taken from closed counts whose append failed.
    pending: Vec<Row>,
}

impl Auditor {
    /// Records into `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            waiting: Arc::default(),
            flushing: Arc::default(),
        }
    }

    /// Records `entry`: a refusal is counted ([`super::refusals`]; its row is written when its
    /// minute closes), anything else is appended to the chain now.
    ///
    /// The append runs in a task of its own: a request whose client goes away is dropped by
    /// axum, and a write transaction dropped midway would leave SQLite's write lock held (see
    /// `chat::detached`).
    pub async fn record(&self, source: &Source, entry: Entry) -> Result<(), sqlx::Error> {
        if entry.action.is_refusal() {
            self.refused(source, &entry);
            return Ok(());
        }
        let (store, source) = (self.store.clone(), source.clone());
        tokio::spawn(async move { store.audit(&source, &entry).await })
            .await
            .map_err(|error| sqlx::Error::Protocol(format!("an audit append failed: {error}")))?
    }

    /// Counts a refusal (it costs no database write now).
    pub fn refused(&self, source: &Source, entry: &Entry) {
        debug_assert!(entry.action.is_refusal(), "{:?}", entry.action);
        self.lock().refusals.count(source, entry, now_ms());
    }

    /// Records a read of health data before it is answered: if its row cannot be written, the
    /// read fails with `503 server_busy` and returns nothing (an access that was not recorded
    /// must not happen).
    pub async fn read(&self, source: &Source, entry: Entry) -> Result<(), AppError> {
        let action = entry.action;
        self.record(source, entry)
            .await
            .map_err(|error| AppError::unrecorded(action, &error))
    }

    /// Records an event that must take effect even if it cannot be recorded (a logout, the
    /// sockets of an ended session closed): a failed write is logged as an error.
    pub async fn note(&self, source: &Source, entry: Entry) {
        let action = entry.action;
        if let Err(error) = self.record(source, entry).await {
            log_failure(action, &error);
        }
    }

    /// Appends the counts whose minute has closed (and the rows an earlier attempt could not
    /// write); returns how many rows were appended.
    pub async fn flush_closed(&self) -> Result<usize, sqlx::Error> {
        self.flush_detached(false).await
    }

    /// Appends every count, open minutes included (shutdown).
    pub async fn flush_all(&self) -> Result<usize, sqlx::Error> {
        self.flush_detached(true).await
    }

    /// Flushes in a task of its own, so that the counts taken are written or kept even when
    /// the caller (the periodic writer, aborted at shutdown) is dropped.
    async fn flush_detached(&self, all: bool) -> Result<usize, sqlx::Error> {
        let auditor = self.clone();
        tokio::spawn(async move { auditor.flush(all).await })
            .await
            .map_err(|error| sqlx::Error::Protocol(format!("an audit flush failed: {error}")))?
    }

    async fn flush(&self, all: bool) -> Result<usize, sqlx::Error> {
        let _one_at_a_time = self.flushing.lock().await;
        let rows = {
            let mut waiting = self.lock();
            let mut rows = std::mem::take(&mut waiting.pending);
            rows.extend(if all {
                waiting.refusals.take_all()
            } else {
                waiting.refusals.take_closed(now_ms())
            });
            rows
        };
        if rows.is_empty() {
            return Ok(0);
        }
        match self.store.append_audit(&rows).await {
            Ok(()) => Ok(rows.len()),
            Err(error) => {
                let mut waiting = self.lock();
                let mut rows = rows;
                rows.append(&mut waiting.pending);
                if rows.len() > MAX_PENDING {
                    let lost = rows.len() - MAX_PENDING;
                    tracing::error!(
                        lost,
                        "counts of refusals dropped: the audit trail refuses them"
                    );
                    rows.drain(..lost);
                }
                waiting.pending = rows;
                Err(error)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Logs an audit entry that could not be written: an operator must hear about it.
pub(crate) fn log_failure(action: Action, error: &sqlx::Error) {
    tracing::error!(%error, action = action.as_str(), "failed to write an audit entry");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Transport, refusals::MINUTE_MS};
    use crate::store::DatabaseUrl;
    use colloque_protocol::Timestamp;

    async fn rows(store: &Store) -> Vec<(String, i64)> {
        let Store::Sqlite(pool) = store else {
            unreachable!("a SQLite store")
        };
        sqlx::query_as("SELECT action, occurrences FROM audit_log ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    async fn refuse_inserts(store: &Store, refuse: bool) {
        let Store::Sqlite(pool) = store else {
            unreachable!("a SQLite store")
        };
        let sql = if refuse {
            "CREATE TRIGGER refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'no'); END"
        } else {
            "DROP TRIGGER refuse"
        };
        sqlx::query(sql).execute(pool).await.unwrap();
    }

    /// The periodic writer appends the minutes that have closed and keeps the current one; rows
    /// the database refuses are kept and written by a later pass, never dropped.
    #[tokio::test]
    async fn closed_minutes_are_appended_and_refused_rows_are_kept_for_later() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&DatabaseUrl::in_data_dir(dir.path()))
            .await
            .unwrap();
        let auditor = Auditor::new(store.clone());
        let source = Source {
            ip: Some("203.0.113.9".into()),
            user_agent: None,
            transport: Transport::Rest,
        };
        let throttled = Entry::new(Action::LoginThrottled, None);
        let a_minute_ago = Timestamp(now_ms().0 - MINUTE_MS);
        for _ in 0..3 {
            auditor
                .lock()
                .refusals
                .count(&source, &throttled, a_minute_ago);
        }
        // A minute that is still open whenever the test runs.
        let later = Timestamp(now_ms().0 + 10 * MINUTE_MS);
        let origin = Entry::new(Action::OriginRefused, None);
        auditor.lock().refusals.count(&source, &origin, later);

        refuse_inserts(&store, true).await;
        assert!(auditor.flush_closed().await.is_err());
        assert!(rows(&store).await.is_empty());
        refuse_inserts(&store, false).await;
        assert_eq!(auditor.flush_closed().await.unwrap(), 1);
        assert_eq!(rows(&store).await, [("login_throttled".to_owned(), 3)]);
        assert_eq!(
            auditor.flush_closed().await.unwrap(),
            0,
            "its minute is open"
        );
        assert_eq!(auditor.flush_all().await.unwrap(), 1, "written at shutdown");
        assert_eq!(rows(&store).await.len(), 2);
    }
}
