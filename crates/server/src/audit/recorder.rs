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
        }
    }

    /// Records `entry`: a refusal is counted ([`super::refusals`]; its row is written when its
    /// minute closes), anything else is appended to the chain now.
    pub async fn record(&self, source: &Source, entry: Entry) -> Result<(), sqlx::Error> {
        if entry.action.is_refusal() {
            self.refused(source, &entry);
            return Ok(());
        }
        self.store.audit(source, &entry).await
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
        self.flush(false).await
    }

    /// Appends every count, open minutes included (shutdown).
    pub async fn flush_all(&self) -> Result<usize, sqlx::Error> {
        self.flush(true).await
    }

    async fn flush(&self, all: bool) -> Result<usize, sqlx::Error> {
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
