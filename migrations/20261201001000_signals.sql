-- Signals' read model, written only by the `signals` projector; `doc` is the `SignalView`
-- (with what its processing came to). Uniqueness of (source, dedup_key) is not kept here:
-- it is the event store's primary key, since a signal's id is derived from them.
create table signals (
    id            uuid        primary key,
    -- hubspot | gmail | form | manual | calendar | rule
    source        text        not null,
    dedup_key     text        not null,
    -- deal_created | deal_stage_changed | … | manual
    kind          text        not null,
    -- pending (not processed yet) | proposed | skipped | failed
    status        text        not null,
    contact_id    uuid,
    contact_email text,
    deal_id       uuid,
    -- The move it proposed (or that already covered it).
    item_id       uuid,
    occurred_at   timestamptz not null,
    recorded_at   timestamptz not null,
    doc           jsonb       not null,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    version       bigint      not null
);
create index signals_order_idx on signals (recorded_at desc, id);
create index signals_status_idx on signals (status, recorded_at desc, id);
create index signals_source_kind_idx on signals (source, kind, recorded_at desc, id);
create index signals_contact_idx on signals (contact_id) where contact_id is not null;
create index signals_contact_email_idx on signals (contact_email) where contact_email is not null;
create index signals_deal_idx on signals (deal_id) where deal_id is not null;
