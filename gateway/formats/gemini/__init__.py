"""Gemini ``generateContent`` / ``streamGenerateContent`` (v1beta) ⇄ hub.

Layout: ``request_in``/``request_out`` (request bodies), ``parts`` (model parts → hub, with
the signature rules), ``response`` (bodies and usage), ``stream_in``/``stream_out`` (SSE
parser; SSE or JSON-array emitter), ``errors``, ``schema`` (JSON Schema ⇄ Gemini Schema),
``wire`` (shared helpers). Mapping: docs/dialects/gemini.md.
"""

from __future__ import annotations

from gateway.formats.gemini.codec import GeminiCodec
from gateway.formats.gemini.stream_in import GeminiStreamParser
from gateway.formats.gemini.stream_out import GeminiStreamEmitter

# Satisfies gateway.formats.codec.Codec (checked in tests/unit/gateway/formats/gemini).
CODEC = GeminiCodec()

__all__ = ["CODEC", "GeminiCodec", "GeminiStreamEmitter", "GeminiStreamParser"]
