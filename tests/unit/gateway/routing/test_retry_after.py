"""Retry hints: every source, the precedence rule, bad values ignored, and backoff."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.routing.retry_after import (
    MAX_BODY,
    MAX_DELAY,
    backoff_seconds,
    read_error_body,
    retry_at,
)

NOW = 500.0
WALL = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def iso(offset: float) -> str:
    """An RFC 3339 time ``offset`` seconds after WALL."""
    return dt.datetime.fromtimestamp(WALL + offset, dt.UTC).isoformat().replace("+00:00", "Z")


def http_date(offset: float) -> str:
    return dt.datetime.fromtimestamp(WALL + offset, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def delay(headers: dict[str, str], body: bytes = b"", *, wall_now: float = WALL) -> float | None:
    at = retry_at(headers, body, now=NOW, wall_now=wall_now)
    return None if at is None else round(at - NOW, 6)


def js(doc: Any) -> bytes:
    return json.dumps(doc).encode()


# --- Retry-After ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (" 30 ", 30.0),
        (http_date(90), 90.0),
        (http_date(-3600), 0.0),  # already past: retry now
        ("soon", None),
        ("-5", None),
        ("", None),
        ("nan", None),
        ("inf", None),
        ("1e400", None),
        (str(int(MAX_DELAY) + 1), None),  # beyond a month: garbage
        ("Wed, 99 Foo 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_seconds_or_http_date(value: str, expected: float | None) -> None:
    assert delay({"Retry-After": value}) == expected


def test_header_names_are_case_insensitive() -> None:
    assert delay({"RETRY-AFTER": "4"}) == 4.0
    assert delay({"Retry-After-Ms": "1500"}) == 1.5
    assert delay({"X-RateLimit-Reset-Requests": "2s"}) == 2.0


@pytest.mark.parametrize(
    ("value", "expected"), [("1500", 1.5), ("20", 0.02), ("0", 0.0), ("x", None), ("-1", None)]
)
def test_retry_after_ms(value: str, expected: float | None) -> None:
    assert delay({"retry-after-ms": value}) == expected


# --- OpenAI bucket resets -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("1h2m3.5s", 3723.5),
        ("0.5s", 0.5),
        ("17.518s", 17.518),
        ("1µs", 1e-6),  # Go's micro sign
        ("250ns", 0.0),  # rounded to the microsecond by the helper
        ("7", 7.0),  # a bare number is seconds
        ("", None),
        ("abc", None),
        ("1x", None),
        ("1s garbage", None),
        ("-1s", None),
        ("s", None),
    ],
)
def test_openai_reset_durations(value: str, expected: float | None) -> None:
    assert delay({"x-ratelimit-reset-tokens": value}) == expected


def test_exhausted_openai_bucket_is_the_one_hit() -> None:
    headers = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "6m0s",
        "x-ratelimit-remaining-tokens": "1500",
        "x-ratelimit-reset-tokens": "1s",
    }
    assert delay(headers) == 360.0
    headers["x-ratelimit-remaining-requests"] = "3"
    headers["x-ratelimit-remaining-tokens"] = "0"
    assert delay(headers) == 1.0


def test_without_an_exhausted_bucket_the_latest_reset_counts() -> None:
    # A token bucket can refuse a big request with tokens still left: we cannot tell which.
    headers = {
        "x-ratelimit-remaining-requests": "10",
        "x-ratelimit-reset-requests": "6m0s",
        "x-ratelimit-remaining-tokens": "200",
        "x-ratelimit-reset-tokens": "1s",
    }
    assert delay(headers) == 360.0
    assert delay({"x-ratelimit-reset-requests": "2s", "x-ratelimit-reset-tokens": "9s"}) == 9.0


def test_several_exhausted_buckets_take_the_latest() -> None:
    headers = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "3s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "8s",
    }
    assert delay(headers) == 8.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (str(int(WALL + 60)), 60.0),  # Unix seconds
        (str(int((WALL + 60) * 1000)), 60.0),  # Unix milliseconds (OpenRouter)
        ("45", 45.0),  # a delay in seconds
        ("2m", 120.0),
        (str(int(WALL - 60)), 0.0),
        ("later", None),
    ],
)
def test_generic_x_ratelimit_reset(value: str, expected: float | None) -> None:
    assert delay({"X-RateLimit-Reset": value, "X-RateLimit-Remaining": "0"}) == expected


# --- Anthropic bucket resets --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (iso(30), 30.0),
        (iso(30.5), 30.5),
        ("2027-01-15T09:00:30+01:00", 30.0),
        ("2027-01-15T08:00:30", 30.0),  # no offset: UTC
        (iso(-30), 0.0),
        ("tomorrow", None),
        ("2027-13-40T00:00:00Z", None),
    ],
)
def test_anthropic_rfc3339_resets(value: str, expected: float | None) -> None:
    assert delay({"anthropic-ratelimit-tokens-reset": value}) == expected


def test_anthropic_exhausted_bucket_is_the_one_hit() -> None:
    headers = {
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": iso(50),
        "anthropic-ratelimit-input-tokens-remaining": "0",
        "anthropic-ratelimit-input-tokens-reset": iso(12),
        "anthropic-ratelimit-output-tokens-remaining": "7000",
        "anthropic-ratelimit-output-tokens-reset": iso(3),
        "anthropic-ratelimit-tokens-remaining": "7000",
        "anthropic-ratelimit-tokens-reset": iso(12),
    }
    assert delay(headers) == 12.0


def test_anthropic_unified_reset_counts_when_rejected() -> None:
    rejected = {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": str(int(WALL + 3 * 3600)),
        "anthropic-ratelimit-requests-remaining": "10",
        "anthropic-ratelimit-requests-reset": iso(5),
    }
    assert delay(rejected) == 3 * 3600.0
    allowed = {**rejected, "anthropic-ratelimit-unified-status": "allowed"}
    assert delay(allowed) == 3 * 3600.0  # nothing known exhausted: the latest of all
    allowed["anthropic-ratelimit-requests-remaining"] = "0"
    assert delay(allowed) == 5.0


# --- Explicit hints win -------------------------------------------------------------------


def test_explicit_hint_beats_bucket_resets() -> None:
    headers = {
        "retry-after": "5",
        "anthropic-ratelimit-tokens-remaining": "0",
        "anthropic-ratelimit-tokens-reset": iso(60),
    }
    assert delay(headers) == 5.0


def test_latest_explicit_hint_wins() -> None:
    body = js({"error": {"message": "Rate limit reached. Please try again in 20s."}})
    assert delay({"retry-after": "5"}, body) == 20.0
    assert delay({"retry-after": "50", "retry-after-ms": "1000"}, body) == 50.0


def test_bad_explicit_hint_falls_back_to_buckets() -> None:
    headers = {"retry-after": "soon", "x-ratelimit-reset-requests": "3s"}
    assert delay(headers) == 3.0


# --- Body hints ---------------------------------------------------------------------------


def gemini(details: list[Any], *, wrap: bool = False) -> bytes:
    doc: Any = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": details}}
    return js([doc] if wrap else doc)


RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (gemini([{"@type": RETRY_INFO, "retryDelay": "39s"}]), 39.0),
        (gemini([{"@type": RETRY_INFO, "retryDelay": "20.04466179s"}]), 20.044662),
        (gemini([{"@type": RETRY_INFO, "retryDelay": "39s"}], wrap=True), 39.0),
        (gemini([{"@type": RETRY_INFO, "retryDelay": {"seconds": 4, "nanos": 500000000}}]), 4.5),
        (
            gemini(
                [
                    {"@type": "type.googleapis.com/google.rpc.Help"},
                    {"@type": RETRY_INFO, "retryDelay": "2s"},
                ]
            ),
            2.0,
        ),
        (gemini([{"@type": "type.googleapis.com/google.rpc.Help", "retryDelay": "9s"}]), None),
        (gemini([{"@type": RETRY_INFO, "retryDelay": "soon"}]), None),
        (gemini([{"@type": RETRY_INFO, "retryDelay": 39}]), None),
        (gemini([{"@type": RETRY_INFO, "retryDelay": {"seconds": "x"}}]), None),
        (gemini([{"@type": 7, "retryDelay": "39s"}]), None),
        (js({"error": {"details": {"@type": RETRY_INFO, "retryDelay": "39s"}}}), None),
        (js({"error": "RESOURCE_EXHAUSTED"}), None),
        (js(["not", "an", "error"]), None),
        (
            gemini(
                [
                    {
                        "@type": ERROR_INFO,
                        "reason": "QUOTA_EXHAUSTED",
                        "metadata": {"quotaResetDelay": "3h9m46s"},
                    }
                ]
            ),
            11386.0,
        ),
        (gemini([{"@type": ERROR_INFO, "metadata": {"quotaResetTimeStamp": iso(600)}}]), 600.0),
        (gemini([{"@type": ERROR_INFO, "metadata": "nope"}]), None),
    ],
)
def test_gemini_details(body: bytes, expected: float | None) -> None:
    assert delay({}, body) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "usage_limit_reached", "resets_in_seconds": 13872}, 13872.0),
        ({"type": "usage_limit_reached", "resets_at": int(WALL + 600)}, 600.0),
        ({"resets_in_seconds": 100, "resets_at": int(WALL + 600)}, 600.0),
        ({"resets_in_seconds": True}, None),
        ({"resets_in_seconds": "100"}, None),
        ({"resets_in_seconds": -5}, None),
        ({"resets_at": int(WALL - 5)}, 0.0),
    ],
)
def test_codex_reset_fields(error: dict[str, Any], expected: float | None) -> None:
    assert delay({}, js({"error": error})) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please try again in 20s.", 20.0),
        ("Please try again in 1m30s.", 90.0),
        ("Please try again in 500ms.", 0.5),
        ("Please try again in 6m0s.", 360.0),
        ("Please try again in 9.816s.", 9.816),
        ("Please retry in 20.04466179s.", 20.044662),
        ("Your quota will reset after 8h44m7s.", 31447.0),
        ("or try again in 2 days 17 hours 14 minutes.", 2 * 86400 + 17 * 3600 + 14 * 60.0),
        ("Retry after 30 seconds", 30.0),
        ("try again in 1 hour and 5 minutes", 3900.0),
        ("try again in 3 min, 10 sec", 190.0),
        ("Please try again later.", None),
        ("try again in a moment", None),
        ("Claude AI usage limit reached|1800003600", 3600.0),
        ("usage limit reached|1799990000", 0.0),
        ("Please try again in 99999999s.", None),  # beyond a month
    ],
)
def test_message_text_hints(text: str, expected: float | None) -> None:
    assert delay({}, js({"error": {"message": text}})) == expected
    assert delay({}, text.encode()) == expected  # plain text bodies too


def test_the_latest_of_several_text_hints() -> None:
    body = b"Please try again in 2s. Your quota will reset after 1m."
    assert delay({}, body) == 60.0


# --- Nothing, and nothing bad -------------------------------------------------------------


def test_no_hint_is_none() -> None:
    assert retry_at({}, b"", now=NOW, wall_now=WALL) is None
    assert retry_at({"content-type": "application/json"}, b"{}", now=NOW, wall_now=WALL) is None


def test_absolute_times_need_a_finite_wall_clock() -> None:
    assert delay({"anthropic-ratelimit-tokens-reset": iso(30)}, wall_now=math.nan) is None
    assert delay({"retry-after": "30"}, wall_now=math.nan) == 30.0


def test_non_string_header_values_are_ignored() -> None:
    headers: dict[Any, Any] = {"retry-after": 30, 7: "x", "retry-after-ms": None}
    assert delay(headers) is None


@settings(max_examples=300, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "retry-after",
                "retry-after-ms",
                "x-ratelimit-reset-requests",
                "x-ratelimit-remaining-requests",
                "x-ratelimit-reset",
                "anthropic-ratelimit-tokens-reset",
                "anthropic-ratelimit-tokens-remaining",
                "anthropic-ratelimit-unified-reset",
            ]
        )
        | st.text(max_size=20),
        st.text(max_size=40) | st.from_regex(r"\d{1,14}(\.\d{1,4})?(ms|s|m|h)?", fullmatch=True),
        max_size=6,
    ),
    body=st.binary(max_size=500)
    | st.builds(
        lambda n, u: f"Please try again in {n}{u}".encode(),
        st.integers(0, 10**12),
        st.sampled_from(["s", "ms", "m", "h", " days"]),
    ),
    now=st.floats(min_value=-1e9, max_value=1e9),
    wall_now=st.floats(allow_nan=True, allow_infinity=True),
)
def test_retry_at_never_raises_and_stays_in_range(
    headers: dict[str, str], body: bytes, now: float, wall_now: float
) -> None:
    at = retry_at(headers, body, now=now, wall_now=wall_now)
    assert at is None or now <= at <= now + MAX_DELAY


# --- Body reading -------------------------------------------------------------------------


def test_read_error_body_parses_json_and_sse() -> None:
    assert read_error_body(b"").doc is None
    assert read_error_body(b'  {"a": 1}').doc == {"a": 1}
    assert read_error_body(b"[1]").doc == [1]
    sse = b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error"}}\n\n'
    assert read_error_body(sse).doc == {"type": "error", "error": {"type": "overloaded_error"}}
    assert read_error_body(b"data: [DONE]\n").doc is None
    assert read_error_body(b"{not json").doc is None


def test_read_error_body_is_bounded() -> None:
    big = b'{"error": {"message": "' + b"x" * MAX_BODY + b'"}}'
    parsed = read_error_body(big)
    assert parsed.doc is None  # too large to parse as a whole
    assert len(parsed.text) == MAX_BODY


def test_read_error_body_replaces_invalid_utf8() -> None:
    assert read_error_body(b"bad \xff byte").text == "bad \ufffd byte"


# --- Backoff ------------------------------------------------------------------------------


def test_backoff_doubles_from_base_up_to_cap() -> None:
    assert [backoff_seconds(level) for level in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_seconds(-3) == 1.0
    assert backoff_seconds(10**9) == 60.0
    assert backoff_seconds(3, base=0.5, cap=120) == 4.0
    assert backoff_seconds(20, base=0.5, cap=120) == 120.0
    assert backoff_seconds(2, base=0.0) == 0.0
    assert backoff_seconds(2, base=math.nan) == 0.0


@given(st.integers(-100, 10_000), st.floats(0.001, 100), st.floats(0.001, 10_000))
def test_backoff_is_monotonic_and_capped(level: int, base: float, cap: float) -> None:
    value = backoff_seconds(level, base=base, cap=cap)
    assert 0 < value <= cap
    assert backoff_seconds(level + 1, base=base, cap=cap) >= value
