-- The event store: postgres-es's `events` and `snapshots` tables, extended with columns
-- that have defaults (so postgres-es's own INSERT keeps working unchanged):
--   event_id        a stable id for each event
--   global_position the order of insertion (handed out at insert, visible at commit)
--   tx_id           the inserting transaction; projectors read only below the snapshot
--                   horizon, ordered by (tx_id, global_position), so no event is skipped
--   recorded_at     when it was written
create table events (
    aggregate_type  text        not null,
    aggregate_id    text        not null,
    sequence        bigint      not null check (sequence >= 0),
    event_type      text        not null,
    event_version   text        not null,
    payload         jsonb       not null,
    metadata        jsonb       not null,
    event_id        uuid        not null default gen_random_uuid(),
    global_position bigint      not null generated always as identity,
    tx_id           xid8        not null default pg_current_xact_id(),
    recorded_at     timestamptz not null default now(),
    primary key (aggregate_type, aggregate_id, sequence)
);

create unique index events_event_id_key on events (event_id);
create unique index events_global_position_key on events (global_position);
create index events_commit_order_idx on events (tx_id, global_position);
create index events_idempotency_key_idx on events ((metadata ->> 'idempotency_key'))
    where metadata ? 'idempotency_key';

-- Events are facts: never updated, never deleted.
create function events_are_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the events table is append-only (% refused)', tg_op;
end
$$;
create trigger events_append_only before update or delete on events
    for each row execute function events_are_append_only();
create trigger events_no_truncate before truncate on events
    for each statement execute function events_are_append_only();

-- Wake projectors when events commit (NOTIFY is delivered at commit).
create function events_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('caseyos_events', '');
    return null;
end
$$;
create trigger events_notify after insert on events
    for each statement execute function events_notify();

-- Snapshots keep long-lived aggregates cheap to load.
create table snapshots (
    aggregate_type   text        not null,
    aggregate_id     text        not null,
    last_sequence    bigint      not null check (last_sequence >= 0),
    current_snapshot bigint      not null check (current_snapshot >= 0),
    payload          jsonb       not null,
    created_at       timestamptz not null default now(),
    primary key (aggregate_type, aggregate_id)
);
