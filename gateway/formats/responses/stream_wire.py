"""The bytes of a Responses stream: numbered events, one output item at a time.

``StreamWire`` knows how each item is announced, fed and finished on the wire; it does not
decide the order (that is ``stream_emit``'s job) and trusts its caller to open an item only
when none is open. Delta events are built from precomputed byte pieces, so a delta costs one
``orjson.dumps`` of its text and a few concatenations.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.responses.envelope import (
    echo_fields,
    function_call_item,
    item_id,
    message_item,
    output_text,
    reasoning_item,
    response_id,
    response_object,
)

_TYPES = (
    "response.created",
    "response.in_progress",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "error",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_part.done",
    "response.reasoning_summary_text.delta",
    "response.reasoning_summary_text.done",
)
# Everything of an event up to its sequence number, built once.
_HEAD = {
    t: b"event: " + t.encode() + b'\ndata: {"type":"' + t.encode() + b'","sequence_number":'
    for t in _TYPES
}
_TEXT_DELTA = _HEAD["response.output_text.delta"]
_SUMMARY_DELTA = _HEAD["response.reasoning_summary_text.delta"]
_ARGUMENTS_DELTA = _HEAD["response.function_call_arguments.delta"]
_END = b"}\n\n"
_LOGPROBS_END = b',"logprobs":[]}\n\n'
_EMPTY_SUMMARY = {"type": "summary_text", "text": ""}

MESSAGE, REASONING, CALL = 0, 1, 2


class Call:
    """One hub tool call (by index) and the argument text it has received."""

    __slots__ = ("call_id", "item", "name", "parts")

    def __init__(self, call_id: str, name: str) -> None:
        self.call_id = call_id
        self.name = name
        self.parts: list[str] = []
        self.item: Item | None = None  # set once its output item is announced


class Item:
    """An announced output item that is not done yet."""

    __slots__ = ("call", "iid", "index", "kind", "mid", "parts", "signature", "source")

    def __init__(self, kind: int, iid: str, index: int, mid: bytes) -> None:
        self.kind = kind
        self.iid = iid
        self.index = index
        self.mid = mid  # a delta event's bytes between its sequence number and its text
        self.parts: list[str] = []
        self.signature: str | None = None
        self.source: str | None = None  # the upstream reasoning item id, when known
        self.call: Call | None = None


class StreamWire:
    def __init__(self, request: hub.Request) -> None:
        self.request = request
        self.model = request.get("model", "")
        self.rid = ""
        self._base = ""
        self._echo: dict[str, Any] = {}
        self._created_at = 0
        self._seq = 0
        self.output: list[dict[str, Any]] = []  # finished items; position = output_index
        self.item: Item | None = None  # the open item
        self._sources: set[str] = set()  # upstream reasoning ids already used as item ids
        self.out: list[bytes] = []

    def take(self) -> bytes:
        if not self.out:
            return b""
        data = b"".join(self.out)
        self.out = []
        return data

    def _seq_bytes(self) -> bytes:
        seq = self._seq
        self._seq = seq + 1
        return str(seq).encode()

    def emit(self, kind: str, fields: dict[str, Any]) -> None:
        # orjson.dumps(fields) starts with "{": it takes the place of the head's comma.
        self.out.append(_HEAD[kind] + self._seq_bytes() + b"," + orjson.dumps(fields)[1:] + b"\n\n")

    def response(self, status: str, usage: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
        return response_object(
            rid=self.rid,
            created_at=self._created_at,
            model=self.model,
            status=status,
            output=self.output,
            usage=usage,
            echo=self._echo,
            **extra,
        )

    # lifecycle ------------------------------------------------------------------------------

    def open(self) -> None:
        """``response.created`` and ``response.in_progress`` (once ``rid``/``model`` are set)."""
        self.rid = response_id(self.rid)
        self._base = self.rid[5:]
        self._created_at = int(time.time())  # the hub has no timestamp; read here only
        self._echo = echo_fields(self.request)
        response = self.response("in_progress", None)
        self.emit("response.created", {"response": response})
        self.emit("response.in_progress", {"response": response})

    def terminal(self, kind: str, status: str, usage: dict[str, Any], **extra: Any) -> None:
        self.emit(kind, {"response": self.response(status, usage, **extra)})

    def fail(self, failure: dict[str, str], code: str, usage: dict[str, Any] | None) -> None:
        # The API announces a failure with an ``error`` event (documented flat shape) before
        # ``response.failed``; Codex CLI reads the code from ``response.error``.
        self.emit("error", {"code": code, "message": failure["message"], "param": None})
        self.emit("response.failed", {"response": self.response("failed", usage, error=failure)})

    # items ----------------------------------------------------------------------------------

    def _head(self, prefix: str, source: str | None) -> tuple[int, str, bytes]:
        index = len(self.output)
        if source and source not in self._sources:  # an upstream id names one item only
            self._sources.add(source)
            iid = source
        else:
            iid = item_id(prefix, self._base, index)
        head = b',"item_id":' + orjson.dumps(iid) + b',"output_index":' + str(index).encode()
        return index, iid, head

    def begin_message(self) -> Item:
        index, iid, head = self._head("msg_", None)
        item = self.item = Item(MESSAGE, iid, index, head + b',"content_index":0,"delta":')
        added = message_item(iid, [], "in_progress")
        self.emit("response.output_item.added", {"output_index": index, "item": added})
        self.emit("response.content_part.added", self._part(item, ""))
        return item

    def begin_reasoning(self, source: str | None) -> Item:
        index, iid, head = self._head("rs_", source)
        item = self.item = Item(REASONING, iid, index, head + b',"summary_index":0,"delta":')
        item.source = source
        added = reasoning_item(iid, "", None)
        self.emit("response.output_item.added", {"output_index": index, "item": added})
        return item

    def begin_call(self, call: Call) -> None:
        index, iid, head = self._head("fc_", None)
        item = self.item = Item(CALL, iid, index, head + b',"delta":')
        item.call = call
        call.item = item
        if not call.call_id:  # a call whose start never came still needs an id
            call.call_id = "call_" + iid[3:]
        added = function_call_item(iid, call.call_id, call.name, "", "in_progress")
        self.emit("response.output_item.added", {"output_index": index, "item": added})
        if call.parts:  # fragments that arrived while it waited, in one delta
            self.arguments(item, "".join(call.parts))

    def text(self, item: Item, text: str) -> None:
        item.parts.append(text)
        self.out.append(
            _TEXT_DELTA + self._seq_bytes() + item.mid + orjson.dumps(text) + _LOGPROBS_END
        )

    def summary(self, item: Item, text: str) -> None:
        if not item.parts:
            self.emit("response.reasoning_summary_part.added", self._summary(item, ""))
        item.parts.append(text)
        self.out.append(_SUMMARY_DELTA + self._seq_bytes() + item.mid + orjson.dumps(text) + _END)

    def arguments(self, item: Item, fragment: str) -> None:
        self.out.append(
            _ARGUMENTS_DELTA + self._seq_bytes() + item.mid + orjson.dumps(fragment) + _END
        )

    def _part(self, item: Item, text: str) -> dict[str, Any]:
        return {
            "item_id": item.iid,
            "output_index": item.index,
            "content_index": 0,
            "part": output_text(text),
        }

    def _summary(self, item: Item, text: str) -> dict[str, Any]:
        part = {"type": "summary_text", "text": text} if text else _EMPTY_SUMMARY
        return {"item_id": item.iid, "output_index": item.index, "summary_index": 0, "part": part}

    def close_item(self, status: str) -> None:
        """Finish the open item (if any): its *.done events and ``output_item.done``."""
        item = self.item
        if item is None:
            return
        self.item = None
        where = {"item_id": item.iid, "output_index": item.index}
        if item.kind == MESSAGE:
            text = "".join(item.parts)
            done_text = {**where, "content_index": 0, "text": text, "logprobs": []}
            self.emit("response.output_text.done", done_text)
            self.emit("response.content_part.done", self._part(item, text))
            done = message_item(item.iid, [text], status)
        elif item.kind == REASONING:
            text = "".join(item.parts)
            if text:
                done_text = {**where, "summary_index": 0, "text": text}
                self.emit("response.reasoning_summary_text.done", done_text)
                self.emit("response.reasoning_summary_part.done", self._summary(item, text))
            done = reasoning_item(item.iid, text, item.signature)
        else:
            call = item.call
            assert call is not None
            arguments = "".join(call.parts)  # a call's fragments live on the call
            self.emit("response.function_call_arguments.done", {**where, "arguments": arguments})
            done = function_call_item(item.iid, call.call_id, call.name, arguments, status)
        self.emit("response.output_item.done", {"output_index": item.index, "item": done})
        self.output.append(done)
