"""Errors the gateway itself raises; rendered in the client's dialect by its codec."""

from __future__ import annotations

from aiohttp import web

from gateway.formats import hub
from gateway.formats.codec import Codec


class GatewayError(Exception):
    """A request failed in a way the client can act on: status, message and machine code."""

    def __init__(
        self, status: int, message: str, *, code: str, kind: hub.ErrorKind | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.kind: hub.ErrorKind = kind or hub.kind_for_status(status)
        self.retry_after: int | None = None  # seconds, sent as Retry-After when known

    def to_hub(self) -> hub.Error:
        return {
            "status": self.status,
            "kind": self.kind,
            "message": self.message,
            "code": self.code,
        }


def error_response(
    codec: Codec, error: hub.Error, request_id: str, headers: dict[str, str] | None = None
) -> web.Response:
    status, body = codec.error_from_hub(error)
    return web.Response(
        status=status,
        body=body,
        content_type="application/json",
        headers={"X-Request-Id": request_id, **(headers or {})},
    )


def bad_request(message: str, *, code: str = "invalid_request") -> GatewayError:
    return GatewayError(400, message, code=code)


def unauthorized(message: str) -> GatewayError:
    return GatewayError(401, message, code="invalid_api_key")
