//! The audit trail on the store (see [`crate::audit`]): chained appends, the retention purge
//! from the trail's oldest end, and the walk of the whole chain.

use super::{Store, Tx, postgres, sqlite};
use crate::audit::{self, Broken, Entry, Row, Source, Verification, Walk};
use crate::util::{DAY_MS, now_ms};
use colloque_protocol::Timestamp;

/// Why the retention purge deleted nothing.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    /// The cut-off is newer than the minimum retention allows.
    #[error(
        "the cut-off is less than {} days old: the audit trail keeps at least that",
        audit::MIN_RETENTION_DAYS
    )]
    TooRecent,
    /// A row about to be purged breaks the chain: the evidence stays.
    #[error("the audit chain is broken at {0}; nothing was purged (run audit-verify)")]
    Broken(Broken),
    /// The database failed or refused (its own minimum-retention trigger, say).
    #[error("the database refused the purge: {0}")]
    Database(#[from] sqlx::Error),
}

impl Store {
    /// Appends one audit entry, now, in a transaction of its own.
    pub async fn audit(&self, source: &Source, entry: &Entry) -> Result<(), sqlx::Error> {
        self.append_audit(&[Row::new(source, entry, now_ms())])
            .await
    }

    /// Appends rows, in this order, in one transaction.
    pub async fn append_audit(&self, rows: &[Row]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        tx.append_audit(rows).await?;
        tx.commit().await
    }

    /// Deletes the audit entries older than `before` from the trail's oldest end (the
    /// retention purge, the only path that may delete); returns how many. Refuses a cut-off
    /// less than [`audit::MIN_RETENTION_DAYS`] old (so does the database), and refuses to
    /// delete rows whose links do not hold: tampering is never erased by the retention. The
    /// anchor moves to the last deleted row's hash, so that the chain stays verifiable.
    ///
    /// The rows to delete are checked before the write transaction (a day's rows can take a
    /// while to read, and on SQLite the write lock would stop every send meanwhile); the
    /// transaction then deletes them only if no other purge moved the anchor in between.
    pub async fn purge_audit(&self, before: Timestamp) -> Result<u64, PurgeError> {
        let newest = now_ms().0 - i64::from(audit::MIN_RETENTION_DAYS) * DAY_MS;
        if before.0 > newest {
            return Err(PurgeError::TooRecent);
        }
        let (chain, through) = on_pool!(self, |db, b| (
            b::audit::chain(db).await?,
            b::audit::purge_through(db, before).await?
        ));
        let Some(through) = through else {
            return Ok(0);
        };
        let mut walk = Walk::from_anchor(chain.anchor_id, &chain.anchor_hash);
        on_pool!(self, |db, b| b::audit::walk(db, &mut walk, through).await)?
            .map_err(PurgeError::Broken)?;
        let anchor = (through > chain.anchor_id).then(|| {
            let (id, hash) = walk.last();
            (id, hash.to_owned())
        });
        let anchor = anchor.as_ref().map(|(id, hash)| (*id, hash.as_str()));
        let mut tx = self.begin_write().await?;
        let purged = on_tx!(&mut tx, |conn, b| b::audit::purge(
            conn,
            before,
            through,
            anchor,
            chain.anchor_id
        )
        .await)?;
        match purged {
            Some(deleted) => {
                tx.commit().await?;
                Ok(deleted)
            }
            None => {
                tx.rollback().await?;
                Ok(0)
            }
        }
    }

    /// Walks the whole chain, from its anchor to its head (`audit-verify`), in pages, without
    /// holding any lock: appends go on meanwhile (the walk stops at the head it read first). A
    /// retention purge that runs during the walk can make it report the row after the new
    /// anchor; walk again.
    pub async fn verify_audit(&self) -> Result<Verification, sqlx::Error> {
        // The newest id first: a row above the head read next was written outside the chain
        // (an append that commits in between moves the head past it).
        let newest: Option<i64> = on_pool!(self, |db| {
            sqlx::query_scalar("SELECT MAX(id) FROM audit_log")
                .fetch_one(db)
                .await?
        });
        let chain = on_pool!(self, |db, b| b::audit::chain(db).await)?;
        let unchained = on_pool!(self, |db, b| b::audit::count_through(db, chain.anchor_id)
            .await)?;
        let mut walk = Walk::from_anchor(chain.anchor_id, &chain.anchor_hash);
        if let Err(broken) = on_pool!(self, |db, b| b::audit::walk(db, &mut walk, chain.head_id)
            .await)?
        {
            return Ok(Verification::Broken(broken));
        }
        let rows = match walk.finish(chain.head_id, &chain.head_hash) {
            Ok(rows) => rows,
            Err(broken) => return Ok(Verification::Broken(broken)),
        };
        if newest.is_some_and(|newest| newest > chain.head_id) {
            let outside: Option<i64> = on_pool!(self, |db| {
                sqlx::query_scalar("SELECT MIN(id) FROM audit_log WHERE id > $1")
                    .bind(chain.head_id)
                    .fetch_one(db)
                    .await?
            });
            return Ok(Verification::Broken(Broken {
                id: outside.or(newest).unwrap_or_default(),
                reason: "it was written after the chain's head, outside the chain",
            }));
        }
        Ok(Verification::Intact {
            rows,
            unchained: u64::try_from(unchained).unwrap_or_default(),
            head_id: chain.head_id,
            head_hash: chain.head_hash,
        })
    }
}

impl Tx {
    /// Appends an audit entry that commits (or not) with the transaction. Call it last in the
    /// transaction: it locks the chain's head (see `postgres::lock_audit_chain`).
    pub async fn audit(&mut self, source: &Source, entry: &Entry) -> Result<(), sqlx::Error> {
        self.append_audit(&[Row::new(source, entry, now_ms())])
            .await
    }

    /// Appends rows, in this order, in this transaction (last in it, like [`Tx::audit`]).
    pub async fn append_audit(&mut self, rows: &[Row]) -> Result<(), sqlx::Error> {
        on_tx!(self, |conn, b| b::audit::append(conn, rows).await)
    }
}
