-- Console users can be disabled by another user: a disabled user cannot log in and has no session.
ALTER TABLE console_users ADD COLUMN disabled_at TIMESTAMPTZ;
-- The IANA time zone a user reads times in; NULL for UTC.
ALTER TABLE console_users ADD COLUMN time_zone TEXT;
