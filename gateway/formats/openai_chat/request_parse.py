"""An OpenAI Chat Completions request body → hub request."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.openai_chat.mapping import new_call_id
from gateway.formats.openai_chat.parts import parts_to_hub

_TOOL_CHOICES = frozenset(("auto", "none", "required"))


def _arguments(value: object) -> str:
    # Arguments are JSON text; a few clients send the parsed object instead.
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return orjson.dumps(value).decode()


def _tool_calls(raw: object) -> list[hub.ToolCall]:
    calls: list[hub.ToolCall] = []
    if not isinstance(raw, list):
        return calls
    for item in raw:
        if not isinstance(item, dict):
            continue
        function = item.get("function")
        if not isinstance(function, dict):
            continue  # custom (grammar) tool calls have no hub equivalent
        call_id = item.get("id")
        calls.append(
            {
                "id": call_id if isinstance(call_id, str) and call_id else new_call_id(),
                "name": str(function.get("name") or ""),
                "arguments": _arguments(function.get("arguments")),
            }
        )
    return calls


def _reasoning_text(message: dict[str, Any]) -> str:
    # DeepSeek / vLLM say reasoning_content; OpenRouter and newer vLLM say reasoning.
    text = message.get("reasoning_content")
    if not isinstance(text, str):
        text = message.get("reasoning")
    return text if isinstance(text, str) else ""


class _MessageReader:
    """Walks the message list, remembering tool-call names (so tool results can carry the
    function name, which Gemini needs) and the ids given to legacy function calls."""

    def __init__(self) -> None:
        self.names_by_id: dict[str, str] = {}
        self.legacy_ids: dict[str, list[str]] = {}  # function name → unanswered call ids
        self.messages: list[hub.Message] = []

    def read(self, message: dict[str, Any]) -> None:
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            self.messages.append({"role": "system", "content": parts_to_hub(content)})
        elif role == "user":
            self.messages.append({"role": "user", "content": parts_to_hub(content)})
        elif role == "assistant":
            self._assistant(message, content)
        elif role == "tool":
            call_id = message.get("tool_call_id")
            call_id = call_id if isinstance(call_id, str) else ""
            self._tool_result(call_id, content)
        elif role == "function":
            name = message.get("name")
            name = name if isinstance(name, str) else ""
            pending = self.legacy_ids.get(name)
            self._tool_result(pending.pop(0) if pending else new_call_id(), content, name)

    def _assistant(self, message: dict[str, Any], content: object) -> None:
        out: hub.Message = {"role": "assistant", "content": parts_to_hub(content)}
        reasoning = _reasoning_text(message)
        if reasoning:
            out["reasoning"] = [{"text": reasoning}]
        calls = _tool_calls(message.get("tool_calls"))
        legacy = message.get("function_call")
        if not calls and isinstance(legacy, dict):
            name = str(legacy.get("name") or "")
            call_id = new_call_id()
            self.legacy_ids.setdefault(name, []).append(call_id)
            arguments = _arguments(legacy.get("arguments"))
            calls = [{"id": call_id, "name": name, "arguments": arguments}]
        if calls:
            out["tool_calls"] = calls
            for call in calls:
                self.names_by_id[call["id"]] = call["name"]
        self.messages.append(out)

    def _tool_result(self, call_id: str, content: object, name: str = "") -> None:
        out: hub.Message = {
            "role": "tool",
            "content": parts_to_hub(content),
            "tool_call_id": call_id,
        }
        name = name or self.names_by_id.get(call_id, "")
        if name:
            out["name"] = name
        self.messages.append(out)


def _tools(body: dict[str, Any]) -> list[hub.Tool]:
    tools: list[hub.Tool] = []
    raw = body.get("tools")
    if isinstance(raw, list):
        # Only function tools: custom (free-form grammar) tools have no equivalent elsewhere.
        functions = [
            item["function"]
            for item in raw
            if isinstance(item, dict) and isinstance(item.get("function"), dict)
        ]
    else:
        legacy = body.get("functions")
        functions = [f for f in legacy if isinstance(f, dict)] if isinstance(legacy, list) else []
    for function in functions:
        parameters = function.get("parameters")
        tool: hub.Tool = {
            "name": str(function.get("name") or ""),
            "parameters": parameters if isinstance(parameters, dict) else {"type": "object"},
        }
        description = function.get("description")
        if isinstance(description, str):
            tool["description"] = description
        strict = function.get("strict")
        if isinstance(strict, bool):
            tool["strict"] = strict
        tools.append(tool)
    return tools


def _tool_choice(value: object) -> hub.ToolChoice | None:
    if isinstance(value, str):
        return value if value in _TOOL_CHOICES else None
    if isinstance(value, dict):
        function = value.get("function")
        # {"type": "function", "function": {"name"}} or legacy function_call {"name"}
        name = function.get("name") if isinstance(function, dict) else value.get("name")
        if isinstance(name, str) and name:
            return {"name": name}
    return None


def _response_format(value: object) -> hub.ResponseFormat | None:
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind in ("text", "json_object"):
        return {"type": kind}
    if kind != "json_schema":
        return None
    out: hub.ResponseFormat = {"type": "json_schema"}
    spec = value.get("json_schema")
    if isinstance(spec, dict):
        if isinstance(spec.get("name"), str):
            out["name"] = spec["name"]
        if isinstance(spec.get("schema"), dict):
            out["schema"] = spec["schema"]
        if isinstance(spec.get("strict"), bool):
            out["strict"] = spec["strict"]
    return out


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def request_to_hub(body: dict[str, Any]) -> hub.Request:
    reader = _MessageReader()
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if isinstance(message, dict):
                reader.read(message)
    request: hub.Request = {"messages": reader.messages}
    if isinstance(body.get("model"), str):
        request["model"] = body["model"]
    tools = _tools(body)
    if tools:
        request["tools"] = tools
    choice = _tool_choice(body.get("tool_choice", body.get("function_call")))
    if choice is not None:
        request["tool_choice"] = choice
    if isinstance(body.get("parallel_tool_calls"), bool):
        request["parallel_tool_calls"] = body["parallel_tool_calls"]
    limit = _count(body.get("max_completion_tokens"))
    if limit is None:
        limit = _count(body.get("max_tokens"))
    if limit is not None:
        request["max_tokens"] = limit
    temperature = _number(body.get("temperature"))
    if temperature is not None:
        request["temperature"] = temperature
    top_p = _number(body.get("top_p"))
    if top_p is not None:
        request["top_p"] = top_p
    top_k = _count(body.get("top_k"))  # not OpenAI's, but vLLM-style clients send it
    if top_k is not None:
        request["top_k"] = top_k
    stop = body.get("stop")
    if isinstance(stop, str):
        request["stop"] = [stop]
    elif isinstance(stop, list):
        request["stop"] = [s for s in stop if isinstance(s, str)]
    if isinstance(body.get("stream"), bool):
        request["stream"] = body["stream"]
    options = body.get("stream_options")
    if isinstance(options, dict) and isinstance(options.get("include_usage"), bool):
        request["include_usage"] = options["include_usage"]
    response_format = _response_format(body.get("response_format"))
    if response_format is not None:
        request["response_format"] = response_format
    effort = body.get("reasoning_effort")
    if isinstance(effort, str):
        request["reasoning"] = {"enabled": False} if effort == "none" else {"effort": effort}
    if isinstance(body.get("metadata"), dict):
        request["metadata"] = body["metadata"]
    if isinstance(body.get("user"), str):
        request["user"] = body["user"]
    return request
