"""Non-streamed responses: an OpenAI ``chat.completion`` object ⇄ hub response."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.openai_chat.mapping import (
    FINISH_FROM_HUB,
    completion_id,
    created_now,
    finish_to_hub,
    new_call_id,
    usage_from_hub,
    usage_to_hub,
)
from gateway.formats.openai_chat.think import split_think


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # a few compatible servers answer with text parts
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _tool_calls(message: dict[str, Any]) -> list[hub.ToolCall]:
    calls: list[hub.ToolCall] = []
    raw = message.get("tool_calls")
    if isinstance(raw, list):
        for item in raw:
            function = item.get("function") if isinstance(item, dict) else None
            if not isinstance(function, dict):
                continue
            call_id = item.get("id")
            arguments = function.get("arguments")
            calls.append(
                {
                    "id": call_id if isinstance(call_id, str) and call_id else new_call_id(),
                    "name": str(function.get("name") or ""),
                    "arguments": arguments
                    if isinstance(arguments, str)
                    else orjson.dumps(arguments or {}).decode(),
                }
            )
    legacy = message.get("function_call")
    if not calls and isinstance(legacy, dict):
        arguments = legacy.get("arguments")
        calls.append(
            {
                "id": new_call_id(),
                "name": str(legacy.get("name") or ""),
                "arguments": arguments if isinstance(arguments, str) else "",
            }
        )
    return calls


def response_to_hub(body: dict[str, Any]) -> hub.Response:
    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else {}
    choice = choice if isinstance(choice, dict) else {}
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    text = _content_text(message.get("content"))
    reasoning_text = message.get("reasoning_content")
    if not isinstance(reasoning_text, str):
        reasoning_text = message.get("reasoning")
    if not isinstance(reasoning_text, str) or not reasoning_text:
        # No separate field: maybe the reasoning is inline as a leading <think> block.
        reasoning_text, text = split_think(text)
    if not text and isinstance(message.get("refusal"), str):
        text = message["refusal"]  # a refusal is the model's answer: show it as text
    calls = _tool_calls(message)
    usage = body.get("usage")
    model = body.get("model")
    response_id = body.get("id")
    return {
        "id": response_id if isinstance(response_id, str) else "",
        "model": model if isinstance(model, str) else "",
        "content": [{"type": "text", "text": text}] if text else [],
        "reasoning": [{"text": reasoning_text}] if reasoning_text else [],
        "tool_calls": calls,
        "finish_reason": finish_to_hub(choice.get("finish_reason"), bool(calls)),
        "usage": usage_to_hub(usage) if isinstance(usage, dict) else {},
    }


def response_from_hub(response: hub.Response, request: hub.Request) -> dict[str, Any]:
    text = hub.text_of(response["content"])
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    reasoning = "".join(block["text"] for block in response["reasoning"])
    if reasoning:
        message["reasoning_content"] = reasoning  # an extra field the SDKs keep as-is
    calls = response["tool_calls"]
    if calls:
        message["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"]},
            }
            for call in calls
        ]
    finish = FINISH_FROM_HUB.get(response["finish_reason"], "stop")
    if finish == "stop" and calls:
        finish = "tool_calls"
    return {
        "id": completion_id(response["id"]),
        "object": "chat.completion",
        "created": created_now(),
        "model": response["model"] or request.get("model", ""),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage_from_hub(response["usage"]),
    }
