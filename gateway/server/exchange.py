"""One client request, any dialect: resolve targets, try them in order, answer in the
client's dialect.

For each target the request either passes through (same dialect: only model and auth change)
or is translated through the hub (once, then emitted for each upstream dialect tried). A
retryable failure (408, 429, 5xx, timeout, connection error) moves to the next target while
the client has received nothing yet.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import math
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from aiohttp import web
from yarl import URL

from gateway.formats import hub
from gateway.formats.codec import Codec, StreamEmitter, codec_for
from gateway.formats.replay import ReplayCache, for_target, signature_origin
from gateway.formats.signatures import client_signatures
from gateway.observe.request_log import LogEntry
from gateway.providers.upstream import (
    UPSTREAM_EXCEPTIONS,
    describe_failure,
    endpoint_url,
    timeouts,
)
from gateway.routing.attempts import Attempts
from gateway.routing.context_window import ContextFloor
from gateway.routing.failures import Failure, classify
from gateway.routing.plan import plan
from gateway.routing.ratelimit import Refused
from gateway.routing.resolve import ModelNotFoundError, Target
from gateway.server.controls import apply_controls
from gateway.server.errors import GatewayError, error_response
from gateway.server.passthrough import passed_headers, relay_body, relay_stream
from gateway.server.runtime import Runtime
from gateway.server.translated import translate_body, translate_stream
from gateway.usage.gate import admit_budget

_LARGE_BODY = 1 << 20
EXTENDED_CONTEXT_SUFFIX = "[1m]"
# Pins a request to one target ("alias/model") or one account ("alias/model@connection").
PIN_HEADER = "X-Switchboard-Model"
# Client headers a same-dialect upstream may need (betas, API versions); auth never passes.
_FORWARDED = ("anthropic-version", "anthropic-beta", "openai-beta")


@dataclass(slots=True)
class ClientCall:
    """What a client asked for, in its own dialect."""

    codec: Codec
    body: dict[str, Any]
    raw: bytes
    model: str
    stream: bool
    endpoint: str = ""  # a non-default endpoint: "count_tokens", Gemini "countTokens"
    gemini_sse: bool = True  # Gemini streams: SSE (alt=sse) or a JSON array
    emitter_factory: Any = None  # (hub request) -> StreamEmitter, when the default won't do
    content_type: str = "text/event-stream"
    forwarded: dict[str, str] = field(default_factory=dict)
    translatable: str | None = None  # why only same-dialect upstreams can serve it, if so


def forwarded_headers(request: web.Request) -> dict[str, str]:
    return {name: value for name in _FORWARDED if (value := request.headers.get(name))}


async def serve(
    request: web.Request, runtime: Runtime, call: ClientCall, entry: LogEntry, started: float
) -> web.StreamResponse:
    snapshot = runtime.snapshot
    router = runtime.router
    model, pinned_connection = call.model, ""
    if pin := request.headers.get(PIN_HEADER):  # debugging: this target (and connection) only
        model, _, pinned_connection = pin.strip().partition("@")
        entry.requested_model = f"{call.model} (pinned to {pin.strip()})"
    extended = model.endswith(EXTENDED_CONTEXT_SUFFIX)
    if extended:
        model = model[: -len(EXTENDED_CONTEXT_SUFFIX)]
    asked = (call.model.removesuffix(EXTENDED_CONTEXT_SUFFIX), model)  # as sent, as pinned
    runtime.key_limits.admit(
        entry.key_name, snapshot.key_policies, asked, counted=not call.endpoint
    )
    if not call.endpoint:  # token counting costs nothing
        admit_budget(runtime.usage, entry.key_name)
    # After the key's own checks: a replayed answer must not skip them.
    if (replayed := await runtime.replays.begin(request, snapshot, call, entry)) is not None:
        return replayed  # an idempotent repeat, a cache hit or an identical request's answer
    try:
        targets = plan(snapshot, model, router)
    except ModelNotFoundError as exc:
        raise GatewayError(404, str(exc), code="model_not_found") from None
    if pinned_connection:
        targets = [t for t in targets if t.upstream.connection == pinned_connection]
        if not targets:
            raise GatewayError(
                404,
                f"{PIN_HEADER}: no enabled connection named "
                f"{pinned_connection!r} serves {model!r}.",
                code="model_not_found",
            )
    usable = [t for t in targets if not t.upstream.problem]
    if call.translatable is not None:
        usable = [t for t in usable if t.upstream.dialect == call.codec.dialect]
        if not usable:
            raise GatewayError(400, call.translatable, code="not_translatable")
    if not usable:
        problems = sorted({f"{t.upstream.connection}: {t.upstream.problem}" for t in targets})
        raise GatewayError(
            502,
            f"No connection can serve {model!r}: " + "; ".join(problems),
            code="upstream_unavailable",
        )
    call = apply_controls(call, snapshot, model)  # system prompt, thinking mode
    if not call.endpoint:  # a generation: its usage may have to be estimated at the end
        entry.request_to_hub = functools.partial(_to_hub, call, extended)
    settings = snapshot.settings
    timeout = timeouts(settings.upstream_connect_timeout_s, settings.upstream_read_timeout_s)
    translation = _Translation(call, extended, runtime.replay)
    attempts = Attempts(router, settings.max_attempts)
    done_targets: set[str] = set()  # targets whose other accounts must not get this request
    refreshed: set[str] = set()  # connections whose credentials this request refreshed
    context = ContextFloor()  # after "context too long": only larger windows are tried
    for index, target in enumerate(usable):
        if target.label in done_targets:
            continue
        if attempts.exhausted:
            break
        if (too_small := context.too_small(target)) is not None:
            attempts.skip(target, too_small)
            continue
        upstream = target.upstream
        if (
            why := router.blocked(upstream.connection_id, upstream.provider, target.model)
        ) is not None:
            attempts.skip(target, why)
            continue
        if (spent := runtime.usage.blocked(upstream.connection, upstream.provider)) is not None:
            # The reset is wall-clock time; attempts count in the router's clock.
            wait = spent.until - runtime.usage.clock()
            attempts.skip(target, spent.reason, router.clock() + max(wait, 0.0))
            continue
        more = index < len(usable) - 1 and attempts.tried + 1 < attempts.limit
        entry.provider, entry.connection = upstream.provider, upstream.connection
        entry.alias = upstream.alias  # prices are keyed by it
        entry.upstream_model = target.model
        same = upstream.dialect == call.codec.dialect and not translation.foreign_to(target)
        url, body, headers = (
            _passthrough_request(call, target, extended)
            if same
            else translation.request_for(target)
        )
        runtime.credentials.patch(upstream.connection_id, headers)
        slot = router.limits.take(upstream) or await router.limits.wait(
            upstream, settings.rate_limit_max_wait_s, settings.rate_limit_queue_size
        )
        if isinstance(slot, Refused):
            attempts.skip(target, slot.reason, slot.retry_at)
            continue
        token = attempts.start(target)
        sent = time.perf_counter()
        try:
            response = await runtime.http.post(url, data=body, headers=headers, timeout=timeout)
        except UPSTREAM_EXCEPTIONS as exc:
            slot.release()
            attempts.failed(target, _no_answer(exc, router.clock()), token, _ms(sent))
            continue
        except BaseException:
            slot.release()
            raise
        try:
            router.limits.learn(upstream, response.headers, response.status)
            if response.status >= 400:
                raw = await response.read()
                failure = classify(response.status, raw, response.headers, now=router.clock())
                action = attempts.failed(target, failure, token, _ms(sent))
                if action.refresh_auth and await runtime.credentials.recover(
                    upstream, headers, refreshed, router.logins
                ):
                    usable.insert(index + 1, target)  # the same account, new credentials
                    continue
                context.note(target, action)
                if not action.next_account:
                    done_targets.add(target.label)
                if more and (action.next_account or action.next_target):
                    continue
                if len(attempts.records) > 1 and (action.next_account or action.next_target):
                    break  # several attempts failed: one error that lists them all
                return await _upstream_error(call, target, response, raw, entry)
            first = await (response.read() if not call.stream else response.content.readany())
            if not _usable(first, stream=call.stream):
                failure = classify(200, first, response.headers, now=router.clock())
                context.note(target, attempts.failed(target, failure, token, _ms(sent)))
                continue
            attempts.succeeded(target, token, _ms(sent))
            if same:
                if call.stream:
                    return await relay_stream(
                        request, call.codec, response, entry, entry.request_id, started, first
                    )
                return await relay_body(call.codec, response, entry, entry.request_id, first)
            upstream_codec = codec_for(upstream.dialect)
            replay = runtime.replay.for_origin(signature_origin(upstream.dialect, upstream.alias))
            if call.stream:
                return await translate_stream(
                    request,
                    translation.emitter(),
                    call.content_type,
                    upstream_codec,
                    response,
                    entry,
                    entry.request_id,
                    started,
                    replay,
                    runtime.keepalive_s,
                    first,
                )
            return await translate_body(
                call.codec,
                upstream_codec,
                response,
                translation.hub_request,
                entry,
                entry.request_id,
                replay,
                first,
            )
        except UPSTREAM_EXCEPTIONS as exc:
            attempts.failed(target, _no_answer(exc, router.clock()), token, _ms(sent))
        finally:
            response.release()
            slot.release()  # after the whole body or stream was relayed
    raise _all_failed(attempts, model)


def _no_answer(exc: BaseException, now: float) -> Failure:
    """A failure with no response, worded for people ("timed out", "cannot connect (...)")."""
    return dataclasses.replace(
        classify(None, b"", {}, exception=exc, now=now), message=describe_failure(exc)[1]
    )


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _usable(first: bytes, *, stream: bool) -> bool:
    """A 200 worth relaying: a stream that sent something, or what looks like one JSON object
    (a cut body fails earlier, while reading; parsing it all here would cost a second parse)."""
    if stream:
        return bool(first)
    stripped = first.strip()
    return stripped.startswith(b"{") and stripped.endswith(b"}")


def _all_failed(attempts: Attempts, model: str) -> GatewayError:
    status, code, message, wait = attempts.summary(model)
    error = GatewayError(status, message, code=code)
    if wait is not None:
        error.retry_after = math.ceil(wait)
    return error


async def _upstream_error(
    call: ClientCall, target: Target, response: aiohttp.ClientResponse, raw: bytes, entry: LogEntry
) -> web.Response:
    """The upstream's own error: unchanged for the same dialect, translated otherwise."""
    if target.upstream.dialect == call.codec.dialect:
        return await relay_body(call.codec, response, entry, entry.request_id, raw)
    return await _translated_error(call.codec, target, response, raw, entry)


