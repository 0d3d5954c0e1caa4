"""Content blocks ⇄ hub parts: text, image and document, shared by requests and responses.

Anthropic carries a document's text inline (``source.type: "text"``) while the hub keeps every
inline document as base64 ``data``, so text documents are encoded on the way in and decoded
on the way out. Blocks the hub has no part for (search results, file references, server-tool
blocks) are dropped.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from gateway.formats import hub

_PDF = "application/pdf"
_TEXT_PLAIN = "text/plain"


def _with_cache(part: Any, block: dict[str, Any]) -> Any:
    cache = block.get("cache_control")
    if isinstance(cache, dict):
        part["cache_control"] = cache
    return part


def block_to_part(block: Any) -> hub.Part | None:
    """One user-side block (message content or tool_result content) → a hub part, or None."""
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        part: hub.TextPart = _with_cache(
            {"type": "text", "text": text if isinstance(text, str) else ""}, block
        )
        return part
    if kind == "image":
        return _image_part(block)
    if kind == "document":
        return _document_part(block)
    return None


def _image_part(block: dict[str, Any]) -> hub.ImagePart | None:
    source = block.get("source")
    if not isinstance(source, dict):
        return None
    part: hub.ImagePart = {"type": "image"}
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        part["data"] = source["data"]
        if isinstance(source.get("media_type"), str):
            part["media_type"] = source["media_type"]
    elif source.get("type") == "url" and isinstance(source.get("url"), str):
        part["url"] = source["url"]
    else:
        return None  # file ids have no hub form
    result: hub.ImagePart = _with_cache(part, block)
    return result


def _document_part(block: dict[str, Any]) -> hub.DocumentPart | None:
    source = block.get("source")
    if not isinstance(source, dict):
        return None
    part: hub.DocumentPart = {"type": "document"}
    kind = source.get("type")
    data = source.get("data")
    if kind == "base64" and isinstance(data, str):
        media = source.get("media_type")
        part["media_type"] = media if isinstance(media, str) and media else _PDF
        part["data"] = data
    elif kind == "text" and isinstance(data, str):
        part["media_type"] = _TEXT_PLAIN
        part["data"] = base64.b64encode(data.encode()).decode()
    elif kind == "url" and isinstance(source.get("url"), str):
        part["url"] = source["url"]
    elif kind == "content" and isinstance(source.get("content"), (list, str)):
        # A "custom content" document: its text blocks become one plain-text document.
        inner = source["content"]
        text = (
            inner
            if isinstance(inner, str)
            else "".join(
                b.get("text", "") for b in inner if isinstance(b, dict) and b.get("type") == "text"
            )
        )
        part["media_type"] = _TEXT_PLAIN
        part["data"] = base64.b64encode(text.encode()).decode()
    else:
        return None
    title = block.get("title")
    if isinstance(title, str):
        part["title"] = title
    result: hub.DocumentPart = _with_cache(part, block)
    return result


def part_to_block(part: hub.Part) -> dict[str, Any] | None:
    """A hub part → an Anthropic block, or None when Anthropic cannot take it (empty text:
    the API rejects text blocks without non-whitespace text)."""
    block: dict[str, Any] | None
    if part["type"] == "text":
        text = part["text"]
        if not text or text.isspace():
            return None
        block = {"type": "text", "text": text}
    elif part["type"] == "image":
        block = _image_block(part)
    else:
        block = _document_block(part)
    if block is not None and "cache_control" in part:
        block["cache_control"] = part["cache_control"]
    return block


def _image_block(part: Any) -> dict[str, Any] | None:
    data = part.get("data")
    if data:
        media = part.get("media_type") or "image/png"
        return {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
    url = part.get("url")
    if not url:
        return None
    if url.startswith("data:"):
        # Tolerate a data: URL in ``url`` (the hub wants it split, not every client does).
        head, _, payload = url[5:].partition(",")
        media, _, encoding = head.partition(";")
        if encoding == "base64" and payload:
            return {
                "type": "image",
                "source": {"type": "base64", "media_type": media or "image/png", "data": payload},
            }
        return None
    return {"type": "image", "source": {"type": "url", "url": url}}


def _document_block(part: Any) -> dict[str, Any] | None:
    data = part.get("data")
    media = part.get("media_type") or _PDF
    source: dict[str, Any]
    if data:
        if media == _PDF:
            source = {"type": "base64", "media_type": _PDF, "data": data}
        elif media.startswith("text/"):
            try:
                text = base64.b64decode(data, validate=True).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return None
            source = {"type": "text", "media_type": _TEXT_PLAIN, "data": text}
        elif media.startswith("image/"):
            return {
                "type": "image",
                "source": {"type": "base64", "media_type": media, "data": data},
            }
        else:
            return None  # Anthropic documents are PDF or plain text only
    elif part.get("url"):
        source = {"type": "url", "url": part["url"]}
    else:
        return None
    block: dict[str, Any] = {"type": "document", "source": source}
    if "title" in part:
        block["title"] = part["title"]
    return block
