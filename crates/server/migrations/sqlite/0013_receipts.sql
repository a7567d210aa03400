-- Message receipts (issue 12, "an honest status for every patient message"): beside how far
-- each participant has read (`seq`), when that cursor last moved and from where, and how far
-- their devices have received the conversation. Messages after `read_from` up to `seq` were
-- read at `read_at`; NULL for a cursor that has not moved since this migration (read, time
-- unknown). `delivered_seq` only moves forward and never past the conversation's last_seq.
-- The same schema as migrations/postgres/0012_receipts.sql; docs/protocol.md, "Receipts",
-- gives the rules.
ALTER TABLE read_cursors ADD COLUMN read_at INTEGER;
ALTER TABLE read_cursors ADD COLUMN read_from INTEGER NOT NULL DEFAULT 0 CHECK (read_from >= 0);
ALTER TABLE read_cursors ADD COLUMN delivered_seq INTEGER NOT NULL DEFAULT 0 CHECK (delivered_seq >= 0);
