"""Hooks for `.ci/fuzz`: what a real client does that an OpenAPI document cannot say.

- Every distinct request carries its own `Idempotency-Key`. Generated keys repeat across
  requests (hypothesis likes short strings such as "0"), and a key reused with a different
  body is rightly refused (422 `idempotency.key_reused`, covered by the integration tests), so
  a valid generated key is replaced by a fresh one. Invalid keys are kept: their rejection is
  what those cases test.
- `GET /api/audit/...` takes `at` (a sequence) or `as_of` (an instant), not both; OpenAPI
  cannot express exclusive query parameters, so generated queries with both are dropped.
"""
import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            value = headers[name]
            if isinstance(value, str) and VALID_KEY.fullmatch(value):
                headers[name] = f"fuzz-{uuid.uuid4()}"


@schemathesis.hook("filter_query").apply_to(path_regex=r"^/api/audit/")
def filter_query(ctx, query):
    return not (query and "at" in query and "as_of" in query)
