-- Research sessions' and voice samples' read models, written only by the
-- `research_sessions` and `voice_samples` projectors (`caseyos_projections::docs`): `doc` is
-- the aggregate's view; `owner` its requester (a research) or who added it (a sample);
-- `listed` false once deleted or removed; `at` when it began or was added.
create table research_sessions (
    id      uuid        primary key,
    owner   text        not null,
    listed  boolean     not null,
    at      timestamptz not null,
    version bigint      not null,
    doc     jsonb       not null
);
create index research_sessions_owner_idx on research_sessions (owner, at desc, id) where listed;

create table voice_samples (
    id      uuid        primary key,
    owner   text        not null,
    listed  boolean     not null,
    at      timestamptz not null,
    version bigint      not null,
    doc     jsonb       not null
);
create index voice_samples_at_idx on voice_samples (at desc, id) where listed;
