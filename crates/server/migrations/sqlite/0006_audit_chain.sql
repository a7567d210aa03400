-- Issue 10, an audit trail that cannot be flooded or silently skipped (docs/security.md, "Audit
-- trail"; the same schema as migrations/postgres/0005_audit_chain.sql).

-- Refusals are counted per (address, action, minute) in the server's memory and written once
-- per minute with their count (crate::audit::refusals): a flood never writes a row per
-- request. Every other row happened once.
ALTER TABLE audit_log ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1 CHECK (occurrences >= 1);

-- The hash chain (crate::audit::chain): each row carries the hash of the row before it (in id
-- order) and the SHA-256 of its own fields and that link. Computed by the server, which
-- appends under the write lock; NULL in the rows written before this migration.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- One row: the chain's head (its last row, moved by every append in the append's transaction)
-- and its anchor (the hash the first remaining row links to: 64 zeros at first, then the hash
-- of the last row the retention purge deleted). Rows at or below anchor_id are older than the
-- chain.
CREATE TABLE audit_chain (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    head_id     INTEGER NOT NULL,
    head_hash   TEXT    NOT NULL,
    anchor_id   INTEGER NOT NULL,
    anchor_hash TEXT    NOT NULL,
    CHECK (anchor_id <= head_id)
) STRICT;
INSERT INTO audit_chain (id, head_id, head_hash, anchor_id, anchor_hash)
SELECT 1, COALESCE(MAX(id), 0),
       '0000000000000000000000000000000000000000000000000000000000000000',
       COALESCE(MAX(id), 0),
       '0000000000000000000000000000000000000000000000000000000000000000'
FROM audit_log;

-- The chain only moves forward, and cannot be removed.
CREATE TRIGGER audit_chain_moves_forward BEFORE UPDATE ON audit_chain
WHEN NEW.id <> OLD.id OR NEW.head_id < OLD.head_id OR NEW.anchor_id < OLD.anchor_id
BEGIN
    SELECT RAISE(ABORT, 'audit_chain only moves forward');
END;
CREATE TRIGGER audit_chain_stays BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain cannot be deleted');
END;

-- The retention purge keeps at least 180 days (crate::audit::MIN_RETENTION_DAYS; CNIL
-- recommends 6 months to a year for access traces): a cut-off it announces must be older than
-- that, by the database's own clock. 180 days = 15,552,000,000 ms.
CREATE TRIGGER audit_purge_keeps_the_minimum BEFORE INSERT ON audit_purge
WHEN NEW.before > CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) - 15552000000
BEGIN
    SELECT RAISE(ABORT, 'the audit trail keeps at least 180 days: this purge cut-off is too recent');
END;
