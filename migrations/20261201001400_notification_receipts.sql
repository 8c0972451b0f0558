-- Notification receipts' read model, written only by the `notification_receipts` projector;
-- `doc` is the `ReceiptView`. One row per notification and user: when they read it and when
-- they acknowledged it. The notifications themselves are derived when asked (see
-- `caseyos_projections::notifications`).
create table notification_receipts (
    id              uuid        primary key,
    notification_id uuid        not null,
    user_name       text        not null,
    read_at         timestamptz,
    acknowledged_at timestamptz,
    doc             jsonb       not null,
    updated_at      timestamptz not null,
    version         bigint      not null
);
create index notification_receipts_user_idx on notification_receipts (user_name, notification_id);
