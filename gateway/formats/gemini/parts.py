"""Gemini model parts → hub content, reasoning and tool calls (request history and responses).

The signature rules live here once: consecutive thought parts form one reasoning block until
a ``thoughtSignature`` closes it; a signature on a ``functionCall`` part is that call's; a
signature on an answer (text) part belongs to the turn's reasoning — the last block still
without one, else a new empty-text block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.gemini.wire import SKIP_SIGNATURE, get, guess_image_type


def media_part(part: dict[str, Any]) -> hub.Part | None:
    """inlineData / fileData → hub image (image/* types) or document (anything else)."""
    blob = get(part, "inlineData", "inline_data")
    if isinstance(blob, dict):
        mime = str(get(blob, "mimeType", "mime_type") or "")
        data = str(blob.get("data") or "")
        if mime.startswith("image/"):
            return {"type": "image", "media_type": mime, "data": data}
        return {"type": "document", "media_type": mime, "data": data}
    file = get(part, "fileData", "file_data")
    if isinstance(file, dict):
        uri = str(get(file, "fileUri", "file_uri") or "")
        mime = get(file, "mimeType", "mime_type")
        if mime:
            is_image = str(mime).startswith("image/")
        else:
            is_image = guess_image_type(uri) is not None
        if is_image:
            image: hub.ImagePart = {"type": "image", "url": uri}
            if mime:
                image["media_type"] = str(mime)
            return image
        document: hub.DocumentPart = {"type": "document", "url": uri}
        if mime:
            document["media_type"] = str(mime)
        return document
    return None


class PartFolder:
    """Folds the parts of one model turn. ``make_id(part_index, name)`` names a call that came
    without an id; ``merge_text`` joins consecutive text parts (one answer in a response)."""

    __slots__ = ("_make_id", "_merge_text", "_open", "calls", "content", "reasoning")

    def __init__(self, make_id: Callable[[int, str], str], *, merge_text: bool) -> None:
        self._make_id = make_id
        self._merge_text = merge_text
        self._open = False  # the last reasoning block still takes thought text
        self.content: list[hub.Part] = []
        self.reasoning: list[hub.Reasoning] = []
        self.calls: list[hub.ToolCall] = []

    def add(self, part: dict[str, Any], index: int) -> None:
        signature = get(part, "thoughtSignature", "thought_signature")
        if signature == SKIP_SIGNATURE or not isinstance(signature, str):
            signature = None  # our own placeholder, or junk: nothing to replay
        call = get(part, "functionCall", "function_call")
        if isinstance(call, dict):
            name = str(call.get("name") or "")
            args = call.get("args")
            tool_call: hub.ToolCall = {
                "id": str(call.get("id") or self._make_id(index, name)),
                "name": name,
                "arguments": orjson.dumps(args if isinstance(args, dict) else {}).decode(),
            }
            if signature:
                tool_call["signature"] = signature
            self.calls.append(tool_call)
            return
        text = part.get("text")
        if part.get("thought") is True:
            text = text if isinstance(text, str) else ""
            if self._open:
                self.reasoning[-1]["text"] += text
            else:
                self.reasoning.append({"text": text})
                self._open = True
            if signature:
                self.reasoning[-1]["signature"] = signature
                self._open = False
            return
        if signature:
            if self.reasoning and "signature" not in self.reasoning[-1]:
                self.reasoning[-1]["signature"] = signature
            else:
                self.reasoning.append({"text": "", "signature": signature})
            self._open = False
        if isinstance(text, str):
            if text:
                last = self.content[-1] if self.content else None
                if self._merge_text and last is not None and last["type"] == "text":
                    last["text"] += text
                else:
                    self.content.append({"type": "text", "text": text})
            return
        media = media_part(part)
        if media is not None:
            self.content.append(media)
