"""Hub stream events → Anthropic SSE bytes for the client.

Coding agents (Claude Code, the SDKs' accumulators) index content blocks by position and
trust the event order, so the output keeps these rules whatever order hub events come in:

- ``message_start`` first (synthesised when the hub stream has no start), exactly once;
- blocks numbered 0, 1, 2, … each opened by ``content_block_start`` and closed by
  ``content_block_stop`` before the next opens, never reopened: reasoning → ``thinking``
  (its signature as a ``signature_delta`` just before the stop), redacted reasoning →
  ``redacted_thinking``, text → ``text``, each hub tool index → its own ``tool_use``;
- argument fragments of a tool call that starts while another call is still open are held
  back and written when that call is done (its JSON is complete) or at the end;
- then ``message_delta`` (stop reason, usage) and ``message_stop``, exactly once; after an
  ``error`` event nothing more.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.anthropic.errors import error_payload
from gateway.formats.anthropic.response import message_id, stop_reason_from_hub, usage_from_hub

PING = b'event: ping\ndata: {"type": "ping"}\n\n'
_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_START = b'event: content_block_start\ndata: {"type":"content_block_start","index":'
_STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":'
_TEXT_DELTA = b',"delta":{"type":"text_delta","text":'
_THINKING_DELTA = b',"delta":{"type":"thinking_delta","thinking":'
_JSON_DELTA = b',"delta":{"type":"input_json_delta","partial_json":'
_SIGNATURE_DELTA = b',"delta":{"type":"signature_delta","signature":'
_END = b"}}\n\n"
_TEXT_BLOCK = b',"content_block":{"type":"text","text":""}}\n\n'
_THINKING_BLOCK = b',"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n'
_MESSAGE_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'

_TEXT = 1
_THINKING = 2
_TOOL = 3


class _Tool:
    __slots__ = ("arguments", "checked", "complete", "id", "name", "state")

    def __init__(self, call_id: str, name: str) -> None:
        self.id = call_id
        self.name = name
        self.arguments: list[str] = []  # fragments: all of them while held, for the JSON check
        self.checked = 0  # fragment count at the last completeness check
        self.complete = False
        self.state = "held"  # held → live (its block open) → done


class AnthropicStreamEmitter:
    def __init__(self, request: hub.Request) -> None:
        self._model = request.get("model", "")
        self._started = False
        self._ended = False
        self._index = -1  # Anthropic index of the last block opened
        self._open = 0  # kind of the open block, 0 when none
        self._prefix = b""  # delta prefix of the open block (its index baked in)
        self._live: _Tool | None = None
        self._tools: dict[int, _Tool] = {}
        self._held: list[_Tool] = []  # started while another call was open, in call order
        self._wrote_tool = False
        self._finish: hub.FinishEvent | None = None
        self._usage: hub.Usage | None = None
        self._late_signatures: list[str] = []  # signatures that arrived inside the answer

    # The protocol -------------------------------------------------------------------------

    def feed(self, event: hub.Event) -> bytes:
        if self._ended:
            return b""
        # Most frequent first: this runs once per upstream chunk.
        if event["type"] == "text_delta":
            if not event["text"]:
                return b""
            out = self._switch(_TEXT)
            return out + self._prefix + _TEXT_DELTA + orjson.dumps(event["text"]) + _END
        if event["type"] == "tool_call_delta":
            return self._tool_delta(event["index"], event["arguments"])
        if event["type"] == "reasoning_delta":
            if not event["text"]:
                return b""
            out = self._switch(_THINKING)
            return out + self._prefix + _THINKING_DELTA + orjson.dumps(event["text"]) + _END
        if event["type"] == "tool_call_start":
            return self._tool_start(event["index"], event["id"], event["name"])
        if event["type"] == "reasoning_signature":
            if self._open == _TEXT:
                # A signature that trails the answer (Gemini puts it on the last text part):
                # splitting the text around a thinking block would hide the first half from
                # clients that keep only the last text block, so it goes after the text.
                self._late_signatures.append(event["signature"])
                return b""
            out = self._switch(_THINKING)
            out += self._prefix + _SIGNATURE_DELTA + orjson.dumps(event["signature"]) + _END
            return out + self._close_open()
        if event["type"] == "redacted_reasoning":
            out = self._ensure_started() + self._close_open()
            index = self._new_index()
            block: dict[str, Any] = {"type": "redacted_thinking", "data": event["data"]}
            return out + _block_start(index, block) + _block_stop(index)
        if event["type"] == "start":
            return self._ensure_started(event["id"], event["model"])
        if event["type"] == "usage":
            usage: hub.Usage = {**self._usage, **event["usage"]} if self._usage else event["usage"]
            self._usage = usage
            return self._end() if self._finish is not None else b""
        if event["type"] == "finish":
            if self._finish is None:
                self._finish = event
            # The content is over; the end waits for usage (OpenAI sends it after the finish).
            out = self._ensure_started() + self._close_open() + self._flush_held()
            return out + self._end() if self._usage is not None else out
        if event["type"] == "error":
            self._ended = True
            return b"event: error\ndata: " + error_payload(event["error"]) + b"\n\n"
        return b""  # type: ignore[unreachable]  # an event kind added to the hub later

    def close(self) -> bytes:
        return b"" if self._ended else self._end()

    def keepalive(self) -> bytes:
        return b"" if self._ended else PING

    # Blocks -------------------------------------------------------------------------------

    def _ensure_started(self, hub_id: str = "", model: str = "") -> bytes:
        if self._started:
            return b""
        self._started = True
        usage = usage_from_hub(self._usage or {})
        usage["output_tokens"] = 0  # nothing written yet; the final count is in message_delta
        usage.pop("output_tokens_details", None)
        message: dict[str, Any] = {
            "id": message_id(hub_id or uuid.uuid4().hex),
            "type": "message",
            "role": "assistant",
            "model": model or self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        data = orjson.dumps({"type": "message_start", "message": message})
        return b"event: message_start\ndata: " + data + b"\n\n"

    def _new_index(self) -> int:
        self._index += 1
        return self._index

    def _switch(self, kind: int) -> bytes:
        """Make a block of ``kind`` the open one (text and thinking only)."""
        if self._open == kind:
            return b""
        out = self._ensure_started() + self._close_open()
        index = self._new_index()
        self._open = kind
        self._prefix = _DELTA + str(index).encode()
        opening = _TEXT_BLOCK if kind == _TEXT else _THINKING_BLOCK
        return out + _START + str(index).encode() + opening

    def _close_open(self) -> bytes:
        if not self._open:
            return b""
        if self._live is not None:
            self._live.state = "done"
            self._live = None
        self._open = 0
        return _block_stop(self._index)

    # Tool calls ---------------------------------------------------------------------------

    def _tool_start(self, index: int, call_id: str, name: str) -> bytes:
        tool = self._tools.get(index)
        if tool is not None:
            # A repeated start for the same call (some upstreams resend it): same block.
            if tool.state == "held":
                tool.id, tool.name = tool.id or call_id, tool.name or name
            return b""
        tool = self._tools[index] = _Tool(call_id or "toolu_" + uuid.uuid4().hex[:24], name)
        return self._place(tool)

    def _place(self, tool: _Tool) -> bytes:
        """A new call goes live unless an earlier call is still open or waiting."""
        live = self._live
        if self._held or (live is not None and not _complete(live)):
            self._held.append(tool)
            return b""
        return self._go_live(tool)

    def _go_live(self, tool: _Tool) -> bytes:
        out = self._ensure_started() + self._close_open()
        index = self._new_index()
        self._open, self._live, tool.state = _TOOL, tool, "live"
        self._wrote_tool = True
        self._prefix = _DELTA + str(index).encode()
        block: dict[str, Any] = {"type": "tool_use", "id": tool.id, "name": tool.name, "input": {}}
        out += _block_start(index, block)
        if tool.arguments:
            out += self._prefix + _JSON_DELTA + orjson.dumps("".join(tool.arguments)) + _END
        return out

    def _tool_delta(self, index: int, fragment: str) -> bytes:
        tool = self._tools.get(index)
        out = b""
        if tool is None:  # fragments before any start: a call with an id of our own
            out = self._tool_start(index, "", "")
            tool = self._tools[index]
        if not fragment or tool.state == "done":
            return out  # a block is never reopened: a fragment after its stop is lost
        tool.arguments.append(fragment)
        if tool.state == "live":
            out += self._prefix + _JSON_DELTA + orjson.dumps(fragment) + _END
        return out + self._promote() if self._held else out

    def _promote(self) -> bytes:
        """Let held calls go live, in order, while the call before them is complete."""
        out = b""
        while self._held:
            live = self._live
            if live is not None and not _complete(live):
                break
            out += self._go_live(self._held.pop(0))
        return out

    def _flush_held(self) -> bytes:
        out = b""
        while self._held:
            out += self._go_live(self._held.pop(0))
        return out + self._close_open()

    # The end ------------------------------------------------------------------------------

    def _end(self) -> bytes:
        out = self._ensure_started() + self._close_open() + self._flush_held()
        for signature in self._late_signatures:
            out += self._switch(_THINKING)
            out += self._prefix + _SIGNATURE_DELTA + orjson.dumps(signature) + _END
            out += self._close_open()
        finish = self._finish
        reason = finish["reason"] if finish else ("tool_calls" if self._wrote_tool else "stop")
        stop_sequence = finish.get("stop_sequence") if finish else None
        stop_reason = stop_reason_from_hub(
            reason, stop_sequence=stop_sequence, tool_calls=self._wrote_tool
        )
        delta = {
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence if stop_reason == "stop_sequence" else None,
        }
        data = orjson.dumps(
            {"type": "message_delta", "delta": delta, "usage": usage_from_hub(self._usage or {})}
        )
        self._ended = True
        return out + b"event: message_delta\ndata: " + data + b"\n\n" + _MESSAGE_STOP


def _complete(tool: _Tool) -> bool:
    """Whether a call's arguments so far are a whole JSON object (so it is done)."""
    if tool.checked != len(tool.arguments):  # parse again only when fragments came since
        tool.checked = len(tool.arguments)
        try:
            tool.complete = isinstance(orjson.loads("".join(tool.arguments)), dict)
        except orjson.JSONDecodeError:
            tool.complete = False
    return tool.complete


def _block_start(index: int, block: dict[str, Any]) -> bytes:
    return _START + str(index).encode() + b',"content_block":' + orjson.dumps(block) + b"}\n\n"


def _block_stop(index: int) -> bytes:
    return _STOP + str(index).encode() + b"}\n\n"
