-- Run pause: an operator holds a run's messages and resumes it later.

-- When the run was paused; NULL while it sends. Streamers and workers read it.
ALTER TABLE runs ADD COLUMN paused_at TIMESTAMPTZ;

-- A held message is held for quiet hours (paused = FALSE, due at release_at) or for its run's
-- pause (paused = TRUE, release_at far in the future until the run is resumed, when it turns due).
ALTER TABLE deferred_messages ADD COLUMN paused BOOLEAN NOT NULL DEFAULT FALSE;
-- How far it was screened before it was held ('not', 'quiet_hours', 'fully'): its release
-- skips that. Messages deferred for quiet hours are released past them.
ALTER TABLE deferred_messages ADD COLUMN screened TEXT NOT NULL DEFAULT 'quiet_hours';
