-- Red flags (issue 12): since when a conversation is urgent, i.e. since the patient's first
-- message sent past the red-flag screen after the doctor's latest message. NULL when not
-- urgent; cleared by the doctor's next message and by closing. The doctor's queue puts urgent
-- conversations first. The same schema as migrations/postgres/0011_urgent.sql; docs/care.md,
-- "Red flags", gives the rules.
ALTER TABLE conversations ADD COLUMN urgent_since INTEGER;
