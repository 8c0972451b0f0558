-- Agent runs' read model, written only by the `agent_runs` projector.
-- Typed columns serve filters and sorts; `doc` is the run as the API returns it.
create table agent_runs (
    id           uuid        primary key,
    agent        text        not null,
    domain       text        not null,
    status       text        not null,
    trigger      text        not null,
    requested_by text        not null,
    requested_at timestamptz not null,
    started_at   timestamptz,
    finished_at  timestamptz,
    duration_ms  bigint,
    attempts     integer     not null,
    error_code   text,
    retry_of     uuid,
    dismissed    boolean     not null,
    created_at   timestamptz not null,
    updated_at   timestamptz not null,
    version      bigint      not null,
    doc          jsonb       not null
);

create index agent_runs_requested_idx on agent_runs (requested_at desc, id desc);
create index agent_runs_agent_requested_idx on agent_runs (agent, requested_at desc, id desc);
create index agent_runs_status_requested_idx on agent_runs (status, requested_at desc, id desc);
-- Work the workers pick up, oldest first.
create index agent_runs_active_idx on agent_runs (requested_at, id)
    where status in ('queued', 'running', 'cancelling');
-- Runs that need attention (the quick-stats bar).
create index agent_runs_attention_idx on agent_runs (finished_at)
    where status in ('failed', 'timed_out') and not dismissed;
create index agent_runs_finished_idx on agent_runs (finished_at) where finished_at is not null;
create index agent_runs_retry_of_idx on agent_runs (retry_of) where retry_of is not null;

-- Leases: which worker holds which run until when. Written only by workers (never
-- rebuilt); a lease that is not renewed expires and another worker takes the run over.
create table agent_run_leases (
    run_id      uuid        primary key,
    worker      text        not null,
    lease_until timestamptz not null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