class _Translation:
    """The client's request in hub form, made once and emitted for each upstream dialect."""

    def __init__(self, call: ClientCall, extended: bool, replay: ReplayCache) -> None:
        self.call = call
        self.extended = extended
        self.replay = replay
        self._hub: hub.Request | None = None
        self._signatures: list[str] | None = None  # the client's own, read once

    @property
    def hub_request(self) -> hub.Request:
        if self._hub is None:
            raise RuntimeError("request_for() first")
        return self._hub

    def request_for(self, target: Target) -> tuple[URL, Any, dict[str, str]]:
        if self._hub is None:
            self._hub = _to_hub(self.call, self.extended)
            # Reasoning the client's dialect could not carry; every signature's origin.
            self.replay.restore(self._hub, self.call.codec.dialect)
        upstream = target.upstream
        codec = codec_for(upstream.dialect)
        hub_request: hub.Request = {**self._hub, "model": target.model}
        if "messages" in hub_request:  # signatures another upstream made would be rejected
            origin = signature_origin(upstream.dialect, upstream.alias)
            hub_request["messages"] = for_target(hub_request["messages"], origin)
        body = codec.request_from_hub(hub_request)
        same = upstream.dialect == self.call.codec.dialect  # betas still apply
        headers = {
            **upstream.headers,
            **(self.call.forwarded if same else {}),
            **codec.upstream_headers(hub_request),
        }
        return (
            endpoint_url(upstream, target.model, stream=self.call.stream),
            _payload(orjson.dumps(body)),
            headers,
        )

    def foreign_to(self, target: Target) -> bool:
        """Whether the client's own request carries signatures another upstream made (known
        from earlier translated answers): then even a same-dialect target gets the request
        re-emitted from the hub, without them, rather than passed through."""
        call = self.call
        if call.translatable is not None or not self.replay.knows_origins:
            return False  # only passthrough can serve it / nothing recorded yet
        if self._signatures is None:
            self._signatures = client_signatures(call.codec.dialect, call.body)
        upstream = target.upstream
        return self.replay.carries_foreign(
            self._signatures, signature_origin(upstream.dialect, upstream.alias)
        )

    def emitter(self) -> StreamEmitter:
        if self.call.emitter_factory is not None:
            emitter: StreamEmitter = self.call.emitter_factory(self.hub_request)
            return emitter
        return self.call.codec.stream_emitter(self.hub_request)


