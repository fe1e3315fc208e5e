-- Channel accounts (provider settings and secrets) and the housekeeping schedules that
-- belong to them. An account's config is sealed (AES-256-GCM) before it is stored.

CREATE TABLE channel_accounts (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    config_sealed   TEXT NOT NULL,   -- base64(nonce || ciphertext); never the plain config
    rate_per_second REAL,            -- sends per second through this account; NULL = unlimited
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- A housekeeping schedule may belong to an account (token refresh); it goes with it.
ALTER TABLE schedules ADD COLUMN account_id INTEGER REFERENCES channel_accounts(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX schedules_account_kind ON schedules (account_id, kind) WHERE account_id IS NOT NULL;

-- What a housekeeping fire came to: 'fired' becomes 'succeeded' or 'failed' with the error.
ALTER TABLE fires ADD COLUMN error TEXT;
