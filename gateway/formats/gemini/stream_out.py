"""Hub stream events → a Gemini ``streamGenerateContent`` response body, in either framing.

- SSE (``alt=sse``, what the SDKs and Gemini CLI ask for): ``data: <chunk>\\r\\n\\r\\n`` per
  chunk, no terminator event: the body just ends.
- JSON array (no ``alt``): ``[`` + chunk, then ``\\n,\\r\\n`` + chunk, then ``\\n]``.

Every chunk is a ``GenerateContentResponse``. Text and thought deltas go out at once. Tool
calls are held until the turn ends (finish or close) and then sent whole, all in one chunk,
as Gemini sends parallel calls: Gemini has no argument fragments, and holding them all makes
interleaved fragments of parallel calls (or a repeated start) harmless. A reasoning signature
rides on the next answer part, as Gemini places it. The finish and usage are held too: the
last chunk, written by ``close()``, carries ``finishReason`` and ``usageMetadata`` (so text
or usage arriving after the finish still lands in order). An error becomes one
``{"error": {...}}`` object (bare JSON in SSE mode, as Google sends it) and ends the body.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.gemini.errors import error_object
from gateway.formats.gemini.response import call_part, usage_from_hub
from gateway.formats.gemini.wire import FINISH_FROM_HUB, is_base64, new_call_id, parse_arguments

_TEXT_HEAD = b'{"candidates":[{"content":{"role":"model","parts":[{"text":'
_TEXT_TAIL = b'}]},"index":0}]'
_THOUGHT_TAIL = b',"thought":true}]},"index":0}]'
_SSE_HEAD = b"data: "
_SSE_TAIL = b"\r\n\r\n"
_ARRAY_OPEN = b"["
_ARRAY_NEXT = b"\n,\r\n"
_ARRAY_CLOSE = b"\n]"
# A blank line: valid SSE (dispatches nothing) that every Gemini SDK skips. An SSE comment
# (": ...") is NOT safe: google-genai (Python) reads a non-"data:" line as raw JSON and fails.
_SSE_KEEPALIVE = b"\r\n"
_ARRAY_KEEPALIVE = b"\n"  # JSON whitespace


class _Call:
    __slots__ = ("arguments", "id", "name", "signature")

    def __init__(self, call_id: str, name: str, signature: str | None) -> None:
        self.id = call_id
        self.name = name
        self.signature = signature
        self.arguments: list[str] = []


class GeminiStreamEmitter:
    """One per stream. ``json_array=True`` for clients that did not ask for ``alt=sse``."""

    __slots__ = (
        "_calls",
        "_closed",
        "_finish",
        "_id",
        "_json_array",
        "_model",
        "_opened",
        "_saw_calls",
        "_signature",
        "_tail",
        "_usage",
    )

    def __init__(self, request: hub.Request, *, json_array: bool = False) -> None:
        self._json_array = json_array
        self._model = request.get("model", "")
        self._id = ""
        self._tail = b""  # ',"modelVersion":..,"responseId":..}' once known
        self._opened = False  # array mode: "[" sent
        self._closed = False
        self._calls: dict[int, _Call] = {}
        self._saw_calls = False
        self._signature: str | None = None  # waits for the next answer part
        self._finish: hub.FinishReason | None = None
        self._usage: hub.Usage | None = None

    # Framing ---------------------------------------------------------------------------

    def _frame(self, chunk: bytes) -> bytes:
        if not self._json_array:
            return _SSE_HEAD + chunk + _SSE_TAIL
        if self._opened:
            return _ARRAY_NEXT + chunk
        self._opened = True
        return _ARRAY_OPEN + chunk

    def _chunk_tail(self) -> bytes:
        if not self._tail:
            if not self._id:
                self._id = "resp_" + os.urandom(8).hex()
            self._tail = (
                b',"modelVersion":'
                + orjson.dumps(self._model)
                + b',"responseId":'
                + orjson.dumps(self._id)
                + b"}"
            )
        return self._tail

    def _parts_chunk(
        self,
        parts: list[dict[str, Any]],
        finish: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> bytes:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}}
        if finish is not None:
            candidate["finishReason"] = finish
        candidate["index"] = 0
        body: dict[str, Any] = {"candidates": [candidate]}
        if usage is not None:
            body["usageMetadata"] = usage
        # Drop the closing brace: the shared tail adds modelVersion and responseId.
        return self._frame(orjson.dumps(body)[:-1] + self._chunk_tail())

    # Events ----------------------------------------------------------------------------

    def feed(self, event: hub.Event) -> bytes:
        if self._closed:
            return b""
        if event["type"] == "text_delta":
            text = event["text"]
            if not text:
                return b""
            if self._signature is not None:
                part = {"text": text, "thoughtSignature": self._signature}
                self._signature = None
                return self._parts_chunk([part])
            return self._frame(_TEXT_HEAD + orjson.dumps(text) + _TEXT_TAIL + self._chunk_tail())
        if event["type"] == "reasoning_delta":
            if not event["text"]:
                return b""
            out = self._flush_signature()
            head = _TEXT_HEAD + orjson.dumps(event["text"]) + _THOUGHT_TAIL
            return out + self._frame(head + self._chunk_tail())
        if event["type"] == "tool_call_start":
            self._saw_calls = True
            known = self._calls.get(event["index"])
            if known is None:
                self._calls[event["index"]] = _Call(
                    event["id"], event["name"], event.get("signature")
                )
            else:  # a repeated start for the same call: fill in, never start it over
                known.id = known.id or event["id"]
                known.name = known.name or event["name"]
                known.signature = known.signature or event.get("signature")
            return b""
        if event["type"] == "tool_call_delta":
            call = self._calls.get(event["index"])
            if call is None:  # arguments with no start: keep them under a fresh id
                call = self._calls[event["index"]] = _Call(new_call_id(), "", None)
                self._saw_calls = True
            call.arguments.append(event["arguments"])
            return b""
        if event["type"] == "reasoning_signature":
            signature = event["signature"]
            if not is_base64(signature):
                return b""  # the SDK would reject the whole chunk
            out = self._flush_signature()
            self._signature = signature
            return out
        if event["type"] == "finish":
            # Held for close(): content may still follow, and usage often comes after it.
            if self._finish is None:
                self._finish = event["reason"]
            return b""
        if event["type"] == "usage":
            self._usage = event["usage"]
            return b""
        if event["type"] == "start":
            if not self._tail:
                self._id = event["id"]
                self._model = event["model"] or self._model
            return b""
        if event["type"] == "error":
            return self._error(event["error"])
        return b""  # redacted_reasoning: Gemini has no place for it

    def _flush_signature(self) -> bytes:
        if self._signature is None:
            return b""
        part = {"text": "", "thoughtSignature": self._signature}
        self._signature = None
        return self._parts_chunk([part])

    def _flush_calls(self) -> bytes:
        if not self._calls:
            return b""
        parts = [
            call_part(call.id, call.name, call.signature, parse_arguments("".join(call.arguments)))
            for _, call in sorted(self._calls.items())
        ]
        self._calls.clear()
        return self._flush_signature() + self._parts_chunk(parts)

    def _final(self) -> bytes:
        part: dict[str, Any] = {"text": ""}
        if self._signature is not None:
            part["thoughtSignature"] = self._signature
            self._signature = None
        reason = self._finish or ("tool_calls" if self._saw_calls else "stop")
        usage = usage_from_hub(self._usage) if self._usage is not None else None
        return self._parts_chunk([part], FINISH_FROM_HUB.get(reason, "STOP"), usage)

    def _error(self, error: hub.Error) -> bytes:
        # Calls of a failed turn are not sent (their arguments may be cut); a signature is.
        out = self._flush_signature()
        self._closed = True
        self._calls.clear()
        _, body = error_object(error)
        if self._json_array:
            return out + self._frame(orjson.dumps({"error": body})) + _ARRAY_CLOSE
        # SSE: Google sends a mid-stream error as bare JSON, not as a data: event, and both
        # SDKs (google-genai, @google/genai in Gemini CLI) only raise on that form.
        return out + orjson.dumps({"error": body}) + b"\n"

    def close(self) -> bytes:
        if self._closed:
            return b""
        out = self._flush_calls() + self._final()
        self._closed = True
        return out + _ARRAY_CLOSE if self._json_array else out

    def keepalive(self) -> bytes:
        if self._closed:
            return b""
        return _ARRAY_KEEPALIVE if self._json_array else _SSE_KEEPALIVE
