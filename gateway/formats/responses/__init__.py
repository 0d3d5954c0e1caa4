"""OpenAI Responses API (``/v1/responses``) ⇄ hub. Field-by-field mapping and known limits:
docs/dialects/responses.md.

Layout: ``request_parse`` / ``request_emit`` (requests to and from the hub),
``response_parse`` / ``response_emit`` (whole responses), ``stream_parse`` / ``stream_emit``
(SSE state machines; ``stream_wire`` writes the emitted bytes), ``errors``. Shared pieces:
``parts`` (content), ``items`` (function call and reasoning items), ``settings`` (tools,
tool_choice, text.format, reasoning), ``usage`` (usage and status), ``envelope`` (the
Response object).
"""

from gateway.formats.responses.codec import CODEC, ResponsesCodec

__all__ = ["CODEC", "ResponsesCodec"]
