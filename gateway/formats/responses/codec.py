"""The Responses codec: the module's functions behind the Codec protocol."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.responses import errors
from gateway.formats.responses.request_emit import request_from_hub
from gateway.formats.responses.request_parse import request_to_hub
from gateway.formats.responses.response_emit import response_from_hub
from gateway.formats.responses.response_parse import response_to_hub
from gateway.formats.responses.stream_emit import ResponsesStreamEmitter
from gateway.formats.responses.stream_parse import ResponsesStreamParser


class ResponsesCodec:
    dialect: hub.Dialect = "responses"

    def request_to_hub(self, body: dict[str, Any]) -> hub.Request:
        return request_to_hub(body)

    def request_from_hub(self, request: hub.Request) -> dict[str, Any]:
        return request_from_hub(request)

    def upstream_headers(self, request: hub.Request) -> dict[str, str]:
        return {}  # bearer auth is the executor's; the Responses API needs no other header

    def response_to_hub(self, body: dict[str, Any]) -> hub.Response:
        return response_to_hub(body)

    def response_from_hub(self, response: hub.Response, request: hub.Request) -> dict[str, Any]:
        return response_from_hub(response, request)

    def stream_parser(self) -> ResponsesStreamParser:
        return ResponsesStreamParser()

    def stream_emitter(self, request: hub.Request) -> ResponsesStreamEmitter:
        return ResponsesStreamEmitter(request)

    def error_to_hub(self, status: int, body: bytes) -> hub.Error:
        return errors.error_to_hub(status, body)

    def error_from_hub(self, error: hub.Error) -> tuple[int, bytes]:
        return errors.error_from_hub(error)


CODEC = ResponsesCodec()
