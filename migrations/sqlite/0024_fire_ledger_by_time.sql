-- The fire ledger keyed by time: a page of claims writes the fires of one second, and with the
-- schedule first in the unique key each landed on a leaf page of its own (200 fires, about 200
-- pages written per claim). Keyed (fire_time, schedule_id) they land on one or two. A
-- schedule's own fires are found through a chain instead: the schedule names its newest fire
-- (last_fire_id) and each fire the one before it (prev_fire_id). The ledger no longer cascades
-- from its schedule (that would scan it without a schedule-first index): a deleted schedule's
-- fires stay, as a deleted template's do. Run with foreign keys off (SqliteStore::migrate), so
-- dropping the old table touches no row that refers to a fire.
ALTER TABLE schedules ADD COLUMN last_fire_id INTEGER;
UPDATE schedules SET last_fire_id = (SELECT f.id FROM fires f WHERE f.schedule_id = schedules.id
                                     ORDER BY f.fire_time DESC, f.id DESC LIMIT 1);

CREATE TABLE fires_by_time (
    id           INTEGER PRIMARY KEY,
    schedule_id  INTEGER NOT NULL,
    fire_time    INTEGER NOT NULL,
    claimed_at   INTEGER NOT NULL,
    lateness_ms  INTEGER NOT NULL,
    outcome      TEXT NOT NULL,               -- 'fired', 'misfire_skipped', 'no_crowd', 'succeeded', 'failed'
    run_id       INTEGER,
    error        TEXT,
    claimed_by   TEXT,
    prev_fire_id INTEGER,                     -- the schedule's fire before this one
    UNIQUE (fire_time, schedule_id)
);
INSERT INTO fires_by_time (id, schedule_id, fire_time, claimed_at, lateness_ms, outcome, run_id, error,
                           claimed_by, prev_fire_id)
    SELECT id, schedule_id, fire_time, claimed_at, lateness_ms, outcome, run_id, error, claimed_by,
           LAG(id) OVER (PARTITION BY schedule_id ORDER BY fire_time, id)
    FROM fires;
DROP TABLE fires;
ALTER TABLE fires_by_time RENAME TO fires;
