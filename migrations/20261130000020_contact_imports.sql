-- CSV imports of contacts.
--
-- `contact_imports` is the read model, written only by the `contact_imports` projector:
-- typed columns for the worker's pick-up and lists; `doc` is the import as the events left
-- it (its first 1,000 per-row errors included).
create table contact_imports (
    id          uuid        primary key,
    status      text        not null,
    started_by  text        not null,
    started_at  timestamptz not null,
    finished_at timestamptz,
    created_at  timestamptz not null,
    updated_at  timestamptz not null,
    version     bigint      not null,
    doc         jsonb       not null
);

create index contact_imports_running_idx on contact_imports (started_at) where status = 'running';

-- The uploaded file, spooled in pieces as the request body streams in, before the import
-- is started: nothing of it is only in memory. `start` is the byte offset of the piece in
-- the file. The worker deletes an import's pieces when it finishes (they hold personal
-- data). Not a read model: written by the upload, read and deleted by the import worker.
create table contact_import_chunks (
    import_id  uuid        not null,
    seq        integer     not null,
    start      bigint      not null,
    data       bytea       not null,
    created_at timestamptz not null default now(),
    primary key (import_id, seq)
);

-- Who is working on an import, until when: a worker takes a running import whose lease is
-- free or expired and renews the lease after every batch; one that dies loses it and
-- another resumes from the last recorded batch.
create table contact_import_leases (
    import_id   uuid        primary key,
    worker      text        not null,
    lease_until timestamptz not null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
