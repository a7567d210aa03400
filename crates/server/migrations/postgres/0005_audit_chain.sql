-- Issue 10, an audit trail that cannot be flooded or silently skipped: the same schema as
-- migrations/sqlite/0006_audit_chain.sql, which explains it.

ALTER TABLE audit_log ADD COLUMN occurrences BIGINT NOT NULL DEFAULT 1 CHECK (occurrences >= 1);
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- Appends from every instance lock this row (SELECT … FOR UPDATE, last in their transaction),
-- so that the chain is one sequence: ids are taken and committed in the order of the lock.
CREATE TABLE audit_chain (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    head_id     BIGINT NOT NULL,
    head_hash   TEXT   NOT NULL,
    anchor_id   BIGINT NOT NULL,
    anchor_hash TEXT   NOT NULL,
    CHECK (anchor_id <= head_id)
);
INSERT INTO audit_chain (id, head_id, head_hash, anchor_id, anchor_hash)
SELECT 1, COALESCE(MAX(id), 0),
       '0000000000000000000000000000000000000000000000000000000000000000',
       COALESCE(MAX(id), 0),
       '0000000000000000000000000000000000000000000000000000000000000000'
FROM audit_log;

CREATE FUNCTION audit_chain_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'audit_chain cannot be deleted';
    END IF;
    IF NEW.id <> OLD.id OR NEW.head_id < OLD.head_id OR NEW.anchor_id < OLD.anchor_id THEN
        RAISE EXCEPTION 'audit_chain only moves forward';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_chain_moves_forward BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_chain_moves_forward();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_moves_forward();

-- The retention purge keeps at least 180 days (15,552,000,000 ms), by the database's clock.
CREATE FUNCTION audit_purge_keeps_the_minimum() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.before > (extract(epoch FROM clock_timestamp()) * 1000)::bigint - 15552000000 THEN
        RAISE EXCEPTION 'the audit trail keeps at least 180 days: this purge cut-off is too recent';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_purge_keeps_the_minimum BEFORE INSERT ON audit_purge
    FOR EACH ROW EXECUTE FUNCTION audit_purge_keeps_the_minimum();
