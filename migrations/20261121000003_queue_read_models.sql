-- Today's Moves read models, written only by the `queue` projector.
-- Typed columns serve filters and sorts; `doc` is the item as the API returns it.
create table queue_items (
    id            uuid        primary key,
    status        text        not null,
    owner         text        not null,
    action_type   text        not null,
    domain        text        not null,
    title         text        not null,
    aps_centi     integer     not null,
    due_by        timestamptz,
    snoozed_until timestamptz,
    expires_at    timestamptz,
    decided_at    timestamptz,
    contact_id    text,
    deal_id       text,
    company_id    text,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    version       bigint      not null,
    doc           jsonb       not null
);

-- Today's ranked list: open items by APS, then due time.
create index queue_items_open_rank_idx
    on queue_items (aps_centi desc, (coalesce(due_by, '9999-12-31 00:00:00+00'::timestamptz)), id)
    where status in ('pending', 'snoozed');
create index queue_items_owner_status_idx on queue_items (owner, status);
create index queue_items_status_created_idx on queue_items (status, created_at desc, id);
create index queue_items_created_idx on queue_items (created_at desc, id);
create index queue_items_updated_idx on queue_items (updated_at desc, id);
create index queue_items_action_type_idx on queue_items (action_type);
create index queue_items_snooze_due_idx on queue_items (snoozed_until) where status = 'snoozed';
create index queue_items_expiry_idx on queue_items (expires_at)
    where status in ('pending', 'snoozed') and expires_at is not null;
create index queue_items_decided_idx on queue_items (decided_at) where decided_at is not null;

-- Counts by owner and status (rows with a zero count are removed).
create table queue_counters (
    owner  text   not null,
    status text   not null,
    count  bigint not null,
    primary key (owner, status)
);
