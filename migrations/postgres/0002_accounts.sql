-- Channel accounts (provider settings and secrets) and the housekeeping schedules that
-- belong to them, as in migrations/sqlite/0003_accounts.sql. An account's config is sealed
-- (AES-256-GCM) before it is stored.

CREATE TABLE channel_accounts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL,
    config_sealed   TEXT NOT NULL,      -- base64(nonce || ciphertext); never the plain config
    rate_per_second DOUBLE PRECISION,   -- sends per second through this account; NULL = unlimited
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- A housekeeping schedule may belong to an account (token refresh); it goes with it.
ALTER TABLE schedules ADD COLUMN account_id BIGINT REFERENCES channel_accounts(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX schedules_account_kind ON schedules (account_id, kind) WHERE account_id IS NOT NULL;

-- Templates name their account; a rename carries them along and a delete looks for users.
CREATE INDEX templates_channel_account ON templates (channel_account) WHERE channel_account IS NOT NULL;

-- What a housekeeping fire came to: 'fired' becomes 'succeeded' or 'failed' with the error.
ALTER TABLE fires ADD COLUMN error TEXT;
