"""A Gemini ``generateContent`` request body → hub request.

The model and the stream flag live in the URL, so they are left for the server to fill.
Every field is read in camelCase or snake_case (Google's proto-JSON parser accepts both).
"""

from __future__ import annotations

from typing import Any, TypeGuard

import orjson

from gateway.formats import hub
from gateway.formats.gemini.parts import PartFolder, media_part
from gateway.formats.gemini.schema import from_gemini
from gateway.formats.gemini.wire import get, history_call_id, seq


def request_to_hub(body: dict[str, Any]) -> hub.Request:
    request: hub.Request = {}
    messages: list[hub.Message] = []
    system = get(body, "systemInstruction", "system_instruction")
    if system is not None:
        parts = _system_parts(system)
        if parts:
            messages.append({"role": "system", "content": parts})
    # Function name → ids of the last model turn's calls still waiting for a result.
    pending: dict[str, list[str]] = {}
    contents = body.get("contents")
    contents = [contents] if isinstance(contents, dict) else seq(contents)
    for index, content in enumerate(contents):
        if not isinstance(content, dict):
            continue
        parts = seq(content.get("parts"))
        if content.get("role") == "model":
            pending.clear()  # results answer the turn right before them
            message = _model_message(parts, index, pending)
            if message is not None:
                messages.append(message)
        else:
            _user_messages(parts, messages, pending)
    request["messages"] = messages

    tools = _tools(body.get("tools"))
    if tools:
        request["tools"] = tools
    choice = _tool_choice(get(body, "toolConfig", "tool_config"))
    if choice is not None:
        request["tool_choice"] = choice
    config = get(body, "generationConfig", "generation_config")
    if isinstance(config, dict):
        _generation_config(config, request)
    return request


def _system_parts(system: Any) -> list[hub.Part]:
    if isinstance(system, str):
        return [{"type": "text", "text": system}] if system else []
    if not isinstance(system, dict):
        return []
    return [
        {"type": "text", "text": part["text"]}
        for part in seq(system.get("parts"))
        if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"]
    ]


def _model_message(
    parts: list[Any], index: int, pending: dict[str, list[str]]
) -> hub.Message | None:
    folder = PartFolder(lambda part, name: history_call_id(index, part, name), merge_text=False)
    for part_index, part in enumerate(parts):
        if isinstance(part, dict):
            folder.add(part, part_index)
    if not folder.content and not folder.reasoning and not folder.calls:
        return None
    for call in folder.calls:
        pending.setdefault(call["name"], []).append(call["id"])
    message: hub.Message = {"role": "assistant", "content": folder.content}
    if folder.reasoning:
        message["reasoning"] = folder.reasoning
    if folder.calls:
        message["tool_calls"] = folder.calls
    return message


def _user_messages(
    parts: list[Any], messages: list[hub.Message], pending: dict[str, list[str]]
) -> None:
    """One user content → hub messages in order: each functionResponse is a tool message,
    the other parts between them user messages."""
    current: list[hub.Part] = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        response = get(part, "functionResponse", "function_response")
        if isinstance(response, dict):
            if current:
                messages.append({"role": "user", "content": current})
                current = []
            messages.append(_tool_message(response, pending))
            continue
        text = part.get("text")
        if isinstance(text, str):
            if text and part.get("thought") is not True:
                current.append({"type": "text", "text": text})
            continue
        media = media_part(part)
        if media is not None:
            current.append(media)
    if current:
        messages.append({"role": "user", "content": current})


def _tool_message(response: dict[str, Any], pending: dict[str, list[str]]) -> hub.Message:
    name = str(response.get("name") or "")
    call_id: Any = response.get("id")
    owner = next((ids for ids in pending.values() if call_id in ids), None) if call_id else None
    if owner is not None:
        owner.remove(call_id)
    elif waiting := pending.get(name):
        # Gemini CLI answers id-less calls with ids of its own ("read_file-<time>-<hex>"):
        # the call's id (already in the hub) wins, paired by name in call order.
        call_id = waiting.pop(0)
    result = response.get("response")
    content: list[hub.Part] = [
        {"type": "text", "text": orjson.dumps(result if result is not None else {}).decode()}
    ]
    # Multimodal function results (images, files) travel as extra parts of the result.
    for extra in seq(response.get("parts")):
        media = media_part(extra) if isinstance(extra, dict) else None
        if media is not None:
            content.append(media)
    message: hub.Message = {"role": "tool", "content": content, "name": name}
    if call_id:
        message["tool_call_id"] = str(call_id)
    if isinstance(result, dict) and len(result) == 1 and "error" in result:
        message["is_error"] = True
    return message


