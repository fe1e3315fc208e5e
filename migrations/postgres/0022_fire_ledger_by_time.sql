-- The fire ledger keyed by time: a page of claims writes the fires of one second, and with the
-- schedule first in the unique key each landed on an index leaf of its own. Keyed
-- (fire_time, schedule_id) they land on one or two. A schedule's own fires are found through a
-- chain instead: the schedule names its newest fire (last_fire_id) and each fire the one before
-- it (prev_fire_id). The ledger no longer cascades from its schedule (that would scan it without
-- a schedule-first index): a deleted schedule's fires stay, as a deleted template's do.
ALTER TABLE schedules ADD COLUMN last_fire_id BIGINT;
ALTER TABLE fires ADD COLUMN prev_fire_id BIGINT;
UPDATE schedules s SET last_fire_id = (SELECT f.id FROM fires f WHERE f.schedule_id = s.id
                                       ORDER BY f.fire_time DESC, f.id DESC LIMIT 1);
UPDATE fires f SET prev_fire_id = chained.prev
    FROM (SELECT id, LAG(id) OVER (PARTITION BY schedule_id ORDER BY fire_time, id) AS prev FROM fires) chained
    WHERE chained.id = f.id AND chained.prev IS NOT NULL;
ALTER TABLE fires DROP CONSTRAINT fires_schedule_id_fkey;
ALTER TABLE fires DROP CONSTRAINT fires_schedule_id_fire_time_key;
ALTER TABLE fires ADD CONSTRAINT fires_fire_time_schedule_id_key UNIQUE (fire_time, schedule_id);
