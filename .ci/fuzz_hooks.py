"""Hooks for `.ci/fuzz`: what a real client does that an OpenAPI document cannot say.

- Every distinct request carries its own `Idempotency-Key`. Generated keys repeat across
  requests (hypothesis likes short strings such as "0"), and a key reused with a different
  body is rightly refused (422 `idempotency.key_reused`, covered by the integration tests), so
  a valid generated key is replaced by a fresh one. Invalid keys are kept: their rejection is
  what those cases test.
- Cursors (`cursor`) and consistency tokens (`after`) are opaque values the server issues;
  any string matches their schema, yet only issued ones are valid (a forged one is a 400,
  covered by the integration tests). In cases meant to be valid, a value the server never
  issued is left out, as a real client would; issued values (cursors from `next_cursor`,
  tokens from `consistency` and `X-Consistency-Token` of earlier answers) are kept.
- `GET /api/audit/...` takes `at` (a sequence) or `as_of` (an instant), not both; OpenAPI
  cannot express exclusive query parameters, so in cases meant to be valid `as_of` is left
  out when both are there.
- A snooze's `until` and a proposal's `expires_at` must be in the future: a rule of the
  clock, not of the schema. In cases meant to be valid, a past one becomes a day from now.
- An activity's `happened_at` and an outcome's `occurred_at` must not be in the future
  (they happened): in cases meant to be valid, a future one becomes a day ago.
- A forecast waterfall runs from `from` to `to`, so `from` is not after `to`: in cases meant
  to be valid, reversed instants are swapped.
- A merge names its primary and each field's winner by contact id, and only the pair's two
  contacts can be named (a 422 otherwise, covered by the integration tests); any uuid
  matches the schema. In cases meant to be valid, a merge of a pair this run has read names
  that pair's contacts, as a client picking from the pair it shows would.
- The run's own admin token (`FUZZ_TOKEN_ID`) is not revoked through `DELETE
  /api/tokens/{id}`: that would end the run, not test the API.
"""
import json
import os
from datetime import datetime, timedelta, timezone
import re
import uuid

import schemathesis
from schemathesis import GenerationMode

VALID_KEY = re.compile(r"^[!-~]{1,255}$")
# Cursors by the operation and sort order that issued them; consistency tokens anywhere.
CURSORS = set()
FUTURE_ONLY = (("/snooze", "until"), ("/api/queue", "expires_at"))
PAST_ONLY = (("/activities", "happened_at"), ("/api/outcomes", "occurred_at"))
TOKENS = set()
# The two contacts of each duplicate pair read so far, by pair id.
PAIRS = {}


def _cursor_key(case, value):
    return (case.operation.path, (case.query or {}).get("sort"), value)


def _positive(case):
    meta = getattr(case, "meta", None)
    generation = getattr(meta, "generation", None)
    return getattr(generation, "mode", GenerationMode.POSITIVE) == GenerationMode.POSITIVE


def _collect(case, value):
    if isinstance(value, dict):
        a, b = value.get("a"), value.get("b")
        if isinstance(a, dict) and isinstance(b, dict) and isinstance(value.get("id"), str):
            if isinstance(a.get("id"), str) and isinstance(b.get("id"), str):
                PAIRS[value["id"]] = (a["id"], b["id"])
        for key, item in value.items():
            if key == "next_cursor" and isinstance(item, str):
                CURSORS.add(_cursor_key(case, item))
            if key == "consistency" and isinstance(item, str):
                TOKENS.add(item)
            _collect(case, item)
    elif isinstance(value, list):
        for item in value:
            _collect(case, item)


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            value = headers[name]
            if isinstance(value, str) and VALID_KEY.fullmatch(value):
                headers[name] = f"fuzz-{uuid.uuid4()}"
    if not _positive(case):
        return
    if case.query:
        cursor = case.query.get("cursor")
        if isinstance(cursor, str) and cursor and _cursor_key(case, cursor) not in CURSORS:
            del case.query["cursor"]
        after = case.query.get("after")
        if isinstance(after, str) and after and after not in TOKENS:
            del case.query["after"]
        if "at" in case.query and "as_of" in case.query:
            del case.query["as_of"]
        if case.path == "/api/forecast/changes":
            start, end = _instant(case.query.get("from")), _instant(case.query.get("to"))
            if start and end and start > end:
                case.query["from"], case.query["to"] = case.query["to"], case.query["from"]
    body = case.body
    if not isinstance(body, dict):
        return
    if case.method.upper() == "POST" and case.path.endswith("/merge"):
        pair = PAIRS.get((case.path_parameters or {}).get("id"))
        if pair:
            if body.get("primary") not in pair:
                body["primary"] = pair[0]
            fields = body.get("fields")
            if isinstance(fields, dict):
                for field, winner in fields.items():
                    if winner not in pair:
                        fields[field] = pair[1]
    for suffix, field in FUTURE_ONLY:
        value = body.get(field)
        if not (case.path.endswith(suffix) and case.method.upper() == "POST" and isinstance(value, str)):
            continue
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        if at.tzinfo is not None and at <= datetime.now(timezone.utc):
            body[field] = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    for suffix, field in PAST_ONLY:
        at = _instant(body.get(field))
        if case.path.endswith(suffix) and case.method.upper() == "POST" and at:
            if at > datetime.now(timezone.utc):
                body[field] = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()


def _instant(value):
    """An RFC 3339 instant with its offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


@schemathesis.hook
def after_call(ctx, case, response):
    token = response.headers.get("x-consistency-token")
    if isinstance(token, list):
        token = token[0] if token else None
    if token:
        TOKENS.add(token)
    if "json" in (response.headers.get("content-type") or [""])[0]:
        try:
            _collect(case, json.loads(response.content))
        except ValueError:
            pass


@schemathesis.hook("filter_path_parameters").apply_to(method="DELETE", path_regex=r"^/api/tokens/")
def keep_the_runs_token(ctx, path_parameters):
    return not (path_parameters and path_parameters.get("id") == os.environ.get("FUZZ_TOKEN_ID"))
