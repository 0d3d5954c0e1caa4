"""Errors the gateway itself raises, rendered in the client's dialect (OpenAI's for now)."""

from __future__ import annotations

import orjson
from aiohttp import web


class GatewayError(Exception):
    """A request failed in a way the client can act on: status, message and machine code."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str,
        type: str = "invalid_request_error",
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.type = type
        self.param = param


def openai_error_body(error: GatewayError) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "message": error.message,
                "type": error.type,
                "param": error.param,
                "code": error.code,
            }
        }
    )


def openai_error_response(error: GatewayError, request_id: str) -> web.Response:
    return web.Response(
        status=error.status,
        body=openai_error_body(error),
        content_type="application/json",
        headers={"X-Request-Id": request_id},
    )


def bad_request(
    message: str, *, code: str = "invalid_request", param: str | None = None
) -> GatewayError:
    return GatewayError(400, message, code=code, param=param)


def unauthorized(message: str) -> GatewayError:
    return GatewayError(401, message, code="invalid_api_key")


def upstream_unreachable(message: str) -> GatewayError:
    return GatewayError(502, message, code="upstream_unreachable", type="api_error")


def upstream_timeout(message: str) -> GatewayError:
    return GatewayError(504, message, code="upstream_timeout", type="api_error")
