-- Console users can be disabled by another user: a disabled user cannot log in and has no session.
ALTER TABLE console_users ADD COLUMN disabled_at TIMESTAMPTZ;
