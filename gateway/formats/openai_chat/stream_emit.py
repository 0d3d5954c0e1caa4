"""Hub stream events → the client's OpenAI Chat SSE bytes.

Whatever order the hub events come in, the output is a well-formed Chat Completions stream:
one role chunk first, content / reasoning_content / tool-call deltas, exactly one finish
chunk, the usage chunk when the client asked for it, then exactly one ``data: [DONE]``. The
finish reason is held until close(), so a late delta can never follow it. An error ends the
stream with an ``{"error": {...}}`` data line and no ``[DONE]`` (what OpenAI's SDKs raise on).
"""

from __future__ import annotations

import orjson

from gateway.formats import hub
from gateway.formats.openai_chat.errors import error_body
from gateway.formats.openai_chat.mapping import (
    FINISH_FROM_HUB,
    completion_id,
    created_now,
    usage_from_hub,
)
from gateway.formats.sse import KEEPALIVE_COMMENT

_ROLE_DELTA = b'{"role":"assistant","content":"","refusal":null}'
_CONTENT = b'{"content":'
_REASONING = b'{"reasoning_content":'
_TOOL_FRAGMENT = b'{"tool_calls":[{"index":'
_ARGUMENTS = b',"function":{"arguments":'
_OPEN_TAIL = b',"logprobs":null,"finish_reason":null}]'
_DONE = b"data: [DONE]\n\n"

_NEW, _OPEN, _ENDED = 0, 1, 2


class OpenAIChatStreamEmitter:
    def __init__(self, request: hub.Request) -> None:
        self._include_usage = request.get("include_usage") is True
        self._model = request.get("model", "")
        self._state = _NEW
        self._head = b""  # 'data: {"id":…,"object":…,"created":…,"model":…,'
        self._prefix = b""  # head + '"choices":[{"index":0,"delta":'
        self._tail = b""  # after the delta of an ordinary chunk
        self._finish: str | None = None
        self._usage: hub.Usage = {}
        self._indexes: dict[int, int] = {}  # hub tool index → OpenAI tool index
        self._orphans: dict[int, list[str]] = {}  # fragments that came before their start

    def _open(self, response_id: str, model: str) -> bytes:
        self._state = _OPEN
        self._head = (
            b'data: {"id":'
            + orjson.dumps(completion_id(response_id))
            + b',"object":"chat.completion.chunk","created":'
            + str(created_now()).encode()
            + b',"model":'
            + orjson.dumps(model or self._model)
            + b","
        )
        self._prefix = self._head + b'"choices":[{"index":0,"delta":'
        # OpenAI puts "usage": null on every chunk of a stream that will end with usage.
        self._tail = _OPEN_TAIL + (b',"usage":null}\n\n' if self._include_usage else b"}\n\n")
        return self._prefix + _ROLE_DELTA + self._tail

    def feed(self, event: hub.Event) -> bytes:
        if self._state == _OPEN and event["type"] == "text_delta":  # the hot path
            if not event["text"]:
                return b""
            return self._prefix + _CONTENT + orjson.dumps(event["text"]) + b"}" + self._tail
        if self._state == _ENDED:
            return b""
        if event["type"] == "start":
            return self._open(event["id"], event["model"]) if self._state == _NEW else b""
        if event["type"] == "finish":
            if self._finish is None:
                self._finish = FINISH_FROM_HUB.get(event["reason"], "stop")
            return b""
        if event["type"] == "usage":
            self._usage = event["usage"]
            return b""
        if event["type"] == "error":
            self._state = _ENDED
            return b"data: " + error_body(event["error"]) + b"\n\n"
        # Everything else writes a delta, and the role chunk must come first.
        opening = self._open("", "") if self._state == _NEW else b""
        if event["type"] == "text_delta":
            return opening + self.feed(event)
        if event["type"] == "reasoning_delta":
            if not event["text"]:
                return opening
            text = orjson.dumps(event["text"])
            return opening + self._prefix + _REASONING + text + b"}" + self._tail
        if event["type"] == "tool_call_start":
            return opening + self._tool_start(event)
        if event["type"] == "tool_call_delta":
            index = self._indexes.get(event["index"])
            if index is None:
                self._orphans.setdefault(event["index"], []).append(event["arguments"])
                return opening
            return opening + self._arguments(index, event["arguments"])
        return opening  # reasoning signatures and redacted reasoning: no place in this dialect

    def _tool_start(self, event: hub.ToolCallStart) -> bytes:
        if event["index"] in self._indexes:
            return b""
        index = self._indexes[event["index"]] = len(self._indexes)
        call = {
            "index": index,
            "id": event["id"],
            "type": "function",
            "function": {"name": event["name"], "arguments": ""},
        }
        out = self._prefix + b'{"tool_calls":[' + orjson.dumps(call) + b"]}" + self._tail
        for piece in self._orphans.pop(event["index"], ()):
            out += self._arguments(index, piece)
        return out

    def _arguments(self, index: int, piece: str) -> bytes:
        if not piece:
            return b""
        return (
            self._prefix
            + _TOOL_FRAGMENT
            + str(index).encode()
            + _ARGUMENTS
            + orjson.dumps(piece)
            + b"}}]}"
            + self._tail
        )

    def close(self) -> bytes:
        if self._state == _ENDED:
            return b""
        out = self._open("", "") if self._state == _NEW else b""
        self._state = _ENDED
        finish = self._finish or ("tool_calls" if self._indexes else "stop")
        if finish == "stop" and self._indexes:
            finish = "tool_calls"  # clients run the tools only on this reason
        out += (
            self._prefix
            + b'{},"logprobs":null,"finish_reason":"'
            + finish.encode()
            + (b'"}],"usage":null}\n\n' if self._include_usage else b'"}]}\n\n')
        )
        if self._include_usage:
            usage = orjson.dumps(usage_from_hub(self._usage))
            out += self._head + b'"choices":[],"usage":' + usage + b"}\n\n"
        return out + _DONE

    def keepalive(self) -> bytes:
        return KEEPALIVE_COMMENT
