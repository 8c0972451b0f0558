-- Reactors (work that follows from events, DESIGN §4) read the log in order, like
-- projectors, and keep how far they got here. A reactor's effects are commands that are
-- no-ops when repeated, so its checkpoint advances after them (at least once, never lost).
create table reactor_checkpoints (
    name                text        primary key,
    checkpoint_tx       xid8        not null default '0',
    checkpoint_position bigint      not null default 0,
    events_processed    bigint      not null default 0,
    -- The last failure that held it back (a retryable CRM error, …), cleared on progress.
    last_error          text,
    updated_at          timestamptz not null default now()
);
