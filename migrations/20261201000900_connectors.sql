-- Connector credentials, encrypted at rest (backend/src/connectors/credentials.rs), and the
-- OAuth authorizations in flight. The facts "connected" / "disconnected" are events of the
-- `connector` aggregate; the secrets are only here, so deleting a row deletes them.

-- Each `*_sealed` column is nonce (12 bytes) || ciphertext || tag (16 bytes): an AEAD
-- (ChaCha20-Poly1305) under the credentials key, the connector's name as associated data.
create table connector_credentials (
    name               text        primary key
                                   check (name in ('gmail', 'google_calendar', 'hubspot')),
    -- `config`: the token is the configuration's (`hubspot_token`); the row only keeps the
    -- bookkeeping of its calls and holds no secret.
    kind               text        not null check (kind in ('oauth', 'private_app', 'config')),
    access_sealed      bytea       check ((kind = 'config') = (access_sealed is null)),
    refresh_sealed     bytea,
    expires_at         timestamptz,
    scopes             text[]      not null default '{}',
    account            text,
    hub_id             text,
    connected_by       text        not null,
    -- Set when a refresh was refused (`invalid_grant`): the grant is dead until reconnected.
    refresh_failed     boolean     not null default false,
    last_good_call_at  timestamptz,
    last_error_code    text,
    last_error_at      timestamptz,
    refreshed_at       timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now()
);

-- One row per `POST /api/connectors/{name}/connect`, taken (deleted) by the callback:
-- single use, valid for 10 minutes. `state` is the SHA-256 of the random state sent.
create table connector_authorizations (
    state_hash         bytea       primary key,
    name               text        not null
                                   check (name in ('gmail', 'google_calendar', 'hubspot')),
    verifier_sealed    bytea       not null,
    redirect_uri       text        not null,
    requested_by       text        not null,
    created_at         timestamptz not null default now(),
    expires_at         timestamptz not null
);

create index connector_authorizations_expiry_idx on connector_authorizations (expires_at);
