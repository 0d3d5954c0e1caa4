"""The OpenAI Chat Completions codec: wires the request, response, stream and error
modules into the gateway's Codec protocol."""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.openai_chat.errors import error_from_hub, error_to_hub
from gateway.formats.openai_chat.request_emit import request_from_hub
from gateway.formats.openai_chat.request_parse import request_to_hub
from gateway.formats.openai_chat.response import response_from_hub, response_to_hub
from gateway.formats.openai_chat.stream_emit import OpenAIChatStreamEmitter
from gateway.formats.openai_chat.stream_parse import OpenAIChatStreamParser


class OpenAIChatCodec:
    dialect: hub.Dialect = "openai"

    def request_to_hub(self, body: dict[str, Any]) -> hub.Request:
        return request_to_hub(body)

    def request_from_hub(self, request: hub.Request) -> dict[str, Any]:
        return request_from_hub(request)

    def upstream_headers(self, request: hub.Request) -> dict[str, str]:
        return {}  # nothing request-specific: auth headers are the executor's

    def response_to_hub(self, body: dict[str, Any]) -> hub.Response:
        return response_to_hub(body)

    def response_from_hub(self, response: hub.Response, request: hub.Request) -> dict[str, Any]:
        return response_from_hub(response, request)

    def stream_parser(self) -> OpenAIChatStreamParser:
        return OpenAIChatStreamParser()

    def stream_emitter(self, request: hub.Request) -> OpenAIChatStreamEmitter:
        return OpenAIChatStreamEmitter(request)

    def error_to_hub(self, status: int, body: bytes) -> hub.Error:
        return error_to_hub(status, body)

    def error_from_hub(self, error: hub.Error) -> tuple[int, bytes]:
        return error_from_hub(error)


CODEC = OpenAIChatCodec()
