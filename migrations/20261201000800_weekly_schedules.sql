-- Weekly schedules (the pipeline digest: Sunday 20:00): `weekly` on `weekday` (ISO, 1
-- Monday … 7 Sunday) at `at` in `time_zone`.
alter table schedules drop constraint schedules_kind_check;
alter table schedules add constraint schedules_kind_check
    check (kind in ('daily', 'weekly', 'hourly', 'every'));
alter table schedules add column weekday smallint check (weekday between 1 and 7);
alter table schedules add constraint schedules_weekly_check
    check (kind <> 'weekly' or (weekday is not null and at is not null and time_zone is not null));
