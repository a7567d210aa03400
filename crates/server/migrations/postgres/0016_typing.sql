-- The typing indicator's one choice (issue 12). The same schema as
-- migrations/sqlite/0017_typing.sql. (0015 is another change's number.)
CREATE TABLE typing_settings (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    share_typing  BOOLEAN NOT NULL,
    updated_at    BIGINT NOT NULL
);
