-- Crowd management: a crowd's bad-row report is kept with it, and a deleted crowd's row stays
-- (its runs refer to it) while its file is removed.

-- The bad rows the upload listed (JSON array of {line, row, reason}); NULL for older uploads.
ALTER TABLE crowds ADD COLUMN bad_rows_json TEXT;
-- When it was deleted; NULL while it is in use. Deleted crowds are gone for every reader.
ALTER TABLE crowds ADD COLUMN deleted_at TIMESTAMPTZ;
