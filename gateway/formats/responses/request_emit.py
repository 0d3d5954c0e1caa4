"""Hub request → a Responses request body for an upstream that speaks ``/v1/responses``.

Stateless on purpose: ``store`` is always false (the gateway never refers back to a stored
response, and should not leave conversations at the provider), so the whole history travels
in ``input`` and reasoning comes back encrypted (``include``) to be replayed on later turns.
"""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.responses.parts import input_parts
from gateway.formats.responses.settings import (
    reasoning_from_hub,
    text_from_hub,
    tool_choice_from_hub,
    tools_from_hub,
)

ENCRYPTED_REASONING = "reasoning.encrypted_content"
MIN_OUTPUT_TOKENS = 16  # the API rejects max_output_tokens below this
ERROR_PREFIX = "Error: "  # as the OpenAI Chat emitter writes a failed tool result


def request_from_hub(request: hub.Request) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if "model" in request:
        body["model"] = request["model"]
    instructions, items, replays_reasoning = _input(request.get("messages", []))
    if instructions is not None:
        body["instructions"] = instructions
    body["input"] = items
    if request.get("tools"):
        body["tools"] = tools_from_hub(request["tools"])
    if "tool_choice" in request:
        body["tool_choice"] = tool_choice_from_hub(request["tool_choice"])
    if "parallel_tool_calls" in request:
        body["parallel_tool_calls"] = request["parallel_tool_calls"]
    if "max_tokens" in request:
        body["max_output_tokens"] = max(request["max_tokens"], MIN_OUTPUT_TOKENS)
    if "temperature" in request:
        body["temperature"] = request["temperature"]
    if "top_p" in request:
        body["top_p"] = request["top_p"]
    if "response_format" in request:
        body["text"] = text_from_hub(request["response_format"])
    reasoning = reasoning_from_hub(request.get("reasoning"))
    if reasoning is not None:
        body["reasoning"] = reasoning
    # No metadata: with store=false there is nothing to attach it to, and OpenAI refuses
    # metadata without store on Chat Completions ("only allowed when 'store' is enabled").
    if "user" in request:
        body["user"] = request["user"]
    body["store"] = False
    # Asking for encrypted reasoning from a model without reasoning is a 400, so only when
    # reasoning is on or already in the history.
    if (
        replays_reasoning
        or (reasoning is not None and reasoning.get("effort") != "none")
        or (request.get("reasoning", {}).get("enabled") is True)
    ):
        body["include"] = [ENCRYPTED_REASONING]
    if "stream" in request:
        body["stream"] = request["stream"]
    return body


def _input(messages: list[hub.Message]) -> tuple[str | None, list[dict[str, Any]], bool]:
    """(instructions, input items, whether reasoning is replayed).

    The first system message becomes ``instructions`` when it is plain text; every other
    system message stays in place as a ``developer`` message (Responses accepts them anywhere).
    """
    instructions: str | None = None
    start = 0
    if messages and messages[0]["role"] == "system":
        content = messages[0]["content"]
        if len(content) == 1 and content[0]["type"] == "text" and content[0]["text"]:
            instructions = content[0]["text"]
            start = 1
    items: list[dict[str, Any]] = []
    replays = False
    for message in messages[start:]:
        role = message["role"]
        if role == "assistant":
            replays = _assistant(message, items) or replays
        elif role == "tool":
            items.append(_tool_output(message))
        else:
            items.append(
                {
                    "type": "message",
                    "role": "developer" if role == "system" else "user",
                    "content": input_parts(message["content"]),
                }
            )
    return instructions, items, replays


def _assistant(message: hub.Message, items: list[dict[str, Any]]) -> bool:
    """Append one assistant turn as items: reasoning, then the message, then function calls."""
    replays = False
    for block in message.get("reasoning", ()):
        signature = block.get("signature")
        if not signature:
            continue  # without encrypted_content a reasoning item cannot be replayed
        # No item id: with store=false OpenAI looks ids up and fails ("Item with id 'rs_...'
        # not found"); Codex CLI sends its reasoning items without ids for the same reason.
        text = block["text"]
        items.append(
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": text}] if text else [],
                "encrypted_content": signature,
            }
        )
        replays = True
    texts = [
        {"type": "output_text", "text": part["text"]}
        for part in message["content"]
        if part["type"] == "text"
    ]
    if texts:
        items.append({"type": "message", "role": "assistant", "content": texts})
    for call in message.get("tool_calls", ()):
        items.append(
            {
                "type": "function_call",
                "call_id": call["id"],
                "name": call["name"],
                "arguments": call["arguments"],
            }
        )
    return replays


def _tool_output(message: hub.Message) -> dict[str, Any]:
    content = message["content"]
    output: str | list[dict[str, Any]]
    if not content:
        output = ""
    elif len(content) == 1 and content[0]["type"] == "text":
        output = content[0]["text"]
    else:
        output = input_parts(content)
    if message.get("is_error"):  # no is_error field: a failed tool says so in its text
        if isinstance(output, str):
            output = ERROR_PREFIX + output
        else:
            output.insert(0, {"type": "input_text", "text": ERROR_PREFIX})
    return {
        "type": "function_call_output",
        "call_id": message.get("tool_call_id", ""),
        "output": output,
    }
