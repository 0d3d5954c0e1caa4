"""The Gemini ``generateContent`` (v1beta) codec: wires the translation modules together."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.gemini.errors import error_from_hub, error_to_hub
from gateway.formats.gemini.request_in import request_to_hub
from gateway.formats.gemini.request_out import request_from_hub
from gateway.formats.gemini.response import response_from_hub, response_to_hub
from gateway.formats.gemini.stream_in import GeminiStreamParser
from gateway.formats.gemini.stream_out import GeminiStreamEmitter


class GeminiCodec:
    dialect: hub.Dialect = "gemini"

    def request_to_hub(self, body: dict[str, Any]) -> hub.Request:
        return request_to_hub(body)

    def request_from_hub(self, request: hub.Request) -> dict[str, Any]:
        return request_from_hub(request)

    def upstream_headers(self, request: hub.Request) -> dict[str, str]:
        return {}

    def response_to_hub(self, body: dict[str, Any]) -> hub.Response:
        return response_to_hub(body)

    def response_from_hub(self, response: hub.Response, request: hub.Request) -> dict[str, Any]:
        return response_from_hub(response, request)

    def stream_parser(self) -> GeminiStreamParser:
        return GeminiStreamParser()

    def stream_emitter(self, request: hub.Request) -> GeminiStreamEmitter:
        """SSE framing (``alt=sse``); see ``array_stream_emitter`` for the JSON-array one."""
        return GeminiStreamEmitter(request)

    def array_stream_emitter(self, request: hub.Request) -> GeminiStreamEmitter:
        """For a ``streamGenerateContent`` call without ``alt=sse``: one JSON array."""
        return GeminiStreamEmitter(request, json_array=True)

    def error_to_hub(self, status: int, body: bytes) -> hub.Error:
        return error_to_hub(status, body)

    def error_from_hub(self, error: hub.Error) -> tuple[int, bytes]:
        return error_from_hub(error)
