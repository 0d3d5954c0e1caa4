"""Upstream OpenAI Chat SSE (``chat.completion.chunk`` data lines) → hub stream events."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.openai_chat.errors import stream_error_to_hub
from gateway.formats.openai_chat.mapping import finish_to_hub, new_call_id, usage_to_hub
from gateway.formats.openai_chat.think import ThinkSplitter
from gateway.formats.sse import SSEEvent


class _Call:
    """A tool call being assembled: it is announced (tool_call_start) only once it has a
    name, because an empty tool name breaks every client; fragments wait until then."""

    __slots__ = ("id", "index", "name", "pending", "started")

    def __init__(self, index: int) -> None:
        self.index = index  # the hub index: order of first appearance
        self.id = ""
        self.name = ""
        self.pending: list[str] = []
        self.started = False


class OpenAIChatStreamParser:
    def __init__(self) -> None:
        self._started = False
        self._finished = False
        self._done = False  # [DONE] or an error: nothing more is read
        self._think = ThinkSplitter()
        self._calls: dict[int, _Call] = {}
        self._usage: hub.Usage | None = None

    def feed(self, event: SSEEvent) -> list[hub.Event]:
        data = event.data
        if self._done or not data:
            return []
        if data.startswith("[DONE]"):  # as the openai SDK reads it
            return self._end(complete=True)
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            return []  # a stray non-JSON line (some proxies send banners): not an event
        if not isinstance(chunk, dict):
            return []
        if chunk.get("error") and not chunk.get("choices"):
            self._done = True
            events = self._flush()
            events.append({"type": "error", "error": stream_error_to_hub(chunk)})
            return events
        out: list[hub.Event] = []
        if not self._started:
            self._started = True
            chunk_id, model = chunk.get("id"), chunk.get("model")
            out.append(
                {
                    "type": "start",
                    "id": chunk_id if isinstance(chunk_id, str) else "",
                    "model": model if isinstance(model, str) else "",
                }
            )
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            # Held to the end: some servers repeat a running total on every chunk.
            self._usage = usage_to_hub(usage)
        choices = chunk.get("choices")
        if isinstance(choices, list) and choices:
            choice = choices[0]
            # Only the first choice: with n > 1 the others arrive as index 1, 2, ...
            if isinstance(choice, dict) and choice.get("index", 0) in (0, None):
                self._choice(choice, out)
        return out

    def _choice(self, choice: dict[str, Any], out: list[hub.Event]) -> None:
        delta = choice.get("delta")
        if isinstance(delta, dict):
            reasoning = delta.get("reasoning_content")
            if not isinstance(reasoning, str):
                reasoning = delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                self._settle(out)
                out.append({"type": "reasoning_delta", "text": reasoning})
            content = delta.get("content")
            if isinstance(content, str) and content:
                self._content(content, out)
            refusal = delta.get("refusal")
            if isinstance(refusal, str) and refusal:
                self._settle(out)
                out.append({"type": "text_delta", "text": refusal})
            calls = delta.get("tool_calls")
            if isinstance(calls, list) and calls:
                self._settle(out)
                for position, call in enumerate(calls):
                    if isinstance(call, dict):
                        self._tool_fragment(call, position, out)
            legacy = delta.get("function_call")
            if isinstance(legacy, dict):
                self._settle(out)
                self._tool_fragment({"index": 0, "function": legacy}, 0, out)
        reason = choice.get("finish_reason")
        if reason and not self._finished:
            self._finished = True
            out.extend(self._flush())
            out.append({"type": "finish", "reason": finish_to_hub(reason, bool(self._calls))})

    def _settle(self, out: list[hub.Event]) -> None:
        # Keep event order: whitespace held while looking for "<think>" goes out first.
        text = self._think.settle()
        if text:
            out.append({"type": "text_delta", "text": text})

    def _content(self, content: str, out: list[hub.Event]) -> None:
        reasoning, text = self._think.feed(content)
        if reasoning:
            out.append({"type": "reasoning_delta", "text": reasoning})
        if text:
            out.append({"type": "text_delta", "text": text})

    def _tool_fragment(self, raw: dict[str, Any], position: int, out: list[hub.Event]) -> None:
        upstream_index = raw.get("index")
        if not isinstance(upstream_index, int):
            upstream_index = position
        call = self._calls.get(upstream_index)
        if call is None:
            call = self._calls[upstream_index] = _Call(len(self._calls))
        call_id = raw.get("id")
        if not call.id and isinstance(call_id, str):
            call.id = call_id
        function = raw.get("function")
        if not isinstance(function, dict):
            return
        name = function.get("name")
        if not call.started and isinstance(name, str) and name:
            call.name = name
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            call.pending.append(arguments)
        if call.name:
            self._emit_call(call, out)

    def _emit_call(self, call: _Call, out: list[hub.Event]) -> None:
        if not call.started:
            call.started = True
            out.append(
                {
                    "type": "tool_call_start",
                    "index": call.index,
                    "id": call.id or new_call_id(),
                    "name": call.name,
                }
            )
        for piece in call.pending:
            out.append({"type": "tool_call_delta", "index": call.index, "arguments": piece})
        call.pending.clear()

    def _flush(self) -> list[hub.Event]:
        """Held-back content and unannounced tool calls, before a finish or at the end."""
        out: list[hub.Event] = []
        reasoning, text = self._think.flush()
        if reasoning:
            out.append({"type": "reasoning_delta", "text": reasoning})
        if text:
            out.append({"type": "text_delta", "text": text})
        for call in self._calls.values():
            if not call.started or call.pending:
                self._emit_call(call, out)
        return out

    def _end(self, complete: bool) -> list[hub.Event]:
        self._done = True
        out = self._flush()
        if complete and not self._finished:
            # [DONE] is the upstream's own terminal event: the reply was whole even though no
            # chunk named a finish reason (seen on some compatible servers).
            self._finished = True
            out.append({"type": "finish", "reason": "tool_calls" if self._calls else "stop"})
        if self._usage is not None:
            out.append({"type": "usage", "usage": self._usage})
            self._usage = None
        return out

    def close(self) -> list[hub.Event]:
        if self._done:
            return []
        # A cut stream: flush what is held, report usage if any, but never invent a finish.
        return self._end(complete=False)
