"""What every dialect module provides: the Codec protocol and the registry of codecs.

A codec is pure: no IO, no clock, no global state beyond constants. The gateway calls
``*_to_hub`` on what it receives and ``*_from_hub`` on what it sends, for the client's dialect
and the upstream's dialect.
"""

from __future__ import annotations

from typing import Any, Protocol

from gateway.formats import hub
from gateway.formats.sse import SSEEvent


class StreamParser(Protocol):
    """Upstream SSE events of one dialect → hub events. One instance per stream."""

    def feed(self, event: SSEEvent) -> list[hub.Event]: ...

    def close(self) -> list[hub.Event]:
        """End of the upstream stream: flush what is pending (e.g. a held-back ``<think>``
        fragment). If the upstream ended without its terminal event, do NOT invent a finish:
        the gateway treats a missing finish as an interrupted stream."""
        ...


class StreamEmitter(Protocol):
    """Hub events → the client's wire bytes (SSE framing included). One instance per stream."""

    def feed(self, event: hub.Event) -> bytes: ...

    def close(self) -> bytes:
        """Everything still owed to make the stream well-formed and finished (close open
        blocks, final usage, terminal event). Idempotent; after an error event, only what the
        dialect's error ending requires."""
        ...

    def keepalive(self) -> bytes:
        """Bytes to send during a long upstream silence (a comment or the dialect's ping)."""
        ...


class Codec(Protocol):
    dialect: hub.Dialect

    def request_to_hub(self, body: dict[str, Any]) -> hub.Request: ...

    def request_from_hub(self, request: hub.Request) -> dict[str, Any]: ...

    def upstream_headers(self, request: hub.Request) -> dict[str, str]:
        """Extra headers this request needs upstream (e.g. Anthropic beta flags)."""
        ...

    def response_to_hub(self, body: dict[str, Any]) -> hub.Response: ...

    def response_from_hub(self, response: hub.Response, request: hub.Request) -> dict[str, Any]:
        """``request`` is the client's request in hub form (for echoing model, tools, ...)."""
        ...

    def stream_parser(self) -> StreamParser: ...

    def stream_emitter(self, request: hub.Request) -> StreamEmitter: ...

    def error_to_hub(self, status: int, body: bytes) -> hub.Error:
        """An upstream error response (any body, even not JSON) → hub error."""
        ...

    def error_from_hub(self, error: hub.Error) -> tuple[int, bytes]:
        """A hub error → (HTTP status, JSON body) in this dialect's error shape."""
        ...


def codec_for(dialect: str) -> Codec:
    """The codec of a dialect (imported lazily: a gateway serving one dialect loads one)."""
    if dialect == "openai":
        from gateway.formats.openai_chat import CODEC as openai_codec

        return openai_codec
    if dialect == "anthropic":
        from gateway.formats.anthropic import CODEC as anthropic_codec

        return anthropic_codec
    if dialect == "gemini":
        from gateway.formats.gemini import CODEC as gemini_codec

        return gemini_codec
    if dialect == "responses":
        from gateway.formats.responses import CODEC as responses_codec

        return responses_codec
    raise ValueError(f"unknown dialect {dialect!r}")
