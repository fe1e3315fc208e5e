-- A template's schedule may have start and end dates: no fire before start_at, none after end_at.
ALTER TABLE schedules ADD COLUMN start_at INTEGER;
ALTER TABLE schedules ADD COLUMN end_at INTEGER;
