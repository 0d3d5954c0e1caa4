"""When an upstream says to retry: parse every retry hint of a failed response, and backoff.

Pure functions; ``now`` is the caller's monotonic clock and ``wall_now`` the Unix time at the
same instant (used only to turn absolute timestamps into a delay). Nothing here raises on bad
input: a value that does not parse is ignored. The rule is stated in docs/routing/failures.md.

Sources, in two groups:

* explicit hints, computed by the upstream for the limit this request hit: ``Retry-After``
  (seconds or HTTP-date), ``retry-after-ms``, Gemini ``google.rpc.RetryInfo.retryDelay`` and
  ``google.rpc.ErrorInfo.metadata.quotaResetDelay`` / ``quotaResetTimeStamp``, Codex
  ``error.resets_in_seconds`` / ``error.resets_at``, and message text ("try again in 20s",
  "retry in 1m30s", "quota will reset after 8h44m7s", "usage limit reached|<epoch>");
* bucket resets, sent with every response: OpenAI ``x-ratelimit-reset-{requests,tokens}``,
  generic ``x-ratelimit-reset``, Anthropic ``anthropic-ratelimit-{requests,tokens,input-tokens,
  output-tokens}-reset`` and ``anthropic-ratelimit-unified-reset``.

Explicit hints win: the answer is the latest of them. Without one, the answer is the latest
reset among the buckets that are exhausted (remaining 0, or unified status "rejected"); when
no bucket is known to be exhausted, the latest of all bucket resets.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import orjson

MAX_BODY: Final = 64 * 1024  # bytes of an error body read; error bodies are small
# Characters scanned by text rules and hints: real error bodies (Gemini's with all its
# details included) stay under 4 KiB; anything longer is an HTML page or an echo.
MATCH_CHARS: Final = 16 * 1024
MAX_DELAY: Final = 31 * 86400.0  # a hint further away than a month is garbage, not a reset time

_UNIT_SECONDS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # Go prints micro as U+00B5
    "μs": 1e-6,  # and some servers as U+03BC
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
# Go's time.Duration text, as OpenAI sends it: "1s", "6m0s", "20ms", "1h2m3.5s".
_GO_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_GO_DURATION: Final = re.compile(rf"(?:{_GO_PART.pattern})+")
_NUMBER: Final = re.compile(r"[+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

# Durations in prose: "20s", "1m30s", "500ms", "20.04466179s", "2 days 17 hours 14 minutes".
_WORD_UNIT: Final = (
    r"(?:milliseconds?|msecs?|ms|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)"
    r"(?![a-z])"
)
_WORD_PART: Final = rf"\d+(?:\.\d+)?\s*{_WORD_UNIT}"
_WORD_DURATION: Final = rf"{_WORD_PART}(?:(?:\s*,\s*|\s+and\s+|\s*){_WORD_PART})*"
# Matched against lowercased text (ErrorBody.lower).
_WORD_PART_RE: Final = re.compile(rf"(\d+(?:\.\d+)?)\s*({_WORD_UNIT})")
# One pattern per lead word: a literal prefix is scanned for fast, an alternation is not.
_TEXT_HINTS: Final = tuple(
    (word, re.compile(rf"{word}\s+(?:in|after)\s+({_WORD_DURATION})"))
    for word in ("try again", "retry", "reset", "resets")
)
# Claude's subscription limit message carries the reset as Unix seconds after a pipe.
_PIPE_EPOCH: Final = re.compile(r"limit reached\|(\d{9,11})\b")

# (reset header, remaining header) pairs; remaining <= 0 marks the bucket as the one hit.
_OPENAI_BUCKETS: Final = (
    ("x-ratelimit-reset-requests", "x-ratelimit-remaining-requests"),
    ("x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens"),
)
_ANTHROPIC_BUCKETS: Final = tuple(
    (f"anthropic-ratelimit-{name}-reset", f"anthropic-ratelimit-{name}-remaining")
    for name in ("requests", "tokens", "input-tokens", "output-tokens")
)
_HEADER_PREFIXES: Final = ("retry-after", "x-ratelimit-", "anthropic-ratelimit-")


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """An error body read once: its text (at most MAX_BODY bytes, decoded) and its JSON."""

    text: str
    doc: object  # the parsed JSON document (or first SSE data event), None if not JSON
    lower: str  # the first MATCH_CHARS characters of text, lowercased, for pattern matching


EMPTY_BODY: Final = ErrorBody("", None, "")


def read_error_body(body: bytes) -> ErrorBody:
    """Decode an upstream error body; JSON (or the first JSON ``data:`` line of SSE) is parsed."""
    if not body:
        return EMPTY_BODY
    head = bytes(body[:MAX_BODY])
    text = head.decode("utf-8", errors="replace")
    doc: object = None
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"[") and len(body) <= MAX_BODY:
        doc = _loads(stripped)
    elif b"data:" in head:
        # An SSE error event, e.g. Anthropic's `event: error` inside a 200 stream.
        for line in head.splitlines():
            if line.startswith(b"data:"):
                candidate = _loads(line[5:].strip())
                if isinstance(candidate, dict):
                    doc = candidate
                    break
    return ErrorBody(text, doc, text[:MATCH_CHARS].lower())


def _loads(data: bytes) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


def retry_at(
    headers: Mapping[str, str], body: bytes, *, now: float, wall_now: float
) -> float | None:
    """The earliest time (on ``now``'s clock) the upstream says to retry, or None if unsaid."""
    return retry_at_from(headers, read_error_body(body), now=now, wall_now=wall_now)


def retry_at_from(
    headers: Mapping[str, str], body: ErrorBody, *, now: float, wall_now: float
) -> float | None:
    """:func:`retry_at` for a body already read with :func:`read_error_body`."""
    try:
        delay = _delay(_relevant_headers(headers), body, wall_now)
    except Exception:  # a malformed hint must never break failure handling
        return None
    return None if delay is None else now + delay


def duration_seconds(value: str) -> float | None:
    """A delay as OpenAI's rate-limit headers write it (Go duration text such as "6m0s",
    "20ms", or bare seconds), or None when it does not parse or is out of range."""
    return _relative(_go_duration(value))


def seconds_until(value: str, *, wall_now: float) -> float | None:
    """The delay until an RFC 3339 time (Anthropic's ``anthropic-ratelimit-*-reset``); a time
    already past is 0; None when it does not parse or is out of range."""
    return _rfc3339(value, wall_now)


def backoff_seconds(level: int, *, base: float = 1.0, cap: float = 60.0) -> float:
    """Exponential backoff: ``min(cap, base * 2**level)``; a negative level counts as 0.

    Level 0 is the first failure. Deterministic on purpose: jitter, if wanted, is the caller's.
    """
    if not base > 0 or not cap > 0:
        return 0.0
    level = max(0, level)
    if level >= 1024:  # 2**level would overflow a float
        return cap
    return min(cap, base * 2.0**level)


def _relevant_headers(headers: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in headers.items():
        if isinstance(name, str) and isinstance(value, str):
            lower = name.lower()
            if lower.startswith(_HEADER_PREFIXES):
                found.setdefault(lower, value.strip())
    return found


def _delay(headers: dict[str, str], body: ErrorBody, wall_now: float) -> float | None:
    explicit = [d for d in _explicit(headers, body, wall_now) if d is not None]
    if explicit:
        return max(explicit)
    buckets = [(d, hit) for d, hit in _buckets(headers, wall_now) if d is not None]
    if not buckets:
        return None
    hit = [d for d, exhausted in buckets if exhausted]
    return max(hit or [d for d, _ in buckets])


def _explicit(headers: dict[str, str], body: ErrorBody, wall_now: float) -> Iterable[float | None]:
    value = headers.get("retry-after")
    if value:
        yield _seconds_or_http_date(value, wall_now)
    value = headers.get("retry-after-ms")
    if value:
        ms = _number(value)
        yield None if ms is None else _relative(ms / 1000.0)
    if body.doc is not None:
        yield from _from_json(body.doc, wall_now)
    lower = body.lower
    # Substring checks first: they are C-speed and most bodies carry no hint at all.
    for word, pattern in _TEXT_HINTS:
        if word in lower:
            for match in pattern.finditer(lower):
                yield _relative(_word_duration(match.group(1)))
    if "limit reached|" in lower:
        for match in _PIPE_EPOCH.finditer(lower):
            yield _absolute(float(match.group(1)), wall_now)


def _buckets(headers: dict[str, str], wall_now: float) -> Iterable[tuple[float | None, bool]]:
    for reset, remaining in _OPENAI_BUCKETS:
        if value := headers.get(reset):
            yield _relative(_go_duration(value)), _exhausted(headers.get(remaining))
    if value := headers.get("x-ratelimit-reset"):
        yield _epoch_or_seconds(value, wall_now), _exhausted(headers.get("x-ratelimit-remaining"))
    for reset, remaining in _ANTHROPIC_BUCKETS:
        if value := headers.get(reset):
            yield _rfc3339(value, wall_now), _exhausted(headers.get(remaining))
    if value := headers.get("anthropic-ratelimit-unified-reset"):
        status = headers.get("anthropic-ratelimit-unified-status", "").lower()
        yield _epoch_or_seconds(value, wall_now), status == "rejected"


def _from_json(doc: object, wall_now: float) -> Iterable[float | None]:
    # Gemini streams errors as a one-element JSON array; look at the first few items only.
    items = doc[:4] if isinstance(doc, list) else [doc]
    for item in items:
        if not isinstance(item, dict):
            continue
        error = item.get("error")
        if not isinstance(error, dict):
            continue
        # Codex (ChatGPT backend): {"error": {"type": "usage_limit_reached", "resets_at": ...}}
        if (seconds := _json_number(error.get("resets_in_seconds"))) is not None:
            yield _relative(seconds)
        if (epoch := _json_number(error.get("resets_at"))) is not None:
            yield _absolute(epoch, wall_now)
        details = error.get("details")
        if isinstance(details, list):
            for detail in details[:16]:
                if isinstance(detail, dict):
                    yield from _google_detail(detail, wall_now)


def _google_detail(detail: dict[str, object], wall_now: float) -> Iterable[float | None]:
    kind = detail.get("@type")
    if not isinstance(kind, str):
        return
    if kind.endswith("google.rpc.RetryInfo"):
        yield _relative(_proto_duration(detail.get("retryDelay")))
    elif kind.endswith("google.rpc.ErrorInfo"):
        metadata = detail.get("metadata")
        if isinstance(metadata, dict):
            yield _relative(_proto_duration(metadata.get("quotaResetDelay")))
            stamp = metadata.get("quotaResetTimeStamp")
            if isinstance(stamp, str):
                yield _rfc3339(stamp, wall_now)


def _relative(seconds: float | None) -> float | None:
    """A delay from now: must be finite, not negative and at most MAX_DELAY."""
    if seconds is None or not 0.0 <= seconds <= MAX_DELAY:  # also rejects NaN
        return None
    return seconds


def _absolute(timestamp: float, wall_now: float) -> float | None:
    """A delay until a Unix time; a time already past means retry now."""
    if not math.isfinite(timestamp) or not math.isfinite(wall_now):
        return None
    return _relative(max(0.0, timestamp - wall_now))


def _number(value: str) -> float | None:
    if not _NUMBER.fullmatch(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _json_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _exhausted(remaining: str | None) -> bool:
    if remaining is None:
        return False
    number = _number(remaining)
    return number is not None and number <= 0


def _seconds_or_http_date(value: str, wall_now: float) -> float | None:
    seconds = _number(value)
    if seconds is not None:
        return _relative(seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return _absolute(when.timestamp(), wall_now)


def _epoch_or_seconds(value: str, wall_now: float) -> float | None:
    """A Unix time in ms or s, or a delay in seconds (or a Go duration), by magnitude."""
    number = _number(value)
    if number is None:
        return _relative(_go_duration(value))
    if number >= 1e12:
        return _absolute(number / 1000.0, wall_now)
    if number >= 1e9:
        return _absolute(number, wall_now)
    return _relative(number)


def _rfc3339(value: str, wall_now: float) -> float | None:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        return _absolute(when.timestamp(), wall_now)
    except (OverflowError, OSError, ValueError):
        return None


def _go_duration(value: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        return float(text)  # a bare number: seconds
    if not _GO_DURATION.fullmatch(text):
        return None
    return sum(float(num) * _UNIT_SECONDS[unit] for num, unit in _GO_PART.findall(text))


def _proto_duration(value: object) -> float | None:
    """A google.protobuf.Duration in JSON ("39s", "1.5s") or as {"seconds", "nanos"}."""
    if isinstance(value, str):
        return _go_duration(value)
    if isinstance(value, dict):
        seconds = _json_number(value.get("seconds", 0))
        nanos = _json_number(value.get("nanos", 0))
        if seconds is None or nanos is None:
            return None
        return seconds + nanos / 1e9
    return None


def _word_duration(text: str) -> float | None:
    total = 0.0
    for number, unit in _WORD_PART_RE.findall(text):
        total += float(number) * _word_unit_seconds(unit)
    return total


def _word_unit_seconds(unit: str) -> float:
    if unit.startswith(("ms", "msec", "milli")):
        return 1e-3
    if unit.startswith("d"):
        return 86400.0
    if unit.startswith("h"):
        return 3600.0
    if unit == "m" or unit.startswith("min"):
        return 60.0
    return 1.0
