"""A Responses request (``POST /v1/responses`` body) → hub request."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.responses.items import call_from_item, reasoning_from_item
from gateway.formats.responses.parts import parts_to_hub
from gateway.formats.responses.settings import (
    reasoning_to_hub,
    text_format_to_hub,
    tool_choice_to_hub,
    tools_to_hub,
)


def request_to_hub(body: dict[str, Any]) -> hub.Request:
    request: hub.Request = {}
    model = body.get("model")
    if isinstance(model, str):
        request["model"] = model
    builder = _MessageBuilder()
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        builder.messages.append(
            {"role": "system", "content": [{"type": "text", "text": instructions}]}
        )
    elif isinstance(instructions, list):
        builder.add_items(instructions)
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        builder.messages.append({"role": "user", "content": [{"type": "text", "text": raw_input}]})
    elif isinstance(raw_input, list):
        builder.add_items(raw_input)
    request["messages"] = builder.messages

    tools = tools_to_hub(body.get("tools"))
    if tools:
        request["tools"] = tools
    choice = tool_choice_to_hub(body.get("tool_choice"))
    if choice is not None:
        request["tool_choice"] = choice
    _copy_typed(body, request)
    response_format = text_format_to_hub(body.get("text"))
    if response_format is not None:
        request["response_format"] = response_format
    reasoning = reasoning_to_hub(body.get("reasoning"))
    if reasoning is not None:
        request["reasoning"] = reasoning
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and metadata:
        request["metadata"] = metadata
    # store, include, previous_response_id, truncation, service_tier, prompt_cache_key,
    # background, max_tool_calls, top_logprobs, text.verbosity: no hub field (docs/dialects).
    return request


def _copy_typed(body: dict[str, Any], request: hub.Request) -> None:
    """Scalars that map one to one, when they have the right type (bool is not a number)."""
    tokens = body.get("max_output_tokens")
    if isinstance(tokens, int) and not isinstance(tokens, bool):
        request["max_tokens"] = tokens
    temperature = _number(body.get("temperature"))
    if temperature is not None:
        request["temperature"] = temperature
    top_p = _number(body.get("top_p"))
    if top_p is not None:
        request["top_p"] = top_p
    parallel = body.get("parallel_tool_calls")
    if isinstance(parallel, bool):
        request["parallel_tool_calls"] = parallel
    stream = body.get("stream")
    if isinstance(stream, bool):
        request["stream"] = stream
    user = body.get("user")
    if isinstance(user, str):
        request["user"] = user


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class _MessageBuilder:
    """Input items → hub messages. The items of one assistant turn (reasoning, assistant
    messages, function calls) arrive as separate items; they become ONE hub assistant message,
    so its reasoning, text and tool calls stay together for dialects that need them so."""

    def __init__(self) -> None:
        self.messages: list[hub.Message] = []
        self._assistant: hub.Message | None = None
        self._names: dict[str, str] = {}  # call_id → function name, for tool results

    def _turn(self) -> hub.Message:
        if self._assistant is None:
            self._assistant = {"role": "assistant", "content": []}
            self.messages.append(self._assistant)
        return self._assistant

    def add_items(self, items: list[Any]) -> None:
        for item in items:
            if not isinstance(item, dict):
                continue
            kind = item.get("type", "message")
            if kind == "message":
                self._message(item)
            elif kind == "function_call":
                self._function_call(item)
            elif kind == "function_call_output":
                self._function_output(item)
            elif kind == "reasoning":
                self._reasoning(item)
            # item_reference (needs OpenAI's stored state) and built-in tool items: dropped

    def _message(self, item: dict[str, Any]) -> None:
        role = item.get("role")
        content = parts_to_hub(item.get("content"))
        if role == "assistant":
            self._turn()["content"].extend(content)
            return
        self._assistant = None
        if role in ("system", "developer"):
            self.messages.append({"role": "system", "content": content})
        elif role == "user":
            self.messages.append({"role": "user", "content": content})

    def _function_call(self, item: dict[str, Any]) -> None:
        call = call_from_item(item)
        if call is not None:
            self._names[call["id"]] = call["name"]
            self._turn().setdefault("tool_calls", []).append(call)

    def _function_output(self, item: dict[str, Any]) -> None:
        call_id = item.get("call_id")
        if not isinstance(call_id, str):
            return
        self._assistant = None
        message: hub.Message = {
            "role": "tool",
            "content": parts_to_hub(item.get("output")),
            "tool_call_id": call_id,
        }
        if call_id in self._names:
            message["name"] = self._names[call_id]
        self.messages.append(message)

    def _reasoning(self, item: dict[str, Any]) -> None:
        self._turn().setdefault("reasoning", []).append(reasoning_from_item(item))
