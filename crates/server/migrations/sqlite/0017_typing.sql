-- The typing indicator's one choice (issue 12): whether a user's writing is shown to the
-- other participant. No row: shown (the default). (0016 is another change's number.)
CREATE TABLE typing_settings (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    share_typing  INTEGER NOT NULL CHECK (share_typing IN (0, 1)),
    updated_at    INTEGER NOT NULL
) STRICT;
