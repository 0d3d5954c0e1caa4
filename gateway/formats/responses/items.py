"""Output items that also appear as input items (function calls, reasoning) → hub values."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub


def call_from_item(item: dict[str, Any]) -> hub.ToolCall | None:
    """A ``function_call`` item → hub tool call (the hub id is the ``call_id``)."""
    call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments")
    if not isinstance(call_id, str) or not isinstance(name, str):
        return None
    return {
        "id": call_id,
        "name": name,
        "arguments": arguments if isinstance(arguments, str) else "",
    }


def summary_text(item: dict[str, Any]) -> str:
    """A reasoning item's visible text: its summary parts joined by a blank line (or, from
    open-weight servers that send no summary, its raw ``reasoning_text`` content)."""
    for key in ("summary", "content"):
        parts = item.get(key)
        if isinstance(parts, list):
            texts = [
                p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)
            ]
            if texts:
                return "\n\n".join(texts)
    return ""


def reasoning_from_item(item: dict[str, Any]) -> hub.Reasoning:
    block: hub.Reasoning = {"text": summary_text(item)}
    signature = item.get("encrypted_content")
    if isinstance(signature, str) and signature:
        block["signature"] = signature
    if isinstance(item.get("id"), str):
        block["id"] = item["id"]
    return block
