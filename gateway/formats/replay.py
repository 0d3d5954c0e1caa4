"""Keeps reasoning signatures alive across dialects that cannot carry them, and away from
upstreams that did not make them.

Anthropic (thinking + signature), Gemini (thoughtSignature) and Responses
(encrypted_content) reject a tool-use turn whose reasoning is not replayed exactly. A client
in another dialect (OpenAI Chat has no field for it) drops it. So when a translated response
makes tool calls, the gateway remembers the turn's reasoning and the calls' signatures under
each tool-call id, and puts them back when the client sends that turn again. Bounded (LRU).

A signature is only valid where it was made: Anthropic rejects Gemini's, Gemini rejects
Anthropic's. Every signature a translated response hands out is recorded with its origin
(``signature_origin``: the upstream's dialect and provider alias). ``restore`` stamps each
signature of a request with its origin — recorded, or else the client's own dialect (what
the client got from a same-dialect upstream, relayed unparsed) — and ``for_target`` removes
the ones another origin made before the request is emitted for an upstream.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.formats import hub

DEFAULT_ENTRIES = 4096


def signature_origin(dialect: str, alias: str) -> str:
    """Who makes (and accepts) an upstream's signatures: ``"<dialect>:<provider alias>"``.
    A bare ``"<dialect>"`` means "an upstream of that dialect, which one unknown"."""
    return f"{dialect}:{alias}"


def foreign(origin: str, target: str) -> bool:
    """Whether a signature made at ``origin`` would be rejected by the upstream ``target``.
    An origin whose provider is unknown is trusted by every upstream of its dialect."""
    dialect, _, provider = origin.partition(":")
    target_dialect, _, target_provider = target.partition(":")
    return dialect != target_dialect or (provider != "" and provider != target_provider)


@dataclass(frozen=True, slots=True)
class _Turn:
    reasoning: tuple[hub.Reasoning, ...]
    signatures: tuple[tuple[str, str], ...]  # (tool call id, signature)
    origin: str | None


@dataclass
class ReplayCache:
    max_entries: int = DEFAULT_ENTRIES
    origin: str | None = None  # stamped on what this view remembers: see for_origin
    _turns: OrderedDict[str, _Turn] = field(default_factory=OrderedDict)
    # hash(signature) -> origin, for every signature handed to a client (hashes: signatures
    # run to kilobytes; a collision could only misplace one signature's origin).
    _origins: OrderedDict[int, str] = field(default_factory=OrderedDict)

    def for_origin(self, origin: str) -> ReplayCache:
        """A view of this same cache whose ``remember`` records ``origin`` (the upstream that
        produced the response being remembered)."""
        return dataclasses.replace(self, origin=origin)

    def remember(self, reasoning: list[hub.Reasoning], tool_calls: list[hub.ToolCall]) -> None:
        """Record one assistant turn (only worth it when it made tool calls and has a
        signature somewhere), and the origin of every signature in it."""
        origin = self.origin
        if origin is not None:
            self._note(origin, (r.get("signature") or r.get("redacted") for r in reasoning))
            self._note(origin, (c.get("signature") for c in tool_calls))
        if not tool_calls:
            return
        signed = [r for r in reasoning if r.get("signature") or r.get("redacted")]
        signatures = tuple((c["id"], c["signature"]) for c in tool_calls if c.get("signature"))
        if not signed and not signatures:
            return
        if origin is not None:
            reasoning = [_stamped(r, origin) for r in reasoning]
        turn = _Turn(tuple(reasoning), signatures, origin)
        for call in tool_calls:
            self._turns[call["id"]] = turn
            self._turns.move_to_end(call["id"])
        while len(self._turns) > self.max_entries:
            self._turns.popitem(last=False)

    def restore(self, request: hub.Request, client_dialect: str = "") -> None:
        """Give back reasoning and signatures the client dropped, and stamp every signature
        with its origin (recorded, else ``client_dialect``). Mutates ``request``'s assistant
        messages in place (they belong to this request only)."""
        for message in request.get("messages", ()):
            if message["role"] != "assistant":
                continue
            calls = message.get("tool_calls")
            if calls:
                self._restore_turn(message, calls)
            for block in message.get("reasoning", ()):
                self._stamp(block, block.get("signature") or block.get("redacted"), client_dialect)
            for call in calls or ():
                self._stamp(call, call.get("signature"), client_dialect)

    def _restore_turn(self, message: hub.Message, calls: list[hub.ToolCall]) -> None:
        turn = self._turns.get(calls[0]["id"])
        if turn is None:
            return
        has_signed = any(
            r.get("signature") or r.get("redacted") for r in message.get("reasoning", ())
        )
        if not has_signed and turn.reasoning:
            message["reasoning"] = list(turn.reasoning)
        known = dict(turn.signatures)
        for call in calls:
            if not call.get("signature") and call["id"] in known:
                call["signature"] = known[call["id"]]
                if turn.origin is not None:
                    call["origin"] = turn.origin

    def _stamp(
        self, item: hub.Reasoning | hub.ToolCall, signature: str | None, default: str
    ) -> None:
        if signature and "origin" not in item:
            origin = self._origins.get(hash(signature)) or default
            if origin:
                item["origin"] = origin

    @property
    def knows_origins(self) -> bool:
        """Whether any signature's origin is recorded (else nothing can be known foreign)."""
        return bool(self._origins)

    def carries_foreign(self, signatures: Iterable[str], target: str) -> bool:
        """Whether any of ``signatures`` (from a client's own request) is known to come from
        another origin than ``target``."""
        if not self._origins:
            return False
        origins = self._origins
        return any(
            (origin := origins.get(hash(signature))) is not None and foreign(origin, target)
            for signature in signatures
        )

    def _note(self, origin: str, signatures: Iterable[str | None]) -> None:
        origins = self._origins
        for signature in signatures:
            if signature:
                key = hash(signature)
                origins[key] = origin
                origins.move_to_end(key)
        while len(origins) > 2 * self.max_entries:
            origins.popitem(last=False)

    def __len__(self) -> int:
        return len(self._turns)


