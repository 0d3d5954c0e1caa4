"""The configured system prompt, put before the client's own, in the client's dialect.

Each function returns a new body (the client's is never mutated); the client's text follows
the configured text after a blank line. Rules per dialect: docs/routing.md "Behaviour
controls".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SEPARATOR = "\n\n"
_INSTRUCTION_ROLES = ("system", "developer")

Body = dict[str, Any]


def _before(prefix: str, text: str) -> str:
    return f"{prefix}{SEPARATOR}{text}" if text else prefix


def _merged_parts(parts: list[Any], prefix: str) -> list[Any]:
    """OpenAI content parts with the prefix merged into a leading text part (no part
    boundary has to stand for the blank line), else in a text part of its own first."""
    first = parts[0]
    if (
        isinstance(first, dict)
        and first.get("type") == "text"
        and isinstance(first.get("text"), str)
    ):
        return [{**first, "text": _before(prefix, first["text"])}, *parts[1:]]
    return [{"type": "text", "text": prefix}, *parts]


def openai_chat(body: Body, prefix: str) -> Body:
    """``messages``: merged into a leading system or developer message (keeping its role),
    else a new leading message — ``developer`` when the client speaks in developer messages
    (newer OpenAI models), ``system`` otherwise."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return body
    first = messages[0] if messages else None
    if isinstance(first, dict) and first.get("role") in _INSTRUCTION_ROLES:
        content = first.get("content")
        if isinstance(content, list) and content:
            merged: Any = _merged_parts(content, prefix)
        else:
            merged = _before(prefix, content if isinstance(content, str) else "")
        return {**body, "messages": [{**first, "content": merged}, *messages[1:]]}
    developer = any(isinstance(m, dict) and m.get("role") == "developer" for m in messages)
    leading = {"role": "developer" if developer else "system", "content": prefix}
    return {**body, "messages": [leading, *messages]}


def anthropic(body: Body, prefix: str) -> Body:
    """``system``: a string gets the prefix in front; a list of blocks gets a text block of
    its own first, so the client's blocks (and their ``cache_control``) stay as they were."""
    system = body.get("system")
    if isinstance(system, list) and system:
        return {**body, "system": [{"type": "text", "text": prefix}, *system]}
    return {**body, "system": _before(prefix, system if isinstance(system, str) else "")}


def gemini(body: Body, prefix: str) -> Body:
    """``systemInstruction`` (or ``system_instruction``, whichever the client used): the
    prefix merged into its first text part, else a new ``{"parts": [{"text": …}]}``."""
    key = "system_instruction" if "system_instruction" in body else "systemInstruction"
    system = body.get(key)
    if isinstance(system, str):
        return {**body, key: _before(prefix, system)}
    if isinstance(system, dict) and isinstance(system.get("parts"), list) and system["parts"]:
        parts = system["parts"]
        first = parts[0]
        if (
            isinstance(first, dict)
            and isinstance(first.get("text"), str)
            and not first.get("thought")
        ):
            merged = [{**first, "text": _before(prefix, first["text"])}, *parts[1:]]
        else:
            merged = [{"text": prefix}, *parts]
        return {**body, key: {**system, "parts": merged}}
    return {**body, key: {"parts": [{"text": prefix}]}}


def responses(body: Body, prefix: str) -> Body:
    """``instructions``: the prefix in front of the client's string; instructions given as
    input items get a leading system message item."""
    instructions = body.get("instructions")
    if isinstance(instructions, list) and instructions:
        item = {"type": "message", "role": "system", "content": prefix}
        return {**body, "instructions": [item, *instructions]}
    text = instructions if isinstance(instructions, str) else ""
    return {**body, "instructions": _before(prefix, text)}


BY_DIALECT: dict[str, Callable[[Body, str], Body]] = {
    "openai": openai_chat,
    "anthropic": anthropic,
    "gemini": gemini,
    "responses": responses,
}
