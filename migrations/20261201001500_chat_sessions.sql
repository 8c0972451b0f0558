-- Chat sessions' read model, written only by the `chat_sessions` projector; `doc` is the
-- `ChatSessionView` (the whole conversation). The list of a user's chats reads the columns.
create table chat_sessions (
    id         uuid        primary key,
    owner      text        not null,
    title      text        not null,
    deleted    boolean     not null,
    messages   integer     not null,
    -- Tool calls waiting for their owner's confirmation.
    awaiting   integer     not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    version    bigint      not null,
    doc        jsonb       not null
);
create index chat_sessions_owner_idx on chat_sessions (owner, updated_at desc, id) where not deleted;
