-- Multi-factor authentication (issue 10, OWASP ASVS 5.0 V6.3). The same schema as
-- migrations/sqlite/0007_mfa.sql, which explains the columns; docs/security.md,
-- "Multi-factor authentication", gives the reasoning.
CREATE TABLE mfa_totp (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    enabled_at BIGINT,
    last_step  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE mfa_recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT   NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, hash)
);
