"""Usage and how a response ended: Responses ``usage`` / ``status`` ⇄ hub usage / finish.

Responses counts like the hub: ``input_tokens`` includes cached (and cache-written) tokens,
``output_tokens`` includes reasoning tokens, so the numbers copy across unchanged.
"""

from __future__ import annotations

from typing import Any

from gateway.formats import hub


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_to_hub(usage: Any) -> hub.Usage:
    """Detail counts of 0 are left out: "none cached" and "not reported" mean the same."""
    if not isinstance(usage, dict):
        return {}
    out: hub.Usage = {}
    input_tokens = _count(usage.get("input_tokens"))
    if input_tokens is not None:
        out["input_tokens"] = input_tokens
    output_tokens = _count(usage.get("output_tokens"))
    if output_tokens is not None:
        out["output_tokens"] = output_tokens
    details = usage.get("input_tokens_details")
    if isinstance(details, dict):
        cached = _count(details.get("cached_tokens"))
        if cached:
            out["cached_tokens"] = cached
        written = _count(details.get("cache_write_tokens"))
        if written:
            out["cache_creation_tokens"] = written
    details = usage.get("output_tokens_details")
    if isinstance(details, dict):
        reasoning = _count(details.get("reasoning_tokens"))
        if reasoning:
            out["reasoning_tokens"] = reasoning
    return out


def usage_from_hub(usage: hub.Usage | None) -> dict[str, Any]:
    """The full ``usage`` object (every field the SDK requires; zeros when unknown)."""
    usage = usage or {}
    input_tokens = usage.get("input_tokens", 0)
    output_tokens = usage.get("output_tokens", 0)
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.get("cached_tokens", 0),
            "cache_write_tokens": usage.get("cache_creation_tokens", 0),
        },
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.get("reasoning_tokens", 0)},
        "total_tokens": input_tokens + output_tokens,
    }


def finish_to_hub(status: Any, incomplete_details: Any, made_calls: bool) -> hub.FinishReason:
    if status == "incomplete":
        reason = incomplete_details.get("reason") if isinstance(incomplete_details, dict) else None
        return "content_filter" if reason == "content_filter" else "length"
    if status in ("failed", "cancelled"):
        return "error"
    return "tool_calls" if made_calls else "stop"


# How a hub finish reason ends a Responses response: (status, incomplete_details).
STATUS_BY_FINISH: dict[str, tuple[str, dict[str, str] | None]] = {
    "stop": ("completed", None),
    "tool_calls": ("completed", None),
    "length": ("incomplete", {"reason": "max_output_tokens"}),
    "content_filter": ("incomplete", {"reason": "content_filter"}),
    "error": ("failed", None),
}
