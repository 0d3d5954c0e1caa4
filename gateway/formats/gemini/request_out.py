"""Hub request → a Gemini ``generateContent`` body (the gateway builds the URL: model, stream).

Rules that make multi-turn tool use work on Gemini:
- every result of one tool turn goes back in ONE user content (Gemini also wants as many
  functionResponse parts as the turn had functionCall parts: unanswered calls get an error
  result rather than a 400);
- the first functionCall part of a model turn carries a ``thoughtSignature`` (the call's own,
  else the turn's last reasoning signature, else Google's skip-validator placeholder);
- reasoning text is not sent back (Gemini accepts no thought text in history), only its
  signature, on the turn's last text part when no function call took it.
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.gemini.schema import to_gemini
from gateway.formats.gemini.wire import (
    EFFORT_BUDGET,
    SKIP_SIGNATURE,
    guess_image_type,
    is_base64,
    parse_arguments,
)

_UNANSWERED = {"error": "cancelled: no result was sent for this call"}


def request_from_hub(request: hub.Request) -> dict[str, Any]:
    body: dict[str, Any] = {}
    messages = request.get("messages", [])
    start = 0
    system: list[dict[str, Any]] = []
    while start < len(messages) and messages[start]["role"] == "system":
        system.extend(_text_parts(messages[start]["content"]))
        start += 1
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool call id → function name, for results without a name
    unanswered: list[hub.ToolCall] = []  # calls of the latest model turn without a result
    for message in messages[start:]:
        role = message["role"]
        if role == "tool":
            call_id = message.get("tool_call_id", "")
            unanswered = [c for c in unanswered if c["id"] != call_id]
            _append(contents, "user", _function_response(message, names))
            continue
        if unanswered:
            _append(contents, "user", [_missing_result(call) for call in unanswered])
            unanswered = []
        if role == "assistant":
            calls = message.get("tool_calls") or []
            for call in calls:
                names[call["id"]] = call["name"]
            unanswered = list(calls)
            _append(contents, "model", _model_parts(message, calls))
        else:  # user, or a system message after the first turn: user text
            _append(contents, "user", _user_parts(message["content"]))
    if unanswered and contents and contents[-1]["role"] == "user":  # some results, not all
        _append(contents, "user", [_missing_result(call) for call in unanswered])
    if system:
        if contents:
            body["systemInstruction"] = {"parts": system}
        else:  # Gemini needs at least one content: a lone system prompt becomes the user turn
            contents.append({"role": "user", "parts": system})
    body["contents"] = contents

    tools = request.get("tools")
    if tools:
        body["tools"] = [{"functionDeclarations": [_declaration(tool) for tool in tools]}]
        calling = _calling_config(request.get("tool_choice"))
        if calling is not None:
            body["toolConfig"] = {"functionCallingConfig": calling}
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    return body


def _append(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    """Gemini alternates roles: consecutive same-role turns become one content."""
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def _text_parts(content: list[hub.Part]) -> list[dict[str, Any]]:
    return [{"text": part["text"]} for part in content if part["type"] == "text" and part["text"]]


def _media(part: hub.ImagePart | hub.DocumentPart) -> dict[str, Any] | None:
    media_type = part.get("media_type")
    if "data" in part:
        default = "image/png" if part["type"] == "image" else "application/pdf"
        return {"inlineData": {"mimeType": media_type or default, "data": part["data"]}}
    url = part.get("url")
    if not url:
        return None
    file: dict[str, Any] = {"fileUri": url}
    mime = media_type or (guess_image_type(url) if part["type"] == "image" else None)
    if mime:
        file["mimeType"] = mime
    return {"fileData": file}


def _user_parts(content: list[hub.Part]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for part in content:
        if part["type"] == "text":
            if part["text"]:
                parts.append({"text": part["text"]})
        else:
            media = _media(part)
            if media is not None:
                parts.append(media)
    return parts


def _model_parts(message: hub.Message, calls: list[hub.ToolCall]) -> list[dict[str, Any]]:
    parts = _user_parts(message["content"])
    last_text = max((i for i, p in enumerate(parts) if "text" in p), default=-1)
    turn_signature = None
    for block in reversed(message.get("reasoning") or ()):
        signature = block.get("signature")
        if signature:
            turn_signature = signature if is_base64(signature) else None
            break
    for index, call in enumerate(calls):
        arguments = parse_arguments(call["arguments"])
        function: dict[str, Any] = {"name": call["name"], "args": arguments}
        if call["id"]:
            function["id"] = call["id"]
        part: dict[str, Any] = {"functionCall": function}
        signature = call.get("signature")
        if signature and is_base64(signature):
            part["thoughtSignature"] = signature
        elif index == 0:
            part["thoughtSignature"] = turn_signature or SKIP_SIGNATURE
            turn_signature = None  # used
        parts.append(part)
    if turn_signature and last_text >= 0:
        parts[last_text]["thoughtSignature"] = turn_signature
    return parts


def _tool_result(text: str, is_error: bool) -> dict[str, Any]:
    """Gemini wants an object: a JSON-object result is sent as is, other text as
    ``{"result": text}``; a failed call as ``{"error": ...}``."""
    if text[:1] == "{":
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            if not is_error or (len(value) == 1 and "error" in value):
                return value
            return {"error": value}
    return {"error": text} if is_error else {"result": text}


def _function_response(message: hub.Message, names: dict[str, str]) -> list[dict[str, Any]]:
    call_id = message.get("tool_call_id", "")
    name = message.get("name") or names.get(call_id) or "unknown_function"
    response: dict[str, Any] = {
        "name": name,
        "response": _tool_result(hub.text_of(message["content"]), message.get("is_error", False)),
    }
    if call_id:
        response["id"] = call_id
    parts: list[dict[str, Any]] = [{"functionResponse": response}]
    for part in message["content"]:
        if part["type"] != "text":  # images a tool returned: next to its result
            media = _media(part)
            if media is not None:
                parts.append(media)
    return parts


def _missing_result(call: hub.ToolCall) -> dict[str, Any]:
    response: dict[str, Any] = {"name": call["name"], "response": _UNANSWERED}
    if call["id"]:
        response["id"] = call["id"]
    return {"functionResponse": response}


def _declaration(tool: hub.Tool) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": tool["name"]}
    if "description" in tool:
        declaration["description"] = tool["description"]
    parameters = tool.get("parameters") or {}
    # A function without arguments is declared without parameters: Gemini rejects an
    # OBJECT schema with no properties at the top level.
    if parameters.get("properties") or parameters.get("anyOf") or parameters.get("$ref"):
        declaration["parameters"] = to_gemini(parameters)
    return declaration


def _calling_config(choice: hub.ToolChoice | None) -> dict[str, Any] | None:
    if choice is None:
        return None
    if isinstance(choice, dict):
        name = choice.get("name")
        if name:
            return {"mode": "ANY", "allowedFunctionNames": [name]}
        return None
    mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}.get(choice)
    return {"mode": mode} if mode else None


def _generation_config(request: hub.Request) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if "temperature" in request:
        config["temperature"] = request["temperature"]
    if "top_p" in request:
        config["topP"] = request["top_p"]
    if "top_k" in request:
        config["topK"] = request["top_k"]
    if "max_tokens" in request:
        config["maxOutputTokens"] = request["max_tokens"]
    if request.get("stop"):
        config["stopSequences"] = request["stop"]
    response_format = request.get("response_format")
    if response_format is not None and response_format["type"] != "text":
        config["responseMimeType"] = "application/json"
        schema = response_format.get("schema")
        if response_format["type"] == "json_schema" and schema:
            config["responseSchema"] = to_gemini(schema)
    thinking = _thinking_config(request.get("reasoning"), request.get("model", ""))
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def _thinking_config(reasoning: hub.ReasoningConfig | None, model: str) -> dict[str, Any] | None:
    if reasoning is None:
        return None
    if reasoning.get("enabled") is False:
        # Pro models cannot stop thinking (a zero budget is a 400); they just hide thoughts.
        return None if "-pro" in model else {"thinkingBudget": 0}
    budget = reasoning.get("budget_tokens")
    if budget is None and "effort" in reasoning:
        budget = EFFORT_BUDGET.get(reasoning["effort"])
    # includeThoughts so that the client can be shown the reasoning (and its signatures).
    config: dict[str, Any] = {"includeThoughts": True}
    if budget is not None:
        config["thinkingBudget"] = budget
    return config
