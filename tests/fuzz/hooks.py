"""Our own checks for the schema-fuzzing tier (loaded by schemathesis
through SCHEMATHESIS_HOOKS; tests/fuzz/fuzz.py sets it).

`envelope`: every error reply, whatever the route, is the JSON envelope
`{code, msg, data}` with a non-zero `code`; every success of a route whose
document declares the envelope is one with `code` 0. The few routes that
answer something else (the OpenAPI document itself, `/metrics` text, file
downloads, file 001's bare `{ipaddr}`) say so in the document, and only
their successes are spared.
"""

import json

import schemathesis

ENVELOPE_REFS = ("#/components/schemas/SuccessEnvelope",)


def _declares_envelope(case) -> bool:
    ok = case.operation.definition.raw.get("responses", {}).get("200", {})
    schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
    return schema.get("$ref") in ENVELOPE_REFS


def _content_type(response) -> str:
    values = response.headers.get("content-type") or [""]
    return values[0].split(";")[0].strip().lower()


@schemathesis.check
def envelope(ctx, response, case):
    """Replies are envelopes wherever the document says so, errors always."""
    is_error = response.status_code >= 400
    if not is_error and not _declares_envelope(case):
        return None
    what = "error reply" if is_error else "reply"
    if _content_type(response) != "application/json":
        raise AssertionError(
            f"{what} {response.status_code} is not JSON "
            f"(Content-Type {_content_type(response)!r}): {response.content[:200]!r}"
        )
    try:
        body = json.loads(response.content)
    except ValueError as e:
        raise AssertionError(f"{what} {response.status_code} is not valid JSON: {e}") from e
    if not isinstance(body, dict) or not {"code", "msg", "data"} <= body.keys():
        raise AssertionError(
            f"{what} {response.status_code} is not an envelope {{code, msg, data}}: "
            f"{response.content[:200]!r}"
        )
    code = body["code"]
    if not isinstance(code, int) or isinstance(code, bool):
        raise AssertionError(f"envelope `code` is not an integer: {code!r}")
    if not isinstance(body["msg"], str):
        raise AssertionError(f"envelope `msg` is not a string: {body['msg']!r}")
    if is_error and code == 0:
        raise AssertionError(f"HTTP {response.status_code} with `code` 0: {body['msg']!r}")
    if not is_error and code != 0:
        raise AssertionError(f"HTTP {response.status_code} with error `code` {code}: {body['msg']!r}")
    return None
