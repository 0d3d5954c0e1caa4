"""Upstream Anthropic SSE events → hub stream events.

Anthropic numbers content blocks across the whole message (thinking 0, text 1, tool_use 2);
the hub numbers tool calls alone, from 0 in call order, so blocks are mapped as they open.
Usage arrives in two halves (``message_start`` has the input side, ``message_delta`` the
cumulative output side) and is reported once, with the finish, at ``message_stop``: the
terminal event. A stream cut before it gets no finish from close().
"""

from __future__ import annotations

from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.anthropic.errors import error_object_to_hub
from gateway.formats.anthropic.response import finish_to_hub, usage_to_hub
from gateway.formats.sse import SSEEvent

# What an open Anthropic block is, for its deltas: text, thinking, or a hub tool index (int).
_TEXT = "text"
_THINKING = "thinking"
_IGNORED = "ignored"


class AnthropicStreamParser:
    __slots__ = ("_blocks", "_done", "_stop_reason", "_stop_sequence", "_tools", "_usage")

    def __init__(self) -> None:
        self._blocks: dict[int, str | int] = {}
        self._tools = 0
        self._usage: dict[str, Any] = {}
        self._stop_reason: Any = None
        self._stop_sequence: Any = None
        self._done = False

    def feed(self, event: SSEEvent) -> list[hub.Event]:
        if self._done or not event.data:
            return []
        try:
            data = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            return []  # a stray non-JSON line is not worth failing a stream over
        if not isinstance(data, dict):
            return []
        kind = data.get("type") or event.event
        if kind == "content_block_delta":
            return self._delta(data)
        if kind == "content_block_start":
            return self._start(data)
        if kind == "message_start":
            return self._message_start(data)
        if kind == "message_delta":
            self._message_delta(data)
            return []
        if kind == "message_stop":
            return self._message_stop()
        if kind == "error":
            self._done = True
            error = error_object_to_hub(data, None) or {
                "status": 500,
                "kind": "server",
                "message": "Upstream stream error.",
            }
            return [{"type": "error", "error": error}]
        return []  # ping, content_block_stop (nothing to say), event types added later

    def close(self) -> list[hub.Event]:
        if self._done or not self._usage:
            return []
        # Cut before message_stop: the tokens were still spent, but there is no finish.
        self._done = True
        return [{"type": "usage", "usage": usage_to_hub(self._usage)}]

    def _message_start(self, data: dict[str, Any]) -> list[hub.Event]:
        message = data.get("message")
        if not isinstance(message, dict):
            return []
        usage = message.get("usage")
        if isinstance(usage, dict):
            self._usage.update(usage)
        return [
            {
                "type": "start",
                "id": str(message.get("id") or ""),
                "model": str(message.get("model") or ""),
            }
        ]

    def _start(self, data: dict[str, Any]) -> list[hub.Event]:
        block = data.get("content_block")
        index = data.get("index")
        if not isinstance(block, dict) or not isinstance(index, int):
            return []
        kind = block.get("type")
        if kind == "text":
            self._blocks[index] = _TEXT
            text = block.get("text")
            return [{"type": "text_delta", "text": text}] if isinstance(text, str) and text else []
        if kind == "thinking":
            self._blocks[index] = _THINKING
            out: list[hub.Event] = []
            if block.get("thinking"):
                out.append({"type": "reasoning_delta", "text": str(block["thinking"])})
            if block.get("signature"):
                out.append({"type": "reasoning_signature", "signature": str(block["signature"])})
            return out
        if kind == "redacted_thinking":
            self._blocks[index] = _IGNORED
            return [{"type": "redacted_reasoning", "data": str(block.get("data") or "")}]
        if kind == "tool_use":
            tool = self._tools
            self._tools += 1
            self._blocks[index] = tool
            out = [
                {
                    "type": "tool_call_start",
                    "index": tool,
                    "id": str(block.get("id") or ""),
                    "name": str(block.get("name") or ""),
                }
            ]
            if block.get("input"):  # normally {} with the input streamed as JSON fragments
                out.append(
                    {
                        "type": "tool_call_delta",
                        "index": tool,
                        "arguments": orjson.dumps(block["input"]).decode(),
                    }
                )
            return out
        self._blocks[index] = _IGNORED  # server tools, their results, future block types
        return []

    def _delta(self, data: dict[str, Any]) -> list[hub.Event]:
        delta, index = data.get("delta"), data.get("index")
        target = self._blocks.get(index) if isinstance(index, int) else None
        if not isinstance(delta, dict) or target is None:
            return []
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            if target == _TEXT and isinstance(text, str) and text:
                return [{"type": "text_delta", "text": text}]
        elif kind == "input_json_delta":
            fragment = delta.get("partial_json")
            if isinstance(target, int) and isinstance(fragment, str) and fragment:
                return [{"type": "tool_call_delta", "index": target, "arguments": fragment}]
        elif kind == "thinking_delta":
            text = delta.get("thinking")
            if target == _THINKING and isinstance(text, str) and text:
                return [{"type": "reasoning_delta", "text": text}]
        elif kind == "signature_delta":
            signature = delta.get("signature")
            if target == _THINKING and isinstance(signature, str):
                return [{"type": "reasoning_signature", "signature": signature}]
        return []  # citations_delta and deltas of ignored blocks

    def _message_delta(self, data: dict[str, Any]) -> None:
        delta = data.get("delta")
        if isinstance(delta, dict):
            if delta.get("stop_reason") is not None:
                self._stop_reason = delta["stop_reason"]
            if delta.get("stop_sequence") is not None:
                self._stop_sequence = delta["stop_sequence"]
        usage = data.get("usage")
        if isinstance(usage, dict):
            # cumulative totals: later values replace earlier ones, absent ones are kept
            self._usage.update({k: v for k, v in usage.items() if v is not None})

    def _message_stop(self) -> list[hub.Event]:
        self._done = True
        out: list[hub.Event] = []
        if self._usage:
            out.append({"type": "usage", "usage": usage_to_hub(self._usage)})
        finish: hub.FinishEvent = {"type": "finish", "reason": finish_to_hub(self._stop_reason)}
        if isinstance(self._stop_sequence, str):
            finish["stop_sequence"] = self._stop_sequence
        out.append(finish)
        return out
