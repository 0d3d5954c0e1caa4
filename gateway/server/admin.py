"""Admin routes for the ``switchboard`` CLI on this machine: the routing health view and its
reset. Only a loopback peer (else 403) presenting the admin token of this run in
``X-Switchboard-Admin`` (else 401) gets through; the token is in the 0600 runtime file
(gateway/run_file.py), never in a client API key's place, and client keys never open these
routes. Nothing here is written to the request log.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

import orjson
from aiohttp import web

from gateway.formats.codec import codec_for
from gateway.routing.health import UnknownTarget, build_report, reset
from gateway.run_file import ADMIN_HEADER, HEALTH_PATH, RESET_PATH
from gateway.server.errors import GatewayError, bad_request, error_response
from gateway.server.request_io import parse_json_object, read_body, request_id_for
from gateway.server.runtime import RUNTIME

ADMIN_TOKEN = web.AppKey("admin_token", str)
_RESET_FIELDS = {"provider": str, "connection": str, "stats": bool}


def add_routes(app: web.Application, admin_token: str | None) -> None:
    """Register the routes; with no token (an app built without a service) they refuse all."""
    app[ADMIN_TOKEN] = admin_token or ""
    app.router.add_get(HEALTH_PATH, health)
    app.router.add_post(RESET_PATH, reset_health)


async def health(request: web.Request) -> web.Response:
    try:
        _authorize(request)
    except GatewayError as error:
        return _error(request, error)
    runtime = request.app[RUNTIME]
    report = build_report(runtime.router, runtime.snapshot.upstreams)
    return _json(report.to_dict())


async def reset_health(request: web.Request) -> web.Response:
    try:
        _authorize(request)
        raw = await read_body(request, 1)
        body = parse_json_object(raw) if raw.strip() else {}
        scope = _reset_scope(body)
        runtime = request.app[RUNTIME]
        try:
            cleared = reset(runtime.router, runtime.snapshot.upstreams, **scope)
        except UnknownTarget as exc:
            raise GatewayError(404, f"Nothing to reset: {exc}.", code="not_found") from None
    except GatewayError as error:
        return _error(request, error)
    return _json({"cleared": cleared})


def _authorize(request: web.Request) -> None:
    if not _is_loopback(request.remote or ""):
        raise GatewayError(
            403, "The admin routes answer on this machine only (a loopback peer).", code="forbidden"
        )
    expected = request.app[ADMIN_TOKEN]
    given = request.headers.get(ADMIN_HEADER, "")
    # Constant time; bytes, because compare_digest refuses non-ASCII str.
    if not expected or not hmac.compare_digest(
        given.encode("utf-8", "replace"), expected.encode("utf-8")
    ):
        raise GatewayError(
            401,
            f"Missing or wrong {ADMIN_HEADER} token: the admin routes are for the switchboard "
            "command on this machine, which reads the token from the gateway's runtime file.",
            code="invalid_admin_token",
        )


def _is_loopback(remote: str) -> bool:
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False  # a Unix socket or an unknown peer: not provably local
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _reset_scope(body: dict[str, Any]) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    for name, value in body.items():
        kind = _RESET_FIELDS.get(name)
        if kind is None:
            raise bad_request(
                f"Unknown field {name!r}; a reset takes 'provider', 'connection' and 'stats'."
            )
        if value is None:
            continue
        if not isinstance(value, kind):
            raise bad_request(f"{name!r} must be a {'boolean' if kind is bool else 'string'}.")
        scope[name] = value
    if "provider" in scope and "connection" in scope:
        raise bad_request("Reset one provider or one connection, not both.")
    return scope


def _json(value: Any) -> web.Response:
    return web.Response(body=orjson.dumps(value), content_type="application/json")


def _error(request: web.Request, error: GatewayError) -> web.Response:
    return error_response(codec_for("openai"), error.to_hub(), request_id_for(request))
