"""Gemini ``streamGenerateContent?alt=sse`` events → hub stream events.

Each SSE ``data`` is a whole ``GenerateContentResponse`` chunk. Function calls arrive whole,
so each becomes a ``tool_call_start`` plus one ``tool_call_delta`` with all its arguments.
``finishReason`` may sit on more than one trailing chunk and ``usageMetadata`` is repeated
(running totals), so both are held and given out in ``close()``: usage always (the latest),
the finish only if Gemini actually sent one (a cut stream gets no invented finish).
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.gemini.errors import error_from_object
from gateway.formats.gemini.response import usage_to_hub
from gateway.formats.gemini.wire import SKIP_SIGNATURE, finish_to_hub, new_call_id, seq
from gateway.formats.sse import SSEEvent


class GeminiStreamParser:
    __slots__ = ("_calls", "_done", "_finish", "_started", "_usage")

    def __init__(self) -> None:
        self._started = False
        self._done = False  # an error chunk ended the stream
        self._calls = 0
        self._finish: str | None = None
        self._usage: dict[str, Any] | None = None

    def feed(self, event: SSEEvent) -> list[hub.Event]:
        if self._done or not event.data:
            return []
        try:
            chunk = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            return []  # not a chunk (a stray line): nothing to translate
        if isinstance(chunk, list):  # a JSON-array framed body fed as one event
            events: list[hub.Event] = []
            for item in chunk:
                if isinstance(item, dict):
                    events.extend(self._chunk(item))
            return events
        return self._chunk(chunk) if isinstance(chunk, dict) else []

    def _chunk(self, chunk: dict[str, Any]) -> list[hub.Event]:
        error = chunk.get("error")
        if error is not None:
            self._done = True
            if not isinstance(error, dict):
                error = {"message": str(error)}
            return [{"type": "error", "error": error_from_object(error, 0)}]
        events: list[hub.Event] = []
        if not self._started:
            self._started = True
            events.append(
                {
                    "type": "start",
                    "id": str(chunk.get("responseId") or "resp_" + os.urandom(8).hex()),
                    "model": str(chunk.get("modelVersion") or ""),
                }
            )
        usage = chunk.get("usageMetadata")
        if isinstance(usage, dict):
            self._usage = usage
        candidates = seq(chunk.get("candidates"))
        if not candidates:
            feedback = chunk.get("promptFeedback")
            if isinstance(feedback, dict) and feedback.get("blockReason"):
                self._finish = "SAFETY"  # the prompt was blocked: no candidate at all
            return events
        candidate = candidates[0]
        if not isinstance(candidate, dict):
            return events
        content = candidate.get("content")
        if isinstance(content, dict):
            for part in seq(content.get("parts")):
                if isinstance(part, dict):
                    self._part(part, events)
        reason = candidate.get("finishReason")
        if reason:
            self._finish = str(reason)
        return events

    def _part(self, part: dict[str, Any], events: list[hub.Event]) -> None:
        signature = part.get("thoughtSignature")
        if signature == SKIP_SIGNATURE or not isinstance(signature, str):
            signature = None
        call = part.get("functionCall")
        if isinstance(call, dict):
            index = self._calls
            self._calls += 1
            start: hub.ToolCallStart = {
                "type": "tool_call_start",
                "index": index,
                "id": str(call.get("id") or new_call_id()),
                "name": str(call.get("name") or ""),
            }
            if signature:
                start["signature"] = signature
            args = call.get("args")
            events.append(start)
            events.append(
                {
                    "type": "tool_call_delta",
                    "index": index,
                    "arguments": orjson.dumps(args if isinstance(args, dict) else {}).decode(),
                }
            )
            return
        text = part.get("text")
        if part.get("thought") is True:
            if text:
                events.append({"type": "reasoning_delta", "text": text})
            if signature:
                events.append({"type": "reasoning_signature", "signature": signature})
            return
        # A signature on an answer part closes the reasoning before that answer text.
        if signature:
            events.append({"type": "reasoning_signature", "signature": signature})
        if isinstance(text, str) and text:
            events.append({"type": "text_delta", "text": text})

    def close(self) -> list[hub.Event]:
        if self._done:
            return []
        self._done = True
        events: list[hub.Event] = []
        if self._usage is not None:
            events.append({"type": "usage", "usage": usage_to_hub(self._usage)})
        if self._finish is not None:
            reason = finish_to_hub(self._finish, self._calls > 0)
            events.append({"type": "finish", "reason": reason})
        return events
