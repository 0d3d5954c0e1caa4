"""A hub request → an OpenAI Chat Completions request body (for an OpenAI-compatible
upstream)."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.openai_chat.mapping import is_openai_reasoning_model
from gateway.formats.openai_chat.parts import joined_text, part_to_openai, user_content_to_openai

_TOOL_CHOICES = frozenset(("auto", "none", "required"))
_MAX_STOP = 4  # OpenAI rejects more than four stop sequences
_ERROR_PREFIX = "Error: "  # no is_error field: a failed tool says so in its text


def _budget_effort(budget: int) -> str:
    # Anthropic/Gemini thinking budgets → the nearest effort level.
    if budget <= 2048:
        return "low"
    if budget <= 8192:
        return "medium"
    return "high"


def _assistant(message: hub.Message, content: list[hub.Part]) -> dict[str, Any]:
    text = joined_text(content, "")
    calls = message.get("tool_calls") or []
    out: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
    # DeepSeek-style thinking upstreams require their reasoning back on tool-call turns.
    reasoning = "".join(block["text"] for block in message.get("reasoning", ()))
    if reasoning:
        out["reasoning_content"] = reasoning
    if calls:
        out["tool_calls"] = [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"] or "{}"},
            }
            for call in calls
        ]
    return out


def _messages(messages: list[hub.Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # Images and documents returned by tools: a tool message takes text only, so they follow
    # the run of tool messages in one user message (tool messages must stay contiguous).
    tool_media: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        content = message.get("content") or []
        if role != "tool" and tool_media:
            out.append({"role": "user", "content": tool_media})
            tool_media = []
        if role == "system":
            out.append({"role": "system", "content": joined_text(content, "\n\n")})
        elif role == "user":
            out.append({"role": "user", "content": user_content_to_openai(content)})
        elif role == "assistant":
            out.append(_assistant(message, content))
        elif role == "tool":
            text = joined_text(content, "\n\n")
            if message.get("is_error"):
                text = _ERROR_PREFIX + text
            out.append(
                {"role": "tool", "tool_call_id": message.get("tool_call_id", ""), "content": text}
            )
            for part in content:
                if part["type"] != "text" and (converted := part_to_openai(part)) is not None:
                    tool_media.append(converted)
    if tool_media:
        out.append({"role": "user", "content": tool_media})
    return out


def _tool(tool: hub.Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool["name"]}
    if "description" in tool:
        function["description"] = tool["description"]
    function["parameters"] = tool["parameters"]
    if "strict" in tool:
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _tool_choice(choice: hub.ToolChoice) -> str | dict[str, Any] | None:
    if isinstance(choice, str):
        return choice if choice in _TOOL_CHOICES else None
    name = choice.get("name")
    return {"type": "function", "function": {"name": name}} if name else None


def _response_format(value: hub.ResponseFormat) -> dict[str, Any]:
    if value["type"] != "json_schema":
        return {"type": value["type"]}
    spec: dict[str, Any] = {
        "name": value.get("name") or "response",  # required by OpenAI
        "schema": value.get("schema", {"type": "object"}),
    }
    if "strict" in value:
        spec["strict"] = value["strict"]
    return {"type": "json_schema", "json_schema": spec}


def request_from_hub(request: hub.Request) -> dict[str, Any]:
    model = request.get("model", "")
    reasoning_model = is_openai_reasoning_model(model)
    body: dict[str, Any] = {"model": model, "messages": _messages(request.get("messages", []))}
    tools = request.get("tools")
    if tools:
        body["tools"] = [_tool(tool) for tool in tools]
        # OpenAI rejects tool_choice / parallel_tool_calls when no tools are given.
        choice = _tool_choice(request["tool_choice"]) if "tool_choice" in request else None
        if choice is not None:
            body["tool_choice"] = choice
        if "parallel_tool_calls" in request:
            body["parallel_tool_calls"] = request["parallel_tool_calls"]
    if "max_tokens" in request:
        key = "max_completion_tokens" if reasoning_model else "max_tokens"
        body[key] = request["max_tokens"]
    if "temperature" in request:
        body["temperature"] = request["temperature"]
    if "top_p" in request:
        body["top_p"] = request["top_p"]
    stop = request.get("stop")
    if stop:
        body["stop"] = stop[:_MAX_STOP]
    if "stream" in request:
        body["stream"] = request["stream"]
        if request["stream"]:
            # Always: the gateway needs usage; the client's own choice is applied on the way out.
            body["stream_options"] = {"include_usage": True}
    if "response_format" in request:
        body["response_format"] = _response_format(request["response_format"])
    reasoning = request.get("reasoning")
    # Thinking switched off is left out: "none" exists only on some models and the rest 400.
    if reasoning and reasoning.get("enabled", True):
        if "effort" in reasoning:
            body["reasoning_effort"] = reasoning["effort"]
        elif "budget_tokens" in reasoning and reasoning_model:
            # Only where reasoning_effort is known to be accepted: non-reasoning models 400.
            body["reasoning_effort"] = _budget_effort(reasoning["budget_tokens"])
    if "user" in request:
        body["user"] = request["user"]
    return body
