-- Executions' read model, written only by the `executions` projector; `doc` is the
-- `ExecutionView`.
create table executions (
    id             uuid        primary key,
    -- The move (queue item) it executes: one execution per move.
    item_id        uuid        not null unique,
    action_type    text        not null,
    -- requested | executing | succeeded | failed | blocked | dry_run | rolled_back | manual
    status         text        not null,
    -- email_sent | draft_created | meeting_booked | meeting_held | task_created | …
    effect         text,
    owner          text        not null,
    -- The addresses it reaches (an email's To and Cc, a meeting's attendees).
    recipients     text[]      not null,
    -- When it sent an email (the send quotas and the circuit breaker count these).
    sent_at        timestamptz,
    -- When its email send failed (the circuit breaker).
    send_failed_at timestamptz,
    -- A block's time to try again by itself.
    retry_at       timestamptz,
    requested_at   timestamptz not null,
    doc            jsonb       not null,
    updated_at     timestamptz not null,
    version        bigint      not null
);
create index executions_requested_idx on executions (requested_at desc, id desc);
create index executions_status_idx on executions (status, requested_at desc, id desc);
create index executions_sent_idx on executions (sent_at) where sent_at is not null;
create index executions_send_failed_idx on executions (send_failed_at) where send_failed_at is not null;
create index executions_retry_idx on executions (retry_at) where status = 'blocked';

-- Outcomes' read model, written only by the `outcomes` projector; `doc` is the
-- `OutcomeView`. What APS learns from: by contact, company and action type, recent first.
create table outcomes (
    id             uuid        primary key,
    outcome_type   text        not null,
    source         text        not null,
    -- The type's impact × confidence, in hundredths of a point.
    impact_centi   integer     not null,
    contact_id     text,
    email          text,
    company_domain text,
    deal_id        uuid,
    action_type    text,
    item_id        uuid,
    execution_id   uuid,
    -- When it happened in the world.
    occurred_at    timestamptz not null,
    doc            jsonb       not null,
    recorded_at    timestamptz not null
);
create index outcomes_contact_idx on outcomes (contact_id, occurred_at desc) where contact_id is not null;
create index outcomes_email_idx on outcomes (lower(email), occurred_at desc) where email is not null;
create index outcomes_company_idx on outcomes (company_domain, occurred_at desc) where company_domain is not null;
create index outcomes_action_type_idx on outcomes (action_type, occurred_at desc) where action_type is not null;
create index outcomes_item_idx on outcomes (item_id) where item_id is not null;
create index outcomes_occurred_idx on outcomes (occurred_at desc, id desc);
