"""The Response object and its output items, as a Responses client receives them.

Shared by the non-streaming emitter and the stream emitter (whose lifecycle events carry the
same object). Only fields the official SDK models know are emitted (response sanitisation);
the request's settings are echoed the way the API echoes them.
"""

from __future__ import annotations

import os
from typing import Any

from gateway.formats import hub
from gateway.formats.responses.settings import (
    reasoning_from_hub,
    text_from_hub,
    tool_choice_from_hub,
    tools_from_hub,
)


def response_id(hub_id: str) -> str:
    """A ``resp_`` id: the upstream's id kept inside it, or a random one when there is none."""
    if not hub_id:
        return "resp_" + os.urandom(12).hex()
    return hub_id if hub_id.startswith("resp_") else "resp_" + hub_id


def item_id(prefix: str, base: str, index: int) -> str:
    """Output item ids, unique within a response: ``msg_<base>_<output index>`` etc."""
    return f"{prefix}{base}_{index}"


def echo_fields(request: hub.Request) -> dict[str, Any]:
    """The request settings every Response object repeats (computed once per response).
    ``instructions`` is not echoed: agents send tens of kilobytes of it and never read it back."""
    return {
        "instructions": None,
        "max_output_tokens": request.get("max_tokens"),
        "metadata": request.get("metadata") or {},
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": reasoning_from_hub(request.get("reasoning")),
        "temperature": request.get("temperature"),
        "text": text_from_hub(request.get("response_format")),
        "tool_choice": tool_choice_from_hub(request["tool_choice"])
        if "tool_choice" in request
        else "auto",
        "tools": tools_from_hub(request.get("tools", [])),
        "top_p": request.get("top_p"),
        "truncation": "disabled",
        "user": request.get("user"),
    }


def response_object(
    *,
    rid: str,
    created_at: int,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    echo: dict[str, Any],
    error: dict[str, str] | None = None,
    incomplete_details: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": error,
        "incomplete_details": incomplete_details,
        "model": model,
        "output": output,
        **echo,
        "usage": usage,
    }


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def message_item(iid: str, texts: list[str], status: str) -> dict[str, Any]:
    return {
        "id": iid,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [output_text(text) for text in texts],
    }


def reasoning_item(iid: str, text: str, signature: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": iid,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": text}] if text else [],
    }
    if signature is not None:
        item["encrypted_content"] = signature
    return item


def function_call_item(
    iid: str, call_id: str, name: str, arguments: str, status: str
) -> dict[str, Any]:
    return {
        "id": iid,
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }
