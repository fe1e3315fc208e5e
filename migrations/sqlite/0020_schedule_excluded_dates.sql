-- Days a template's schedule does not fire on (holidays), as a JSON array of YYYY-MM-DD read in
-- the schedule's time zone; NULL for none.
ALTER TABLE schedules ADD COLUMN exclude_dates TEXT;
