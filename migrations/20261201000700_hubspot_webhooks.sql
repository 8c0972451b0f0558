-- HubSpot webhook events as `POST /api/webhooks/hubspot` accepted them (signature checked):
-- stored before the answer, at most once per HubSpot `eventId` (HubSpot retries a delivery
-- it did not see answered), and processed from here by `workers::hubspot_webhooks` —
-- claimed with a lease, so nothing lives only in memory. The property value HubSpot sends
-- is not kept: processing reads the record from HubSpot.
create table hubspot_webhook_events (
    -- HubSpot's `eventId`, as sent (a number, kept as its text).
    event_id          text        primary key,
    -- `deal.creation`, `deal.propertyChange`, `deal.deletion`, …
    subscription_type text        not null,
    -- The record the event is about (`objectId`).
    object_id         text        not null,
    property_name     text,
    -- `occurredAt`: when it happened in HubSpot (data, not our recording time).
    occurred_at       timestamptz,
    portal_id         bigint,
    -- `attemptNumber` of the delivery that was stored.
    attempt_number    integer,
    -- pending (to process; retried after a failure) | processed | ignored
    status            text        not null default 'pending'
        check (status in ('pending', 'processed', 'ignored')),
    -- What processing came to (`created`, `updated`, `unchanged`, `failed`), or why the
    -- event was ignored (`unsupported_type`, `deletion`, `not_found`).
    outcome           text,
    attempts          integer     not null default 0,
    -- The code of the last failed attempt (`hubspot.server_error`, …).
    last_error        text,
    -- Not claimed again before this (a lease while processing; a backoff after a failure).
    available_at      timestamptz not null default now(),
    processed_at      timestamptz,
    received_at       timestamptz not null default now(),
    created_at        timestamptz not null default now()
);

-- The worker's claim: pending events that are due, oldest first.
create index hubspot_webhook_events_due_idx on hubspot_webhook_events (available_at, received_at)
    where status = 'pending';
