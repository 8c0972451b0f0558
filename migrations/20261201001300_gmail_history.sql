-- Where the Gmail poller (`workers::gmail_poller`) reads the mailbox's history from: one row
-- per mailbox address, the history id after the last listing it finished (written after the
-- messages it listed were handled, so a restart resumes there; every message's signal and
-- outcome is keyed, so handling one twice records nothing twice).
create table gmail_history (
    -- The mailbox (the connected account's address, lower case).
    account      text        primary key,
    -- Gmail's `historyId` (a uint64, kept as its text).
    history_id   text        not null,
    -- When the last listing finished.
    polled_at    timestamptz,
    -- When Gmail last said the stored id was too old and the poller started again from
    -- the profile's (mail in between was not read).
    reset_at     timestamptz,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);
