"""Anthropic Messages API (``/v1/messages``) ⇄ hub.

Layout: ``request`` (bodies), ``thinking`` (reasoning settings), ``content`` (blocks ⇄ parts),
``response`` (messages, stop reasons, usage), ``stream_parse`` / ``stream_emit`` (SSE) and
``errors``. ``CODEC`` is what ``gateway.formats.codec.codec_for("anthropic")`` returns.
"""

from __future__ import annotations

from typing import Any

from gateway.formats import hub
from gateway.formats.anthropic.errors import error_from_hub, error_to_hub
from gateway.formats.anthropic.request import request_from_hub, request_to_hub, upstream_headers
from gateway.formats.anthropic.response import response_from_hub, response_to_hub
from gateway.formats.anthropic.stream_emit import AnthropicStreamEmitter
from gateway.formats.anthropic.stream_parse import AnthropicStreamParser


class AnthropicCodec:
    dialect: hub.Dialect = "anthropic"

    def request_to_hub(self, body: dict[str, Any]) -> hub.Request:
        return request_to_hub(body)

    def request_from_hub(self, request: hub.Request) -> dict[str, Any]:
        return request_from_hub(request)

    def upstream_headers(self, request: hub.Request) -> dict[str, str]:
        return upstream_headers(request)

    def response_to_hub(self, body: dict[str, Any]) -> hub.Response:
        return response_to_hub(body)

    def response_from_hub(self, response: hub.Response, request: hub.Request) -> dict[str, Any]:
        return response_from_hub(response, request)

    def stream_parser(self) -> AnthropicStreamParser:
        return AnthropicStreamParser()

    def stream_emitter(self, request: hub.Request) -> AnthropicStreamEmitter:
        return AnthropicStreamEmitter(request)

    def error_to_hub(self, status: int, body: bytes) -> hub.Error:
        return error_to_hub(status, body)

    def error_from_hub(self, error: hub.Error) -> tuple[int, bytes]:
        return error_from_hub(error)


CODEC = AnthropicCodec()

__all__ = ["CODEC", "AnthropicCodec"]
