"""Anthropic Message (non-streaming response) ⇄ hub response; stop reasons and usage.

Usage: Anthropic's ``input_tokens`` counts only the uncached part of the prompt, the hub's
counts all of it, so ``hub input = input + cache_read + cache_creation`` and back.
"""

from __future__ import annotations

import uuid
from typing import Any

from gateway.formats import hub
from gateway.formats.anthropic.content import block_to_part
from gateway.formats.anthropic.request import arguments_object, arguments_text

FINISH_BY_STOP_REASON: dict[str, hub.FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",  # a server-tool turn paused; the client may resume it
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
STOP_REASON_BY_FINISH = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "error": "end_turn",  # Anthropic has no error stop reason; the error travels separately
}


def finish_to_hub(stop_reason: Any) -> hub.FinishReason:
    return (
        FINISH_BY_STOP_REASON.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"
    )


def stop_reason_from_hub(reason: str, *, stop_sequence: str | None, tool_calls: bool) -> str:
    # Gemini says STOP when it calls functions; Anthropic clients loop on "tool_use", and
    # only when there is a tool_use block to run.
    if reason in ("stop", "tool_calls"):
        if tool_calls:
            return "tool_use"
        if reason == "tool_calls":
            return "end_turn"
    if reason == "stop" and stop_sequence is not None:
        return "stop_sequence"
    return STOP_REASON_BY_FINISH.get(reason, "end_turn")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_to_hub(usage: Any) -> hub.Usage:
    if not isinstance(usage, dict):
        return {}
    read = _int(usage.get("cache_read_input_tokens"))
    created = _int(usage.get("cache_creation_input_tokens"))
    out: hub.Usage = {
        "input_tokens": _int(usage.get("input_tokens")) + read + created,
        "output_tokens": _int(usage.get("output_tokens")),
    }
    if read:
        out["cached_tokens"] = read
    if created:
        out["cache_creation_tokens"] = created
    details = usage.get("output_tokens_details")
    if isinstance(details, dict) and _int(details.get("thinking_tokens")):
        out["reasoning_tokens"] = details["thinking_tokens"]
    return out


def usage_from_hub(usage: hub.Usage) -> dict[str, Any]:
    read = usage.get("cached_tokens", 0)
    created = usage.get("cache_creation_tokens", 0)
    out: dict[str, Any] = {
        "input_tokens": max(usage.get("input_tokens", 0) - read - created, 0),
        "output_tokens": usage.get("output_tokens", 0),
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": read,
    }
    if usage.get("reasoning_tokens"):
        out["output_tokens_details"] = {"thinking_tokens": usage["reasoning_tokens"]}
    return out


def message_id(hub_id: str) -> str:
    """Anthropic ids start with ``msg_``; keep the hub id inside so logs still match."""
    if hub_id.startswith("msg_"):
        return hub_id
    return "msg_" + (hub_id or uuid.uuid4().hex)


def response_to_hub(body: dict[str, Any]) -> hub.Response:
    content: list[hub.Part] = []
    reasoning: list[hub.Reasoning] = []
    calls: list[hub.ToolCall] = []
    blocks = body.get("content")
    for block in blocks if isinstance(blocks, list) else ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            part = block_to_part(block)
            if part is not None:
                content.append(part)
        elif kind == "thinking":
            item: hub.Reasoning = {"text": str(block.get("thinking") or "")}
            if isinstance(block.get("signature"), str):
                item["signature"] = block["signature"]
            reasoning.append(item)
        elif kind == "redacted_thinking":
            reasoning.append({"text": "", "redacted": str(block.get("data") or "")})
        elif kind == "tool_use":
            calls.append(
                {
                    "id": str(block.get("id") or ""),
                    "name": str(block.get("name") or ""),
                    "arguments": arguments_text(block),
                }
            )
    response: hub.Response = {
        "id": str(body.get("id") or ""),
        "model": str(body.get("model") or ""),
        "content": content,
        "reasoning": reasoning,
        "tool_calls": calls,
        "finish_reason": finish_to_hub(body.get("stop_reason")),
        "usage": usage_to_hub(body.get("usage")),
    }
    if isinstance(body.get("stop_sequence"), str):
        response["stop_sequence"] = body["stop_sequence"]
    return response


def response_from_hub(response: hub.Response, request: hub.Request) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for item in response["reasoning"]:
        if item.get("redacted"):
            content.append({"type": "redacted_thinking", "data": item["redacted"]})
        else:  # unsigned reasoning still reaches the client; it is dropped on replay upstream
            content.append(
                {
                    "type": "thinking",
                    "thinking": item.get("text", ""),
                    "signature": item.get("signature", ""),
                }
            )
    for part in response["content"]:
        if part["type"] == "text" and part["text"]:
            content.append({"type": "text", "text": part["text"]})
    for call in response["tool_calls"]:
        content.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": call["name"],
                "input": arguments_object(call["arguments"]),
            }
        )
    stop_reason = stop_reason_from_hub(
        response["finish_reason"],
        stop_sequence=response.get("stop_sequence"),
        tool_calls=bool(response["tool_calls"]),
    )
    return {
        "id": message_id(response["id"]),
        "type": "message",
        "role": "assistant",
        "model": response["model"] or request.get("model", ""),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": response.get("stop_sequence") if stop_reason == "stop_sequence" else None,
        "usage": usage_from_hub(response["usage"]),
    }