def _tools(tools: Any) -> list[hub.Tool]:
    out: list[hub.Tool] = []
    for tool in seq(tools):
        if not isinstance(tool, dict):
            continue
        # googleSearch, codeExecution, urlContext, ... are Gemini-side tools: not portable.
        for declaration in seq(get(tool, "functionDeclarations", "function_declarations")):
            if not isinstance(declaration, dict):
                continue
            parameters = get(declaration, "parametersJsonSchema", "parameters_json_schema")
            if not isinstance(parameters, dict):
                schema = declaration.get("parameters")
                parameters = from_gemini(schema) if isinstance(schema, dict) else {}
            hub_tool: hub.Tool = {
                "name": str(declaration.get("name") or ""),
                "parameters": parameters or {"type": "object"},
            }
            description = declaration.get("description")
            if isinstance(description, str):
                hub_tool["description"] = description
            out.append(hub_tool)
    return out


def _tool_choice(config: Any) -> hub.ToolChoice | None:
    if not isinstance(config, dict):
        return None
    calling = get(config, "functionCallingConfig", "function_calling_config")
    if not isinstance(calling, dict):
        return None
    mode = str(calling.get("mode") or "").upper()
    if mode == "NONE":
        return "none"
    if mode == "ANY":
        names = seq(get(calling, "allowedFunctionNames", "allowed_function_names"))
        if len(names) == 1:
            return {"name": str(names[0])}
        return "required"
    if mode in ("AUTO", "VALIDATED"):
        return "auto"
    return None


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _generation_config(config: dict[str, Any], request: hub.Request) -> None:
    temperature = config.get("temperature")
    if _number(temperature):
        request["temperature"] = float(temperature)
    top_p = get(config, "topP", "top_p")
    if _number(top_p):
        request["top_p"] = float(top_p)
    top_k = get(config, "topK", "top_k")
    if _number(top_k):
        request["top_k"] = int(top_k)
    max_tokens = get(config, "maxOutputTokens", "max_output_tokens")
    if _number(max_tokens):
        request["max_tokens"] = int(max_tokens)
    stop = get(config, "stopSequences", "stop_sequences")
    if isinstance(stop, list) and stop:
        request["stop"] = [str(s) for s in stop]
    response_format = _response_format(config)
    if response_format is not None:
        request["response_format"] = response_format
    thinking = get(config, "thinkingConfig", "thinking_config")
    if isinstance(thinking, dict):
        reasoning = _reasoning(thinking)
        if reasoning:
            request["reasoning"] = reasoning


def _response_format(config: dict[str, Any]) -> hub.ResponseFormat | None:
    mime = get(config, "responseMimeType", "response_mime_type")
    json_schema = get(config, "responseJsonSchema", "response_json_schema")
    if isinstance(json_schema, dict):
        return {"type": "json_schema", "schema": json_schema}
    schema = get(config, "responseSchema", "response_schema")
    if isinstance(schema, dict) and mime in (None, "application/json"):
        return {"type": "json_schema", "schema": from_gemini(schema)}
    if mime == "application/json":
        return {"type": "json_object"}
    return None


def _reasoning(thinking: dict[str, Any]) -> hub.ReasoningConfig:
    reasoning: hub.ReasoningConfig = {}
    budget = get(thinking, "thinkingBudget", "thinking_budget")
    level = get(thinking, "thinkingLevel", "thinking_level")
    include = get(thinking, "includeThoughts", "include_thoughts")
    if _number(budget):
        if budget == 0:
            return {"enabled": False}
        reasoning["enabled"] = True
        if budget > 0:
            reasoning["budget_tokens"] = int(budget)
    if isinstance(level, str) and level.upper() != "THINKING_LEVEL_UNSPECIFIED":
        reasoning["enabled"] = True
        effort = level.lower()
        reasoning["effort"] = "high" if effort == "xhigh" else effort
    if include is True and not reasoning:
        reasoning["enabled"] = True
    return reasoning
