"""Keeps reasoning signatures alive across dialects that cannot carry them.

Anthropic (thinking + signature), Gemini (thoughtSignature) and Responses
(encrypted_content) reject a tool-use turn whose reasoning is not replayed exactly. A client
in another dialect (OpenAI Chat has no field for it) drops it. So when a translated response
makes tool calls, the gateway remembers the turn's reasoning and the calls' signatures under
each tool-call id, and puts them back when the client sends that turn again. Bounded (LRU).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from gateway.formats import hub

DEFAULT_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class _Turn:
    reasoning: tuple[hub.Reasoning, ...]
    signatures: tuple[tuple[str, str], ...]  # (tool call id, signature)


@dataclass
class ReplayCache:
    max_entries: int = DEFAULT_ENTRIES
    _turns: OrderedDict[str, _Turn] = field(default_factory=OrderedDict)

    def remember(self, reasoning: list[hub.Reasoning], tool_calls: list[hub.ToolCall]) -> None:
        """Record one assistant turn (only worth it when it made tool calls and has a
        signature somewhere)."""
        if not tool_calls:
            return
        signed = [r for r in reasoning if r.get("signature") or r.get("redacted")]
        signatures = tuple((c["id"], c["signature"]) for c in tool_calls if c.get("signature"))
        if not signed and not signatures:
            return
        turn = _Turn(tuple(reasoning), signatures)
        for call in tool_calls:
            self._turns[call["id"]] = turn
            self._turns.move_to_end(call["id"])
        while len(self._turns) > self.max_entries:
            self._turns.popitem(last=False)

    def restore(self, request: hub.Request) -> None:
        """Give back reasoning and signatures the client dropped. Mutates ``request``'s
        assistant messages in place (they belong to this request only)."""
        for message in request.get("messages", ()):
            calls = message.get("tool_calls")
            if message["role"] != "assistant" or not calls:
                continue
            turn = self._turns.get(calls[0]["id"])
            if turn is None:
                continue
            has_signed = any(
                r.get("signature") or r.get("redacted") for r in message.get("reasoning", ())
            )
            if not has_signed and turn.reasoning:
                message["reasoning"] = list(turn.reasoning)
            known = dict(turn.signatures)
            for call in calls:
                if not call.get("signature") and call["id"] in known:
                    call["signature"] = known[call["id"]]

    def __len__(self) -> int:
        return len(self._turns)


class TurnRecorder:
    """Collects reasoning and tool calls from hub stream events, for ``ReplayCache.remember``."""

    def __init__(self) -> None:
        self.reasoning: list[hub.Reasoning] = []
        self.tool_calls: dict[int, hub.ToolCall] = {}
        self._text: list[str] = []

    def see(self, event: hub.Event) -> None:
        if event["type"] == "reasoning_delta":
            self._text.append(event["text"])
        elif event["type"] == "reasoning_signature":
            self.reasoning.append({"text": "".join(self._text), "signature": event["signature"]})
            self._text = []
        elif event["type"] == "redacted_reasoning":
            self.reasoning.append({"text": "", "redacted": event["data"]})
        elif event["type"] == "tool_call_start":
            call: hub.ToolCall = {"id": event["id"], "name": event["name"], "arguments": ""}
            if "signature" in event:
                call["signature"] = event["signature"]
            self.tool_calls[event["index"]] = call

    def finish(self, cache: ReplayCache) -> None:
        reasoning = list(self.reasoning)
        if self._text:
            reasoning.append({"text": "".join(self._text)})
        cache.remember(reasoning, [self.tool_calls[i] for i in sorted(self.tool_calls)])
