"""Where each dialect's requests carry reasoning signatures back: the client's own fields,
read from its parsed body without translating it (the same-dialect path checks them against
the replay cache's origins, gateway/formats/replay.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def client_signatures(dialect: str, body: Mapping[str, Any]) -> Iterator[str]:
    """Every signature (and Anthropic redacted-thinking data) in a request of ``dialect``."""
    if dialect == "anthropic":
        for message in _dicts(body.get("messages")):
            for block in _dicts(message.get("content")):
                if block.get("type") == "thinking":
                    yield from _text(block.get("signature"))
                elif block.get("type") == "redacted_thinking":
                    yield from _text(block.get("data"))
    elif dialect == "gemini":
        for content in _dicts(body.get("contents")):
            for part in _dicts(content.get("parts")):
                yield from _text(part.get("thoughtSignature") or part.get("thought_signature"))
    elif dialect == "responses":
        for item in _dicts(body.get("input")):
            if item.get("type") == "reasoning":
                yield from _text(item.get("encrypted_content"))


def _dicts(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _text(value: object) -> Iterator[str]:
    if isinstance(value, str) and value:
        yield value
