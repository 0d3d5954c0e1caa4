"""Responses SSE events from an upstream → hub stream events.

The event's JSON ``type`` decides (the SSE ``event:`` line repeats it and is only a fallback).
Deltas are forwarded as they come; the ``*.done`` events only fill in what a server did not
stream (some compatible servers send whole items without deltas). Unknown events are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.responses.errors import stream_error_to_hub
from gateway.formats.responses.items import summary_text
from gateway.formats.responses.usage import finish_to_hub, usage_to_hub
from gateway.formats.sse import SSEEvent

_FAILED_MESSAGE = "The upstream response failed."


class _Tool:
    __slots__ = ("index", "streamed")

    def __init__(self, index: int) -> None:
        self.index = index
        self.streamed = False  # some argument text was forwarded


class ResponsesStreamParser:
    def __init__(self) -> None:
        self._started = False
        self._ended = False
        # Argument events name their call by item id and output index (keys as sent).
        self._tools_by_item: dict[Any, _Tool] = {}
        self._tools_by_output: dict[Any, _Tool] = {}
        self._tool_count = 0
        self._texted: set[Any] = set()  # message item ids that had text deltas
        self._reasoned: set[Any] = set()  # reasoning item ids that had text deltas

    def feed(self, event: SSEEvent) -> list[hub.Event]:
        data = event.data
        if self._ended or not data.startswith("{"):
            return []  # nothing after the terminal event; "[DONE]" from compatible servers
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            return []
        if not isinstance(obj, dict):
            return []
        handler = _HANDLERS.get(obj.get("type") or event.event)
        if handler is None:
            return []
        out: list[hub.Event] = []
        if not self._started:
            self._started = True
            response = obj.get("response")
            if not isinstance(response, dict):
                response = {}
            rid, model = response.get("id"), response.get("model")
            out.append(
                {
                    "type": "start",
                    "id": rid if isinstance(rid, str) else "",
                    "model": model if isinstance(model, str) else "",
                }
            )
        handler(self, obj, out)
        return out

    def close(self) -> list[hub.Event]:
        return []  # a stream cut before its terminal event stays unfinished (no invented finish)

    # lifecycle ------------------------------------------------------------------------------

    def _nothing(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        pass  # response.created / in_progress / queued: only the start, emitted by feed

    def _finished(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        response = obj.get("response")
        if not isinstance(response, dict):
            response = {}
        usage = usage_to_hub(response.get("usage"))
        if usage:
            out.append({"type": "usage", "usage": usage})
        status = "incomplete" if obj.get("type") == "response.incomplete" else "completed"
        reason = finish_to_hub(status, response.get("incomplete_details"), self._tool_count > 0)
        out.append({"type": "finish", "reason": reason})
        self._ended = True

    def _failed(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        response = obj.get("response")
        detail = response.get("error") if isinstance(response, dict) else None
        out.append({"type": "error", "error": stream_error_to_hub(detail, _FAILED_MESSAGE)})
        self._ended = True

    def _error(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        out.append({"type": "error", "error": stream_error_to_hub(obj, _FAILED_MESSAGE)})
        self._ended = True

    # items ----------------------------------------------------------------------------------

    def _item_added(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        item = obj.get("item")
        if isinstance(item, dict) and item.get("type") == "function_call":
            self._start_tool(obj, item, out)

    def _start_tool(
        self, obj: dict[str, Any], item: dict[str, Any], out: list[hub.Event]
    ) -> _Tool | None:
        call_id = item.get("call_id") or item.get("id")  # some compatible servers omit call_id
        name = item.get("name")
        if not isinstance(call_id, str) or not isinstance(name, str):
            return None
        tool = _Tool(self._tool_count)
        self._tool_count += 1
        if isinstance(item.get("id"), str):
            self._tools_by_item[item["id"]] = tool
        if isinstance(obj.get("output_index"), int):
            self._tools_by_output[obj["output_index"]] = tool
        out.append({"type": "tool_call_start", "index": tool.index, "id": call_id, "name": name})
        self._arguments(tool, item.get("arguments"), out)
        return tool

    def _tool_for(self, item_id: Any, output_index: Any) -> _Tool | None:
        tool = self._tools_by_item.get(item_id)
        return tool if tool is not None else self._tools_by_output.get(output_index)

    def _arguments(self, tool: _Tool | None, text: Any, out: list[hub.Event]) -> None:
        if tool is not None and isinstance(text, str) and text:
            tool.streamed = True
            out.append({"type": "tool_call_delta", "index": tool.index, "arguments": text})

    def _item_done(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        item = obj.get("item")
        if not isinstance(item, dict):
            return
        kind = item.get("type")
        if kind == "function_call":
            tool = self._tool_for(item.get("id"), obj.get("output_index"))
            if tool is None:  # never announced: the whole call arrives here
                self._start_tool(obj, item, out)
            elif not tool.streamed:
                self._arguments(tool, item.get("arguments"), out)
        elif kind == "reasoning":
            rid = item.get("id")
            if rid not in self._reasoned:
                text = summary_text(item)
                if text:
                    out.append(_reasoning_delta(text, rid))
            signature = item.get("encrypted_content")
            if isinstance(signature, str) and signature:
                out.append({"type": "reasoning_signature", "signature": signature})
        elif kind == "message" and item.get("id") not in self._texted:
            for part in item.get("content") or ():
                if isinstance(part, dict):
                    shown = part.get("text", part.get("refusal"))
                    if isinstance(shown, str) and shown:
                        out.append({"type": "text_delta", "text": shown})

    # deltas ---------------------------------------------------------------------------------

    def _text_delta(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        delta = obj.get("delta")
        if isinstance(delta, str) and delta:
            self._texted.add(obj.get("item_id"))
            out.append({"type": "text_delta", "text": delta})

    def _arguments_delta(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        tool = self._tool_for(obj.get("item_id"), obj.get("output_index"))
        self._arguments(tool, obj.get("delta"), out)

    def _arguments_done(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        tool = self._tool_for(obj.get("item_id"), obj.get("output_index"))
        if tool is not None and not tool.streamed:
            self._arguments(tool, obj.get("arguments"), out)

    def _summary_part(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        # Summary parts of one item join with a blank line, as in request_parse.
        rid = obj.get("item_id")
        if rid in self._reasoned:
            out.append(_reasoning_delta("\n\n", rid))

    def _reasoning_delta(self, obj: dict[str, Any], out: list[hub.Event]) -> None:
        delta = obj.get("delta")
        if isinstance(delta, str) and delta:
            rid = obj.get("item_id")
            self._reasoned.add(rid)
            out.append(_reasoning_delta(delta, rid))


def _reasoning_delta(text: str, rid: Any) -> hub.ReasoningDelta:
    event: hub.ReasoningDelta = {"type": "reasoning_delta", "text": text}
    if isinstance(rid, str) and rid:
        event["id"] = rid
    return event


_Handler = Callable[[ResponsesStreamParser, dict[str, Any], list[hub.Event]], None]
_HANDLERS: dict[Any, _Handler] = {
    "response.created": ResponsesStreamParser._nothing,
    "response.in_progress": ResponsesStreamParser._nothing,
    "response.queued": ResponsesStreamParser._nothing,
    "response.completed": ResponsesStreamParser._finished,
    "response.incomplete": ResponsesStreamParser._finished,
    "response.failed": ResponsesStreamParser._failed,
    "error": ResponsesStreamParser._error,
    "response.output_item.added": ResponsesStreamParser._item_added,
    "response.output_item.done": ResponsesStreamParser._item_done,
    "response.output_text.delta": ResponsesStreamParser._text_delta,
    "response.refusal.delta": ResponsesStreamParser._text_delta,
    "response.function_call_arguments.delta": ResponsesStreamParser._arguments_delta,
    "response.function_call_arguments.done": ResponsesStreamParser._arguments_done,
    "response.reasoning_summary_part.added": ResponsesStreamParser._summary_part,
    "response.reasoning_summary_text.delta": ResponsesStreamParser._reasoning_delta,
    "response.reasoning_text.delta": ResponsesStreamParser._reasoning_delta,
}
