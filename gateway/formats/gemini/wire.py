"""Small wire helpers shared by the Gemini codec: field lookup, ids, signatures, constants."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from typing import Any

import orjson

from gateway.formats import hub

# Gemini 3 rejects a model turn whose first functionCall part has no thoughtSignature (4xx).
# Google documents this value for history the model did not produce (another provider's
# turns, hand-built transcripts): it tells the validator to skip the check.
SKIP_SIGNATURE = "skip_thought_signature_validator"

# Budgets for hub reasoning effort (thinkingBudget tokens). 512 is the smallest budget every
# 2.5 model accepts (Flash-Lite's minimum), so "minimal" never turns thinking fully off.
EFFORT_BUDGET: dict[str, int] = {"minimal": 512, "low": 1024, "medium": 8192, "high": 24576}

FINISH_TO_HUB: dict[str, hub.FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "MODEL_ARMOR": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "MISSING_THOUGHT_SIGNATURE": "error",
    "MALFORMED_RESPONSE": "error",
    "OTHER": "error",
}

FINISH_FROM_HUB: dict[str, str] = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "error": "OTHER",
}


def finish_to_hub(reason: str | None, saw_tool_call: bool) -> hub.FinishReason:
    """Gemini says STOP for a turn that ended in function calls; the hub says tool_calls."""
    mapped = FINISH_TO_HUB.get(reason or "", "stop")
    if mapped == "stop" and saw_tool_call:
        return "tool_calls"
    return mapped


def get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    """A request field in either spelling (Google's proto-JSON parser accepts both, and the
    Python SDK mixes them, e.g. ``inlineData.mime_type``)."""
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def new_call_id() -> str:
    """A tool-call id for a response whose functionCall had none (unique per response)."""
    return "call_" + os.urandom(6).hex()


def history_call_id(content_index: int, part_index: int, name: str) -> str:
    """A stable id for an id-less functionCall in request history: the same history gives the
    same ids on every turn, so upstream prompt caches keep matching."""
    digest = hashlib.blake2b(f"{content_index}.{part_index}.{name}".encode(), digest_size=6)
    return "call_" + digest.hexdigest()


_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


def is_base64(value: str) -> bool:
    """True when Google (and the SDK's pydantic bytes field) can decode ``value``: standard or
    URL-safe alphabet, padding optional, canonical trailing bits."""
    if not value or not _BASE64.fullmatch(value):
        return False
    text = value.rstrip("=").replace("-", "+").replace("_", "/")
    if len(text) % 4 == 1:
        return False
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return base64.b64encode(raw).rstrip(b"=").decode() == text


_IMAGE_EXTENSIONS = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
}


def guess_image_type(url: str) -> str | None:
    """The image media type a URL's extension names, if any (query and fragment ignored)."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    dot = path.rfind(".")
    if dot < 0:
        return None
    return _IMAGE_EXTENSIONS.get(path[dot + 1 :].lower())


def parse_arguments(arguments: str) -> dict[str, Any]:
    """Hub JSON-text arguments → Gemini's ``args`` object (``{}`` when empty, truncated or
    not an object: Gemini only takes an object)."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def seq(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else nothing (bodies are not trusted)."""
    return value if isinstance(value, list) else []


def count(value: Any) -> int:
    """A token count: proto3 JSON may write int64 as a string; anything else counts 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0
