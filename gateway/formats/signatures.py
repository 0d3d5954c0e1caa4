"""Where each dialect's requests carry reasoning signatures back: the client's own fields,
read from its parsed body without translating it (the same-dialect path checks them against
the replay cache's origins, gateway/formats/replay.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def client_signatures(dialect: str, body: Mapping[str, Any]) -> list[str]:
    """Every signature (and Anthropic redacted-thinking data) in a request of ``dialect``.
    Plain loops: this walks every block of long agent histories."""
    found: list[str] = []
    if dialect == "anthropic":
        for message in _list(body.get("messages")):
            content = message.get("content") if isinstance(message, dict) else None
            for block in _list(content):
                if not isinstance(block, dict):
                    continue
                kind = block.get("type")
                if kind == "thinking":
                    _add(found, block.get("signature"))
                elif kind == "redacted_thinking":
                    _add(found, block.get("data"))
    elif dialect == "gemini":
        for content in _list(body.get("contents")):
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in _list(parts):
                if isinstance(part, dict):
                    _add(found, part.get("thoughtSignature") or part.get("thought_signature"))
    elif dialect == "responses":
        for item in _list(body.get("input")):
            if isinstance(item, dict) and item.get("type") == "reasoning":
                _add(found, item.get("encrypted_content"))
    return found


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _add(found: list[str], value: object) -> None:
    if isinstance(value, str) and value:
        found.append(value)
