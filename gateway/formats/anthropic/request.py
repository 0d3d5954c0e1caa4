"""Anthropic Messages request body ⇄ hub request.

Reading keeps everything the hub can hold. Writing produces a body the API accepts whatever
the source dialect allowed: leading system messages go to ``system``, later ones become user
text; tool results of a turn share one user message (results first); roles alternate; the
first message is a user turn; empty text and unsigned reasoning are dropped; every tool_use
gets a tool_result and no tool_result is orphaned; ``max_tokens`` is always set.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.anthropic.content import block_to_part, part_to_block
from gateway.formats.anthropic.thinking import ThinkingPlan, adaptive_only, reasoning_to_hub

EXTENDED_CONTEXT_BETA = "context-1m-2025-08-07"
PLACEHOLDER_TEXT = "."  # a minimal user turn where the API needs one and the history has none
MISSING_RESULT = "(no result recorded)"  # answers a tool_use the history left unanswered


# Reading ------------------------------------------------------------------------------------


def request_to_hub(body: dict[str, Any]) -> hub.Request:
    request: hub.Request = {"messages": _messages_to_hub(body)}
    if isinstance(body.get("model"), str):
        request["model"] = body["model"]
    if isinstance(body.get("max_tokens"), int):
        request["max_tokens"] = body["max_tokens"]
    temperature, top_p = _number(body.get("temperature")), _number(body.get("top_p"))
    if temperature is not None:
        request["temperature"] = temperature
    if top_p is not None:
        request["top_p"] = top_p
    if isinstance(body.get("top_k"), int):
        request["top_k"] = body["top_k"]
    stops = body.get("stop_sequences")
    if isinstance(stops, list):
        request["stop"] = [s for s in stops if isinstance(s, str)]
    if isinstance(body.get("stream"), bool):
        request["stream"] = body["stream"]
    tools = _tools_to_hub(body.get("tools"))
    if tools:
        request["tools"] = tools
    _tool_choice_to_hub(body.get("tool_choice"), request)
    reasoning = reasoning_to_hub(body)
    if reasoning is not None:
        request["reasoning"] = reasoning
    response_format = _format_to_hub(body)
    if response_format is not None:
        request["response_format"] = response_format
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        request["user"] = metadata["user_id"]
    return request


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _messages_to_hub(body: dict[str, Any]) -> list[hub.Message]:
    out: list[hub.Message] = []
    system = _system_parts(body.get("system"))
    if system:
        out.append({"role": "system", "content": system})
    names: dict[str, str] = {}  # tool_use id → name, so tool messages can carry it (Gemini)
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            blocks = []
        role = message.get("role")
        if role == "assistant":
            out.append(_assistant_to_hub(blocks, names))
        elif role == "user":
            _user_to_hub(blocks, names, out)
        elif role == "system":  # not Anthropic, but harmless to accept
            out.append({"role": "system", "content": _parts(blocks)})
    return out


def _system_parts(system: Any) -> list[hub.Part]:
    if isinstance(system, str):
        return [{"type": "text", "text": system}] if system else []
    if isinstance(system, list):
        return [p for p in _parts(system) if p["type"] == "text"]
    return []


def _parts(blocks: list[Any]) -> list[hub.Part]:
    parts = []
    for block in blocks:
        part = block_to_part(block)
        if part is not None:
            parts.append(part)
    return parts


def _assistant_to_hub(blocks: list[Any], names: dict[str, str]) -> hub.Message:
    reasoning: list[hub.Reasoning] = []
    content: list[hub.Part] = []
    calls: list[hub.ToolCall] = []
    for block in blocks:
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
            call_id, name = str(block.get("id") or ""), str(block.get("name") or "")
            names[call_id] = name
            calls.append({"id": call_id, "name": name, "arguments": arguments_text(block)})
        # server_tool_use and server tool results: the hub has no form for them
    message: hub.Message = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning"] = reasoning
    if calls:
        message["tool_calls"] = calls
    return message


def arguments_text(block: dict[str, Any]) -> str:
    """A tool_use ``input`` as compact JSON text (the hub's form of arguments)."""
    value = block.get("input")
    if value is None:
        return "{}"
    return orjson.dumps(value).decode()


def _user_to_hub(blocks: list[Any], names: dict[str, str], out: list[hub.Message]) -> None:
    """Tool results first (one hub tool message each, in order), then the rest as one user
    message: that is the order Anthropic requires and the one every dialect can express."""
    rest: list[hub.Part] = []
    had_results = False
    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            had_results = True
            out.append(_tool_result_to_hub(block, names))
            continue
        part = block_to_part(block)
        if part is not None:
            rest.append(part)
    if rest or not had_results:
        out.append({"role": "user", "content": rest})


def _tool_result_to_hub(block: dict[str, Any], names: dict[str, str]) -> hub.Message:
    inner = block.get("content")
    if isinstance(inner, str):
        content: list[hub.Part] = [{"type": "text", "text": inner}]
    elif isinstance(inner, list):
        content = _parts(inner)
    else:
        content = []
    cache = block.get("cache_control")
    if isinstance(cache, dict) and content:
        # The hub has no message-level cache_control: the breakpoint rides on the last part
        # and is hoisted back onto the tool_result when written.
        content[-1]["cache_control"] = cache
    call_id = str(block.get("tool_use_id") or "")
    message: hub.Message = {"role": "tool", "content": content, "tool_call_id": call_id}
    if call_id in names:
        message["name"] = names[call_id]
    if block.get("is_error") is True:
        message["is_error"] = True
    return message


def _tools_to_hub(tools: Any) -> list[hub.Tool]:
    out: list[hub.Tool] = []
    if not isinstance(tools, list):
        return out
    for tool in tools:
        # Server tools (web_search_20250305, bash_..., text_editor_...) carry a versioned
        # ``type`` and run on Anthropic's side: no other dialect can run them, so they go.
        if not isinstance(tool, dict) or tool.get("type") not in (None, "custom"):
            continue
        name = tool.get("name")
        if not isinstance(name, str):
            continue
        schema = tool.get("input_schema")
        item: hub.Tool = {
            "name": name,
            "parameters": schema if isinstance(schema, dict) else {"type": "object"},
        }
        if isinstance(tool.get("description"), str):
            item["description"] = tool["description"]
        if isinstance(tool.get("strict"), bool):
            item["strict"] = tool["strict"]
        out.append(item)
    return out


def _tool_choice_to_hub(choice: Any, request: hub.Request) -> None:
    if not isinstance(choice, dict):
        return
    kind = choice.get("type")
    if kind == "auto":
        request["tool_choice"] = "auto"
    elif kind == "any":
        request["tool_choice"] = "required"
    elif kind == "none":
        request["tool_choice"] = "none"
    elif kind == "tool" and isinstance(choice.get("name"), str):
        request["tool_choice"] = {"name": choice["name"]}
    else:
        return
    if isinstance(choice.get("disable_parallel_tool_use"), bool):
        request["parallel_tool_calls"] = not choice["disable_parallel_tool_use"]


def _format_to_hub(body: dict[str, Any]) -> hub.ResponseFormat | None:
    output_config = body.get("output_config")
    spec = output_config.get("format") if isinstance(output_config, dict) else None
    if spec is None:
        spec = body.get("output_format")  # the beta spelling, still accepted by the API
    if isinstance(spec, dict) and spec.get("type") == "json_schema":
        schema = spec.get("schema")
        return {"type": "json_schema", "schema": schema if isinstance(schema, dict) else {}}
    return None


# Writing ------------------------------------------------------------------------------------


def request_from_hub(request: hub.Request) -> dict[str, Any]:
    model = request.get("model", "")
    system, messages = _messages_from_hub(request.get("messages", []))
    body: dict[str, Any] = {"model": model}
    if system:
        only = system[0]
        body["system"] = only["text"] if len(system) == 1 and len(only) == 2 else system
    body["messages"] = messages
    tools = [_tool_from_hub(tool) for tool in request.get("tools", ())]
    choice = _tool_choice_from_hub(request) if tools else None
    forced = choice is not None and choice["type"] in ("any", "tool")
    plan = ThinkingPlan(request.get("reasoning"), model, request.get("max_tokens"), forced)
    if plan.on and not _history_allows_thinking(messages):
        plan.drop()
    body["max_tokens"] = plan.max_tokens
    if plan.thinking is not None:
        body["thinking"] = plan.thinking
    _sampling_from_hub(request, body, thinking_on=plan.on, restricted=adaptive_only(model))
    if request.get("stop"):
        body["stop_sequences"] = list(request["stop"])
    if tools:
        body["tools"] = tools
    if choice is not None:
        body["tool_choice"] = choice
    output_config: dict[str, Any] = {}
    if plan.effort:
        output_config["effort"] = plan.effort
    response_format = request.get("response_format")
    if response_format and response_format.get("type") == "json_schema":
        output_config["format"] = {
            "type": "json_schema",
            "schema": response_format.get("schema") or {"type": "object"},
        }
    if output_config:
        body["output_config"] = output_config
    if request.get("user"):
        body["metadata"] = {"user_id": request["user"]}
    if "stream" in request:
        body["stream"] = request["stream"]
    return body


def upstream_headers(request: hub.Request) -> dict[str, str]:
    if request.get("extended_context"):
        return {"anthropic-beta": EXTENDED_CONTEXT_BETA}
    return {}


def _sampling_from_hub(
    request: hub.Request, body: dict[str, Any], *, thinking_on: bool, restricted: bool
) -> None:
    """Copy temperature / top_p / top_k where the API takes them: thinking allows only
    temperature 1 and top_p in [0.95, 1] and no top_k; Claude 4.7+ takes none of them."""
    if restricted:
        return
    temperature = request.get("temperature")
    if temperature is not None and (not thinking_on or temperature == 1):
        body["temperature"] = temperature
    top_p = request.get("top_p")
    if top_p is not None and (not thinking_on or 0.95 <= top_p <= 1):
        body["top_p"] = top_p
    top_k = request.get("top_k")
    if top_k is not None and not thinking_on:
        body["top_k"] = top_k


def _tool_from_hub(tool: hub.Tool) -> dict[str, Any]:
    schema = tool.get("parameters") or {}
    if schema.get("type") != "object":
        schema = {**schema, "type": "object"}  # input_schema must describe an object
    out: dict[str, Any] = {"name": tool["name"]}
    if tool.get("description"):
        out["description"] = tool["description"]
    out["input_schema"] = schema
    if "strict" in tool:
        out["strict"] = tool["strict"]
    return out


def _tool_choice_from_hub(request: hub.Request) -> dict[str, Any] | None:
    choice = request.get("tool_choice")
    parallel = request.get("parallel_tool_calls")
    out: dict[str, Any]
    if choice == "none":
        return {"type": "none"}  # takes no disable_parallel_tool_use
    if choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, dict) and choice.get("name"):
        out = {"type": "tool", "name": choice["name"]}
    elif choice == "auto" or parallel is False:
        out = {"type": "auto"}
    else:
        return None
    if parallel is not None:
        out["disable_parallel_tool_use"] = not parallel
    return out


