"""Hub stream events → a Responses SSE stream (what Codex CLI and the OpenAI SDKs read).

The lifecycle is always complete and ordered: ``response.created``, ``response.in_progress``,
then one output item at a time (``output_item.added`` … deltas … ``*.done`` …
``output_item.done``), then exactly one terminal event carrying the whole response with
usage. ``sequence_number`` counts every event from 0. The bytes are ``stream_wire``'s; this
module decides the order, so that items never interleave whatever order hub events come in:

* a tool call that starts while another one is open waits (its argument fragments are
  buffered) until the open one is done, so every fragment of a call reaches its own item;
* text or reasoning arriving while a tool call is open is deferred until the calls are done,
  then becomes items of its own (a later message/reasoning item is valid Responses output);
* the terminal event waits for usage (an upstream may send it after its finish) or close().

On an error the open items are left as they are (no ``output_item.done``: Codex CLI would
run a half-streamed function call) and the stream ends with ``error`` + ``response.failed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.formats import hub
from gateway.formats.responses.errors import failure_from_hub
from gateway.formats.responses.response_emit import FAILED_MESSAGE
from gateway.formats.responses.stream_wire import CALL, MESSAGE, REASONING, Call, StreamWire
from gateway.formats.responses.usage import STATUS_BY_FINISH, usage_from_hub
from gateway.formats.sse import KEEPALIVE_COMMENT

_FINISHED_WITH_ERROR: hub.Error = {"status": 502, "kind": "server", "message": FAILED_MESSAGE}


class ResponsesStreamEmitter:
    def __init__(self, request: hub.Request) -> None:
        self._wire = StreamWire(request)
        self._opened = False
        self._ended = False
        self._finish: hub.FinishReason | None = None
        self._usage: hub.Usage | None = None
        self._calls: dict[int, Call] = {}
        self._waiting: list[Call] = []  # calls not announced yet, in arrival order
        self._deferred: list[hub.Event] = []  # text/reasoning that came during a tool call

    # protocol -------------------------------------------------------------------------------

    def feed(self, event: hub.Event) -> bytes:
        if self._ended:
            return b""
        kind = event["type"]
        if self._finish is not None and kind != "usage":
            return b""  # after the finish only usage still counts
        handler = _FEED.get(kind)
        if handler is not None:
            handler(self, event)
        return self._wire.take()

    def close(self) -> bytes:
        if self._ended:
            return b""
        self._open()
        if self._finish is None:  # no finish came: end as finished, with the likeliest reason
            self._finish = "tool_calls" if self._calls else "stop"
            self._settle()
        self._terminal()
        return self._wire.take()

    def keepalive(self) -> bytes:
        return KEEPALIVE_COMMENT

    # order ----------------------------------------------------------------------------------

    def _open(self) -> None:
        if not self._opened:
            self._opened = True
            self._wire.open()

    def _close_item(self) -> None:
        status = "incomplete" if self._finish in ("length", "content_filter") else "completed"
        self._wire.close_item(status)

    def _in_call(self) -> bool:
        item = self._wire.item
        return item is not None and item.kind == CALL

    def _settle(self) -> None:
        """Close the open item, then let waiting calls and deferred events have their turn."""
        while True:
            self._close_item()
            if self._waiting:
                self._wire.begin_call(self._waiting.pop(0))
            elif self._deferred:
                deferred, self._deferred = self._deferred, []
                for event in deferred:  # no call is open now, so none is deferred again
                    _FEED[event["type"]](self, event)
            else:
                return

    def _terminal(self) -> None:
        status, incomplete = STATUS_BY_FINISH.get(self._finish or "stop", ("completed", None))
        if status == "failed":
            self._fail(_FINISHED_WITH_ERROR)
            return
        kind = "response.completed" if status == "completed" else "response.incomplete"
        usage = usage_from_hub(self._usage)
        self._wire.terminal(kind, status, usage, incomplete_details=incomplete)
        self._ended = True

    def _fail(self, error: hub.Error) -> None:
        failure, code = failure_from_hub(error)
        self._wire.fail(failure, code, usage_from_hub(self._usage) if self._usage else None)
        self._ended = True

    # hub events -----------------------------------------------------------------------------

    def _on_start(self, event: hub.StartEvent) -> None:
        if not self._opened:
            self._wire.rid = event["id"]
            self._wire.model = event["model"] or self._wire.model
            self._open()

    def _on_text(self, event: hub.TextDelta) -> None:
        text = event["text"]
        if not text:
            return
        self._open()
        if self._in_call():
            self._deferred.append(event)
            return
        item = self._wire.item
        if item is None or item.kind != MESSAGE:
            self._close_item()
            item = self._wire.begin_message()
        self._wire.text(item, text)

    def _on_reasoning(self, event: hub.ReasoningDelta) -> None:
        text = event["text"]
        if not text:
            return  # an empty delta opens nothing (a signature alone still makes an item)
        self._open()
        if self._in_call():
            self._deferred.append(event)
            return
        item = self._wire.item
        source = event.get("id")
        if (
            item is None
            or item.kind != REASONING
            or (source and item.source and source != item.source)  # the next upstream item
        ):
            self._close_item()
            item = self._wire.begin_reasoning(source)
        self._wire.summary(item, text)

    def _on_signature(self, event: hub.ReasoningSignature) -> None:
        self._open()
        if self._in_call():
            self._deferred.append(event)
            return
        item = self._wire.item
        if item is None or item.kind != REASONING:
            self._close_item()
            item = self._wire.begin_reasoning(None)  # the signature alone is an item
        item.signature = event["signature"]
        self._close_item()

    def _on_tool_start(self, event: hub.ToolCallStart) -> None:
        self._open()
        call = self._calls.get(event["index"])
        if call is not None:  # one item per index, even if an upstream repeats the start
            if call.item is None and not call.name:
                call.call_id, call.name = event["id"], event["name"]
            return
        call = self._calls[event["index"]] = Call(event["id"], event["name"])
        if self._in_call():
            self._waiting.append(call)
        else:
            self._close_item()
            self._wire.begin_call(call)

    def _on_tool_delta(self, event: hub.ToolCallDelta) -> None:
        self._open()
        call = self._calls.get(event["index"])
        if call is None:  # fragments before their start: hold them until it comes
            call = self._calls[event["index"]] = Call("", "")
            self._waiting.append(call)
        fragment = event["arguments"]
        if not fragment:
            return
        call.parts.append(fragment)
        item = call.item
        if item is not None and item is self._wire.item:
            self._wire.arguments(item, fragment)

    def _on_finish(self, event: hub.FinishEvent) -> None:
        self._open()
        self._finish = event["reason"]
        if self._finish == "error":  # ends like an error: nothing half-done gets completed
            self._fail(_FINISHED_WITH_ERROR)
            return
        self._settle()
        if self._usage is not None:
            self._terminal()

    def _on_usage(self, event: hub.UsageEvent) -> None:
        self._usage = {**(self._usage or {}), **event["usage"]}
        if self._finish is not None:
            self._terminal()

    def _on_error(self, event: hub.ErrorEvent) -> None:
        self._open()
        self._fail(event["error"])


# Handlers take their own event type; the dispatch is by the event's "type".
_FEED: dict[str, Callable[[ResponsesStreamEmitter, Any], None]] = {
    "start": ResponsesStreamEmitter._on_start,
    "text_delta": ResponsesStreamEmitter._on_text,
    "reasoning_delta": ResponsesStreamEmitter._on_reasoning,
    "reasoning_signature": ResponsesStreamEmitter._on_signature,
    "tool_call_start": ResponsesStreamEmitter._on_tool_start,
    "tool_call_delta": ResponsesStreamEmitter._on_tool_delta,
    "finish": ResponsesStreamEmitter._on_finish,
    "usage": ResponsesStreamEmitter._on_usage,
    "error": ResponsesStreamEmitter._on_error,
    # redacted_reasoning: no Responses form; the gateway's replay cache restores it upstream
}
