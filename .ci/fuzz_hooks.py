"""Hooks for `.ci/fuzz`: what a real client does that an OpenAPI document cannot say.

- Every distinct request carries its own `Idempotency-Key`. Generated keys repeat across
  requests (hypothesis likes short strings such as "0"), and a key reused with a different
  body is rightly refused (422 `idempotency.key_reused`, covered by the integration tests), so
  a valid generated key is replaced by a fresh one. Invalid keys are kept: their rejection is
  what those cases test.
- Cursors (`cursor`) and consistency tokens (`after`) are opaque values the server issues;
  any string matches their schema, yet only issued ones are valid (a forged one is a 400,
  covered by the integration tests). In cases meant to be valid, a value the server never
  issued is left out, as a real client would; issued values (from `next_cursor`,
  `consistency` and `X-Consistency-Token` of earlier answers) are kept.
- `GET /api/audit/...` takes `at` (a sequence) or `as_of` (an instant), not both; OpenAPI
  cannot express exclusive query parameters, so generated queries with both are dropped.
- The run's own admin token (`FUZZ_TOKEN_ID`) is not revoked through `DELETE
  /api/tokens/{id}`: that would end the run, not test the API.
"""
import json
import os
import re
import uuid

import schemathesis
from schemathesis import GenerationMode

VALID_KEY = re.compile(r"^[!-~]{1,255}$")
OPAQUE = ("cursor", "after")
ISSUED = set()


def _positive(case):
    meta = getattr(case, "meta", None)
    generation = getattr(meta, "generation", None)
    return getattr(generation, "mode", GenerationMode.POSITIVE) == GenerationMode.POSITIVE


def _collect(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("next_cursor", "consistency") and isinstance(item, str):
                ISSUED.add(item)
            _collect(item)
    elif isinstance(value, list):
        for item in value:
            _collect(item)


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            value = headers[name]
            if isinstance(value, str) and VALID_KEY.fullmatch(value):
                headers[name] = f"fuzz-{uuid.uuid4()}"
    if case.query and _positive(case):
        for name in OPAQUE:
            value = case.query.get(name)
            if isinstance(value, str) and value and value not in ISSUED:
                del case.query[name]


@schemathesis.hook
def after_call(ctx, case, response):
    token = response.headers.get("x-consistency-token")
    if isinstance(token, list):
        token = token[0] if token else None
    if token:
        ISSUED.add(token)
    if "json" in (response.headers.get("content-type") or [""])[0]:
        try:
            _collect(json.loads(response.content))
        except ValueError:
            pass


@schemathesis.hook("filter_query").apply_to(path_regex=r"^/api/audit/")
def filter_query(ctx, query):
    return not (query and "at" in query and "as_of" in query)


@schemathesis.hook("filter_path_parameters").apply_to(method="DELETE", path_regex=r"^/api/tokens/")
def keep_the_runs_token(ctx, path_parameters):
    return not (path_parameters and path_parameters.get("id") == os.environ.get("FUZZ_TOKEN_ID"))
