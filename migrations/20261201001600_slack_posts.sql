-- Notifications posted to Slack, one row per notification (at most once: a row is written
-- `sending` before the call; one found `sending` later — a crash between the call and its
-- record — is marked `unknown` and not sent again).
create table slack_posts (
    notification_id uuid        primary key,
    kind            text        not null,
    channel         text        not null,
    -- sending | sent | failed | unknown
    status          text        not null check (status in ('sending', 'sent', 'failed', 'unknown')),
    -- Slack's message timestamp, once sent.
    ts              text,
    error_code      text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index slack_posts_created_idx on slack_posts (created_at desc);
