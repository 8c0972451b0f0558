-- One row per projector: where it has read to, and who is running it.
-- The checkpoint is the (tx_id, global_position) pair of the last event applied; it is
-- written in the same transaction as the projector's view changes.
create table projection_checkpoints (
    name                text        primary key,
    checkpoint_tx       xid8        not null default '0',
    checkpoint_position bigint      not null default 0,
    events_processed    bigint      not null default 0,
    last_event_at       timestamptz,
    leader              text,
    leader_heartbeat_at timestamptz,
    last_error          text,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);

-- A rebuild in progress: the shadow tables' own checkpoint, so an interrupted rebuild
-- resumes where it stopped.
create table projection_rebuilds (
    name                text        primary key,
    checkpoint_tx       xid8        not null default '0',
    checkpoint_position bigint      not null default 0,
    events_processed    bigint      not null default 0,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);
