-- The suppression list: receivers who are not sent to, per channel ('' = every channel) and
-- per kind of message (bits: 1 notice, 2 marketing, 4 verification code). The receiver is
-- stored as herald_core::suppression::receiver_key spells it, and looked up the same way.
CREATE TABLE suppressions (
    receiver TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    kinds INTEGER NOT NULL CHECK (kinds BETWEEN 1 AND 7),
    source TEXT NOT NULL,
    note TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (receiver, channel)
);
-- The console's newest-first list.
CREATE INDEX suppressions_by_time ON suppressions (created_at DESC, receiver);
