"""Value tables and small conversions shared by the OpenAI Chat request, response and stream
modules: finish reasons, usage, data URLs, model-family rules."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from gateway.formats import hub

# Upstream finish_reason → hub. "function_call" is the pre-tools name of "tool_calls".
FINISH_TO_HUB: dict[str, hub.FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}

# Hub → OpenAI. OpenAI has no "error" reason: a response that ended on an error and is still
# delivered as a success says "stop" (the error itself travels as an error object).
FINISH_FROM_HUB: dict[str, str] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "error": "stop",
}

# OpenAI's reasoning families (o1, o3, o4-mini, gpt-5...) reject ``max_tokens`` with 400
# "unsupported_parameter" and want ``max_completion_tokens``; most OpenAI-compatible servers
# (vLLM, Ollama, DeepSeek, older llama.cpp) only know ``max_tokens``.
_REASONING_MODEL = re.compile(r"(?:^|/)(?:o\d|gpt-(?:[5-9]|\d\d))(?:$|[-._:])")


def is_openai_reasoning_model(model: str) -> bool:
    return _REASONING_MODEL.search(model.lower()) is not None


def finish_to_hub(reason: object, has_tool_calls: bool) -> hub.FinishReason:
    mapped = FINISH_TO_HUB.get(reason, "stop") if isinstance(reason, str) else "stop"
    # Some compatible servers (Ollama, some vLLM parsers) say "stop" after tool calls; the
    # other dialects need the tool-use reason to run the tools.
    if mapped == "stop" and has_tool_calls:
        return "tool_calls"
    return mapped


def new_call_id() -> str:
    """An id for a tool call whose upstream gave none (legacy function_call)."""
    return "call_" + uuid.uuid4().hex[:24]


def _int(value: object) -> int | None:
    # bool is an int subclass: never a token count.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def usage_to_hub(usage: dict[str, Any]) -> hub.Usage:
    """OpenAI usage → hub. Same conventions (prompt includes cached, completion includes
    reasoning), so only the names change. DeepSeek's ``prompt_cache_hit_tokens`` stands in
    for ``prompt_tokens_details.cached_tokens`` when that is absent."""
    out: hub.Usage = {}
    value = _int(usage.get("prompt_tokens"))
    if value is not None:
        out["input_tokens"] = value
    value = _int(usage.get("completion_tokens"))
    if value is not None:
        out["output_tokens"] = value
    details = usage.get("prompt_tokens_details")
    value = _int(details.get("cached_tokens")) if isinstance(details, dict) else None
    if value is None:
        value = _int(usage.get("prompt_cache_hit_tokens"))
    if value is not None:
        out["cached_tokens"] = value
    details = usage.get("completion_tokens_details")
    value = _int(details.get("reasoning_tokens")) if isinstance(details, dict) else None
    if value is not None:
        out["reasoning_tokens"] = value
    return out


def usage_from_hub(usage: hub.Usage) -> dict[str, Any]:
    prompt = usage.get("input_tokens", 0)
    completion = usage.get("output_tokens", 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": usage.get("cached_tokens", 0)},
        "completion_tokens_details": {"reasoning_tokens": usage.get("reasoning_tokens", 0)},
    }


def split_data_url(url: str) -> tuple[str, str] | None:
    """``data:<media type>;base64,<data>`` → (media type, base64 data); None otherwise."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url.partition(",")
    if not sep or not header.endswith(";base64"):
        return None
    media_type = header[5:-7].split(";", 1)[0]
    return media_type, data


def data_url(media_type: str, data: str) -> str:
    return "data:" + media_type + ";base64," + data


def created_now() -> int:
    """OpenAI objects carry a ``created`` Unix time and the hub has no field for it, so the
    emitters read the clock here (the one impure line of this package)."""
    return int(time.time())


def completion_id(hub_id: str) -> str:
    """OpenAI ids start with ``chatcmpl-``; keep an id that already does."""
    if hub_id.startswith("chatcmpl-"):
        return hub_id
    return "chatcmpl-" + (hub_id or uuid.uuid4().hex)
