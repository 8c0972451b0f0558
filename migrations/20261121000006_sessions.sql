-- Browser sessions and the one-time links that start them. Like API tokens, the secrets
-- themselves are never stored: only their SHA-256.

-- A signed-in browser: the `caseyos_session` cookie's SHA-256. Sessions end 7 days after
-- they start, or when revoked (sign-out).
create table sessions (
    id_hash      bytea       primary key,
    user_name    text        not null,
    role         text        not null check (role in ('viewer', 'operator', 'admin')),
    -- Sent back as `X-CSRF-Token` on state-changing requests made with the cookie.
    csrf_token   text        not null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    last_seen_at timestamptz,
    revoked_at   timestamptz,
    -- The API token signed in with, if any: revoking it ends the session too.
    api_token_id uuid        references api_tokens (id)
);
create index sessions_expires_idx on sessions (expires_at);

-- One-time sign-in links (`caseyos signin-link`, and the first run of `caseyos serve`):
-- usable once, within 24 hours.
create table sign_in_links (
    token_hash bytea       primary key,
    user_name  text        not null,
    role       text        not null check (role in ('viewer', 'operator', 'admin')),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz
);
create index sign_in_links_expires_idx on sign_in_links (expires_at);
