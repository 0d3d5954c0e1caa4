"""The aiohttp application: routes only. State lives in Runtime (see runtime.py)."""

from __future__ import annotations

from aiohttp import web

from gateway.server.info import health, list_models, not_found
from gateway.server.openai_chat import chat_completions
from gateway.server.runtime import RUNTIME, Runtime

# The body limit is enforced per request from the live settings (request_io.read_body), so
# aiohttp's own cap only guards against absurd sizes.
_HARD_BODY_CAP = 1024 * 1024 * 1024


def create_app(runtime: Runtime) -> web.Application:
    app = web.Application(client_max_size=_HARD_BODY_CAP)
    app[RUNTIME] = runtime
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/health", health)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
