-- Alerts' read model, written only by the `alerts` projector; `doc` is the `AlertView`.
create table alerts (
    id            uuid        primary key,
    key           text        not null,
    -- contact.stale | duplicates.surge | sync.degraded | sync.unhealthy
    kind          text        not null,
    -- urgent | high | normal | low, and its order (0 = urgent)
    severity      text        not null,
    severity_rank smallint    not null,
    -- open | dismissed | resolved
    status        text        not null,
    raised_at     timestamptz not null,
    doc           jsonb       not null,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    version       bigint      not null
);
create index alerts_status_order_idx on alerts (status, severity_rank, raised_at desc, id);
create index alerts_kind_status_idx on alerts (kind, status);

-- The daily hygiene report, written only by the `hygiene_reports` projector: one row per
-- UTC date, every number counted from that day's events.
create table hygiene_reports (
    date             date        primary key,
    duplicates_found integer     not null,
    merged           integer     not null,
    -- From the day's last DataDecay run (null: none ran that day).
    stale            integer,
    stale_of         integer,
    stale_run        uuid,
    stale_at         timestamptz,
    -- From the day's last SyncHealth run.
    sync_status      text,
    sync_run         uuid,
    sync_at          timestamptz,
    created_at       timestamptz not null,
    updated_at       timestamptz not null
);

-- Each contact's validation as it last stood on each day (validated and invalid counts).
create table hygiene_report_validations (
    date       date        not null,
    contact_id uuid        not null,
    valid      boolean     not null,
    created_at timestamptz not null,
    primary key (date, contact_id)
);

-- The runs of the agents the report reads outputs of (DataDecay, SyncHealth), by id.
create table hygiene_report_runs (
    run_id     uuid        primary key,
    agent      text        not null,
    created_at timestamptz not null
);

-- What the dashboard card counts now: each duplicate pair's status and each contact's
-- standing (active or not, valid at its last validation).
create table hygiene_pairs (
    pair_id    uuid        primary key,
    status     text        not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index hygiene_pairs_status_idx on hygiene_pairs (status);

create table hygiene_contacts (
    contact_id uuid        primary key,
    active     boolean     not null,
    valid      boolean,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
