-- CRM sync runs' read model, written only by the `crm_sync` projector: one row per run.
-- The per-object summary (last started, last good sync, watermark, last error) and the
-- last hour's calls are queries over these rows; `doc` is the run as the API returns it,
-- its `call_log` the calls each event recorded with its instant.
create table crm_sync_runs (
    id            uuid        primary key,
    object        text        not null,
    -- running | completed | failed
    status        text        not null,
    from_at       timestamptz not null,
    to_at         timestamptz not null,
    -- Where the next run starts after this one (its watermark once completed).
    next_from     timestamptz not null,
    watermark     timestamptz,
    started_at    timestamptz not null,
    finished_at   timestamptz,
    calls         bigint      not null,
    failed_calls  bigint      not null,
    error_code    text,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    version       bigint      not null,
    doc           jsonb       not null
);

-- The last runs of an object, newest first.
create index crm_sync_runs_object_started_idx on crm_sync_runs (object, started_at desc, id desc);
-- The last good sync and the last failure.
create index crm_sync_runs_completed_idx on crm_sync_runs (object, finished_at desc)
    where status = 'completed';
create index crm_sync_runs_failed_idx on crm_sync_runs (object, finished_at desc)
    where status = 'failed';
-- Runs that recorded calls lately (the last hour's calls).
create index crm_sync_runs_updated_idx on crm_sync_runs (object, updated_at);