def _to_hub(call: ClientCall, extended: bool) -> hub.Request:
    try:
        request = call.codec.request_to_hub(call.body)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise GatewayError(
            400,
            f"The request could not be read: {type(exc).__name__}: {str(exc)[:200]}",
            code="invalid_request",
        ) from None
    request["stream"] = call.stream
    if extended:
        request["extended_context"] = True
    return request


def _passthrough_request(
    call: ClientCall, target: Target, extended: bool
) -> tuple[URL, Any, dict[str, str]]:
    upstream = target.upstream
    headers = {**upstream.headers, **call.forwarded}
    if extended:
        headers.update(call.codec.upstream_headers({"extended_context": True}))
    if upstream.dialect == "gemini":
        action = call.endpoint or ("streamGenerateContent" if call.stream else "generateContent")
        query = "?alt=sse" if call.stream and call.gemini_sse else ""
        url = URL(
            f"{upstream.base_url}/v1beta/models/{quote(target.model, safe='')}:{action}{query}",
            encoded=True,
        )
        return url, _payload(call.raw), headers  # the body names no model: bytes unchanged
    if call.endpoint == "count_tokens":
        url = URL(f"{upstream.base_url}/v1/messages/count_tokens")
    else:
        url = endpoint_url(upstream, target.model, stream=call.stream)
    return url, _payload(orjson.dumps({**call.body, "model": target.model})), headers


def _payload(data: bytes) -> bytes | io.BytesIO:
    # aiohttp warns that large raw bytes may block the loop; a BytesIO is written in chunks.
    return data if len(data) <= _LARGE_BODY else io.BytesIO(data)


async def _translated_error(
    client: Codec, target: Target, response: aiohttp.ClientResponse, body: bytes, entry: LogEntry
) -> web.Response:
    error = codec_for(target.upstream.dialect).error_to_hub(response.status, body)
    entry.status = error["status"]
    entry.error = f"upstream {response.status}: {error['message'][:200]}"
    out = error_response(client, error, entry.request_id)
    for name, value in passed_headers(response, entry.request_id).items():
        if name.lower() != "content-type":
            out.headers[name] = value
    return out
