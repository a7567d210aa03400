-- The delivery sweep reads the conversations active since its previous pass.
CREATE INDEX conversations_by_activity ON conversations (last_activity_at);