def for_target(messages: list[hub.Message], target: str) -> list[hub.Message]:
    """``messages`` without the signatures the upstream ``target`` would reject: a foreign
    signature is removed (its reasoning text stays, for dialects that take unsigned reasoning;
    each emitter drops what its API refuses), foreign redacted reasoning is removed whole.
    Copies only the messages it changes; ``messages`` is left as it is (other targets)."""
    out: list[hub.Message] | None = None
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        cleaned = _cleaned(message, target)
        if cleaned is not message:
            if out is None:
                out = list(messages)
            out[index] = cleaned
    return messages if out is None else out


def _is_foreign(item: hub.Reasoning | hub.ToolCall, target: str) -> bool:
    origin = item.get("origin")
    return origin is not None and foreign(origin, target)


def _cleaned(message: hub.Message, target: str) -> hub.Message:
    reasoning = message.get("reasoning", [])
    calls = message.get("tool_calls", [])
    if not any(_is_foreign(r, target) for r in reasoning) and not any(
        _is_foreign(c, target) for c in calls
    ):
        return message
    kept: list[hub.Reasoning] = []
    for block in reasoning:
        if not _is_foreign(block, target):
            kept.append(block)
        elif not block.get("redacted"):  # redacted data means nothing without its maker
            kept.append({"text": block["text"]})
    copy: hub.Message = {**message, "reasoning": kept}
    if calls:
        copy["tool_calls"] = [_unsigned(c) if _is_foreign(c, target) else c for c in calls]
    return copy


def _unsigned(call: hub.ToolCall) -> hub.ToolCall:
    return {"id": call["id"], "name": call["name"], "arguments": call["arguments"]}


def _stamped(block: hub.Reasoning, origin: str) -> hub.Reasoning:
    if not (block.get("signature") or block.get("redacted")):
        return block
    return {**block, "origin": origin}


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
