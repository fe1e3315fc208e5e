-- The admin console, as in migrations/sqlite/0006_console.sql: people who log in (argon2
-- password hashes only), their sessions (the cookie's token stored as a sha256 hash) and
-- one-time setup links for the first admin.

CREATE TABLE console_users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,          -- argon2id PHC string; the password is never stored
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE console_sessions (
    token_hash  TEXT PRIMARY KEY,         -- sha256 hex of the cookie's random token
    user_id     BIGINT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- A link printed at a start with no user yet; redeemed once, for the first admin only.
CREATE TABLE console_setup_tokens (
    token_hash  TEXT PRIMARY KEY,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

-- The console lists recent crowd files to pick from.
CREATE INDEX crowds_created ON crowds (created_at);
