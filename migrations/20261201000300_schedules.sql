-- Stored agent schedules. Each row names an agent, the input its runs get and a cadence;
-- the scheduler worker fires a due row as an ordinary agent run (trigger `schedule`) whose
-- id is derived from the row's id and the slot, so one slot is one run across instances,
-- retries and crashes. The defaults are inserted at start-up from the backend's table
-- (`workers::schedules::DEFAULTS`), so a new default needs no migration. Operational state,
-- like leases: the runs themselves are the events.
create table schedules (
    id                text        primary key,
    agent             text        not null,
    input             jsonb       not null default '{}'::jsonb,
    -- `daily` at `at` (HH:MM) in `time_zone`; `hourly` at `minute`; `every` `every_secs`.
    kind              text        not null check (kind in ('daily', 'hourly', 'every')),
    at                text,
    time_zone         text,
    minute            integer     check (minute between 0 and 59),
    every_secs        integer     check (every_secs between 1 and 604800),
    enabled           boolean     not null default true,
    -- The slot the row fires next; in the past while it is due (or was missed).
    next_due_at       timestamptz not null,
    last_fired_at     timestamptz,
    -- The slot the last firing took, its run, and how many slots had come by then
    -- (more than 1: a downtime missed some; they were caught up by this one run).
    last_slot_at      timestamptz,
    last_run_id       uuid,
    last_slots_due    bigint,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    check (kind <> 'daily' or (at is not null and time_zone is not null)),
    check (kind <> 'hourly' or minute is not null),
    check (kind <> 'every' or every_secs is not null),
    check (jsonb_typeof(input) = 'object')
);

-- The worker's look for due rows.
create index schedules_due_idx on schedules (next_due_at) where enabled;
