"""A Response object (non-streaming upstream answer) → hub response."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.responses.items import call_from_item, reasoning_from_item
from gateway.formats.responses.parts import part_to_hub
from gateway.formats.responses.usage import finish_to_hub, usage_to_hub


def response_to_hub(body: dict[str, Any]) -> hub.Response:
    content: list[hub.Part] = []
    reasoning: list[hub.Reasoning] = []
    tool_calls: list[hub.ToolCall] = []
    output = body.get("output")
    for item in output if isinstance(output, list) else ():
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            for raw in item.get("content") or ():
                part = part_to_hub(raw)
                if part is not None and part["type"] == "text":
                    content.append(part)
        elif kind == "function_call":
            call = call_from_item(item)
            if call is not None:
                tool_calls.append(call)
        elif kind == "reasoning":
            reasoning.append(reasoning_from_item(item))
        # built-in tool items (web_search_call, ...): nothing the hub can hold
    model = body.get("model")
    rid = body.get("id")
    return {
        "id": rid if isinstance(rid, str) else "",
        "model": model if isinstance(model, str) else "",
        "content": content,
        "reasoning": reasoning,
        "tool_calls": tool_calls,
        "finish_reason": finish_to_hub(
            body.get("status", "completed"), body.get("incomplete_details"), bool(tool_calls)
        ),
        "usage": usage_to_hub(body.get("usage")),
    }
