-- Pipelines' read model, written only by the `pipelines` projector; `doc` is the
-- `PipelineView`. `id` is the aggregate's (derived from `pipeline`, the pipeline's own id).
create table pipelines (
    id         uuid        primary key,
    pipeline   text        not null unique,
    doc        jsonb       not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    version    bigint      not null
);

-- Deals' read model, written only by the `deals` projector; `doc` is the `DealView`.
-- Typed columns serve the list's filters and sorts and the forecast's sums.
create table deals (
    id               uuid        primary key,
    name             text        not null,
    pipeline         text        not null,
    stage            text        not null,
    stage_label      text        not null,
    -- open | won | lost
    status           text        not null,
    owner            text        not null,
    amount_minor     bigint,
    currency         text,
    close_date       date,
    -- The date a closed deal closed on (UTC), null while open.
    closed_on        date,
    -- The date the forecast files the deal under: closed_on when closed, else close_date.
    forecast_date    date,
    probability      smallint    not null,
    -- pipeline | best_case | commit | closed_won | omitted
    category         text        not null,
    stage_entered_at timestamptz not null,
    last_activity_at timestamptz,
    demo             boolean     not null,
    doc              jsonb       not null,
    -- The DealView with only its latest activity: what the risk flags read (the dashboard
    -- reads every open deal's, so it is kept small).
    summary          jsonb       not null,
    created_at       timestamptz not null,
    updated_at       timestamptz not null,
    version          bigint      not null
);
create index deals_updated_idx on deals (updated_at desc, id);
create index deals_close_date_idx on deals (close_date, id);
create index deals_amount_idx on deals (amount_minor desc nulls last, id);
create index deals_created_idx on deals (created_at desc, id);
create index deals_pipeline_stage_idx on deals (pipeline, stage) where status = 'open';
create index deals_owner_idx on deals (owner, status);
create index deals_forecast_date_idx on deals (forecast_date);

-- Quotas' read model, written only by the `quotas` projector: one row per owner and period.
create table quotas (
    id           uuid        primary key,
    owner        text        not null,
    period       text        not null,
    amount_minor bigint      not null,
    currency     text        not null,
    doc          jsonb       not null,
    updated_at   timestamptz not null,
    version      bigint      not null,
    unique (owner, period)
);
create index quotas_period_idx on quotas (period, owner);
