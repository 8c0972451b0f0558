-- API tokens may expire: `caseyos token create --expires-in 90d`, or `expires_in_days` on
-- `POST /api/tokens`. A token without `expires_at` lasts until it is revoked. An expired
-- or revoked token authenticates nothing, and the sessions signed in with it end too.
alter table api_tokens add column expires_at timestamptz;
