"""Admin route guards without a socket: a peer that is not loopback is refused before the
token is even looked at, and loopback is recognised in every spelling."""

from __future__ import annotations

from typing import Any
from unittest import mock

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.run_file import ADMIN_HEADER, HEALTH_PATH, RESET_PATH
from gateway.server import admin

TOKEN = "t" * 43


def request_from(
    peer: str, method: str, path: str, token: str | None, app_token: str | None = TOKEN
) -> web.Request:
    app = web.Application()
    admin.add_routes(app, app_token)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (peer, 40000) if name == "peername" else default
    )
    headers = {ADMIN_HEADER: token} if token is not None else {}
    return make_mocked_request(method, path, headers=headers, app=app, transport=transport)


def error_of(response: web.StreamResponse) -> dict[str, Any]:
    assert isinstance(response, web.Response) and response.body is not None
    body: dict[str, Any] = orjson.loads(response.body)["error"]  # type: ignore[arg-type]
    return body


@pytest.mark.parametrize("peer", ["203.0.113.9", "192.168.1.20", "::ffff:10.0.0.1", "2001:db8::1"])
@pytest.mark.parametrize(
    ("method", "path", "handler"),
    [("GET", HEALTH_PATH, admin.health), ("POST", RESET_PATH, admin.reset_health)],
)
async def test_a_remote_peer_is_refused_even_with_the_token(
    peer: str, method: str, path: str, handler: Any
) -> None:
    response = await handler(request_from(peer, method, path, TOKEN))
    assert response.status == 403
    assert error_of(response)["message"] == (
        "The admin routes answer on this machine only (a loopback peer)."
    )


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
async def test_a_loopback_peer_still_needs_the_token(peer: str) -> None:
    response = await admin.health(request_from(peer, "GET", HEALTH_PATH, None))
    assert response.status == 401
    assert error_of(response)["code"] == "invalid_admin_token"


async def test_an_app_without_a_token_refuses_even_an_empty_header() -> None:
    response = await admin.health(request_from("127.0.0.1", "GET", HEALTH_PATH, "", None))
    assert response.status == 401
    assert error_of(response)["code"] == "invalid_admin_token"