def _messages_from_hub(
    messages: list[hub.Message],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    leading = True
    for message in messages:
        role = message["role"]
        if role == "system":
            if leading:
                system.extend(
                    b
                    for b in map(part_to_block, message["content"])
                    if b is not None and b["type"] == "text"
                )
            else:
                # Anthropic has no system turn mid-conversation: it becomes user text.
                text = hub.text_of(message["content"])
                if text.strip():
                    _append(out, "user", [{"type": "text", "text": "System: " + text}])
            continue
        leading = False
        if role == "user":
            _append(out, "user", _blocks(message["content"]))
        elif role == "tool":
            _append(out, "user", [_tool_result_from_hub(message)])
        elif role == "assistant":
            _append(out, "assistant", _assistant_blocks(message))
    _pair_tool_results(out)
    for turn in out:
        if turn["role"] == "user":
            _results_first(turn["content"])
    if not out or out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": PLACEHOLDER_TEXT}]})
    return system, out


def _append(out: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Add blocks as a turn, merging into the previous turn of the same role (the API wants
    strict alternation; a turn left empty is dropped)."""
    if not blocks:
        return
    if out and out[-1]["role"] == role:
        out[-1]["content"].extend(blocks)
    else:
        out.append({"role": role, "content": blocks})


def _blocks(parts: list[hub.Part]) -> list[dict[str, Any]]:
    return [b for b in map(part_to_block, parts) if b is not None]


def _assistant_blocks(message: hub.Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for item in message.get("reasoning", ()):
        if item.get("redacted"):
            blocks.append({"type": "redacted_thinking", "data": item["redacted"]})
        elif item.get("signature"):
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": item.get("text", ""),
                    "signature": item["signature"],
                }
            )
        # unsigned reasoning (OpenAI-compatible reasoning_content) is rejected by the API
    blocks.extend(b for b in _blocks(message["content"]) if b["type"] == "text")
    for call in message.get("tool_calls", ()):
        blocks.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": call["name"],
                "input": arguments_object(call["arguments"]),
            }
        )
    return blocks


def arguments_object(arguments: str) -> dict[str, Any]:
    """Hub arguments (JSON text) → the object Anthropic wants; ``{}`` when empty or not an
    object (a cut stream can leave half a JSON text)."""
    if not arguments:
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _tool_result_from_hub(message: hub.Message) -> dict[str, Any]:
    blocks = _blocks(message["content"])
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.get("tool_call_id", "")}
    cache = blocks[-1].pop("cache_control", None) if blocks else None
    if len(blocks) == 1 and blocks[0]["type"] == "text":
        block["content"] = blocks[0]["text"]
    elif blocks:
        block["content"] = blocks
    if message.get("is_error"):
        block["is_error"] = True
    if cache is not None:
        block["cache_control"] = cache
    return block


def _pair_tool_results(out: list[dict[str, Any]]) -> None:
    """Every tool_use must be answered in the very next user turn and every tool_result must
    answer the turn before it. Histories from other dialects break both (clients trim or
    reorder), so missing results get a stub and orphans become plain text."""
    expected: list[str] = []  # turns alternate (merged above): a user turn follows each call
    for message in out:
        if message["role"] == "assistant":
            expected = [b["id"] for b in message["content"] if b["type"] == "tool_use"]
            continue
        answered = set()
        blocks = message["content"]
        for position, block in enumerate(blocks):
            if block["type"] != "tool_result":
                continue
            if block["tool_use_id"] in expected and block["tool_use_id"] not in answered:
                answered.add(block["tool_use_id"])
            else:
                blocks[position] = _orphan_text(block)
        missing = [
            {"type": "tool_result", "tool_use_id": call_id, "content": MISSING_RESULT}
            for call_id in expected
            if call_id not in answered
        ]
        blocks[:0] = missing
        expected = []


def _orphan_text(block: dict[str, Any]) -> dict[str, Any]:
    content = block.get("content", "")
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if b.get("type") == "text")
    label = "Tool error" if block.get("is_error") else "Tool result"
    return {"type": "text", "text": f"{label} ({block['tool_use_id']}): {content}"}


def _results_first(blocks: list[dict[str, Any]]) -> None:
    """In a user turn the API wants tool_result blocks before any other block."""
    seen_other = False
    for block in blocks:
        if block["type"] != "tool_result":
            seen_other = True
        elif seen_other:
            blocks.sort(key=lambda b: b["type"] != "tool_result")  # stable
            return


def _history_allows_thinking(messages: list[dict[str, Any]]) -> bool:
    """With thinking on, an assistant turn that called tools and is being answered must
    start with its (signed) thinking block; a history from a dialect without signatures
    cannot, so that request goes without thinking rather than failing. A prefilled
    (trailing) assistant turn does not go with thinking either."""
    if messages[-1]["role"] == "assistant":
        return False
    for message in reversed(messages):
        if message["role"] != "assistant":
            continue
        blocks = message["content"]
        if not any(b["type"] == "tool_use" for b in blocks):
            return True
        return blocks[0]["type"] in ("thinking", "redacted_thinking")
    return True
