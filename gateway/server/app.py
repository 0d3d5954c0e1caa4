"""The aiohttp application: routes only. State lives in Runtime (see runtime.py)."""

from __future__ import annotations

from aiohttp import web

from gateway.server import admin, anthropic_messages, gemini_api, info, openai_chat, responses_api
from gateway.server.replays import add_headers
from gateway.server.runtime import RUNTIME, Runtime

# The body limit is enforced per request from the live settings (request_io.read_body), so
# aiohttp's own cap only guards against absurd sizes.
_HARD_BODY_CAP = 1024 * 1024 * 1024


def create_app(runtime: Runtime, admin_token: str | None = None) -> web.Application:
    app = web.Application(client_max_size=_HARD_BODY_CAP)
    app[RUNTIME] = runtime
    app.on_response_prepare.append(add_headers)
    add = app.router
    add.add_post("/v1/chat/completions", openai_chat.chat_completions)
    add.add_post("/v1/messages", anthropic_messages.create_message)
    add.add_post("/v1/messages/count_tokens", anthropic_messages.count_tokens)
    add.add_post("/v1/responses", responses_api.create_response)
    add.add_get("/v1beta/models", gemini_api.list_models)
    add.add_post("/v1beta/models/{tail:.+}", gemini_api.model_action)
    add.add_get("/v1beta/models/{tail:.+}", gemini_api.get_model)
    # google-genai defaults to API version v1: the same methods under /v1/models/.
    add.add_post("/v1/models/{tail:.+}", gemini_api.model_action)
    add.add_get("/v1/models", info.list_models)
    add.add_get("/health", info.health)
    admin.add_routes(app, admin_token)  # the CLI's health view; refused without the token
    add.add_route("*", "/{tail:.*}", info.not_found)
    return app
