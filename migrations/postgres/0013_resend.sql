-- Resend to failed: a run whose crowd is the failed messages of an earlier run.

-- The run it resends the failed messages of; NULL for a template's own runs. A run is resent
-- at most once (its resend's own failures are resent from the resend), so no receiver that a
-- resend reached is sent to again by a second resend of the same run.
ALTER TABLE runs ADD COLUMN resend_of BIGINT REFERENCES runs(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX runs_resend_of ON runs (resend_of) WHERE resend_of IS NOT NULL;
