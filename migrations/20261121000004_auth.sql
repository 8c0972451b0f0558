-- Bearer tokens for API clients. Only a SHA-256 of the token is stored.
create table api_tokens (
    id           uuid        primary key,
    name         text        not null unique,
    user_name    text        not null,
    role         text        not null check (role in ('viewer', 'operator', 'admin')),
    token_hash   bytea       not null unique,
    token_prefix text        not null,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
