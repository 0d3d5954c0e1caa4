"""The documented Anthropic error types and the hub kind each maps to.

Source: https://platform.claude.com/docs/en/api/errors
"""

from __future__ import annotations

from gateway.formats import hub

DOCUMENTED: list[tuple[int, str, hub.ErrorKind]] = [
    (400, "invalid_request_error", "invalid_request"),
    (401, "authentication_error", "authentication"),
    (402, "billing_error", "permission"),
    (403, "permission_error", "permission"),
    (404, "not_found_error", "not_found"),
    (409, "conflict_error", "invalid_request"),
    (413, "request_too_large", "request_too_large"),
    (429, "rate_limit_error", "rate_limit"),
    (500, "api_error", "server"),
    (504, "timeout_error", "timeout"),
    (529, "overloaded_error", "unavailable"),
]
