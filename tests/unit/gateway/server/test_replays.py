"""Replays.begin/finish: who leads, who waits, what is replayed, what is recorded."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.config.snapshot import Settings, Snapshot
from gateway.formats.codec import codec_for
from gateway.observe.request_log import LogEntry
from gateway.server.exchange import ClientCall
from gateway.server.idempotency import idempotency_key
from gateway.server.replays import TICKET, Replays, add_headers

pytestmark = pytest.mark.timeout(10)
BODY = {"model": "openai/gpt-x", "temperature": 0, "messages": [{"role": "user", "content": "q"}]}


def request(headers: dict[str, str] | None = None) -> web.Request:
    return make_mocked_request("POST", "/v1/chat/completions", headers=headers or {})


def call(body: dict[str, Any] = BODY, *, stream: bool = False) -> ClientCall:
    return ClientCall(codec_for("openai"), body, orjson.dumps(body), body["model"], stream)


def entry() -> LogEntry:
    log = LogEntry(0.0, "req", "openai")
    log.key_name = "k"
    return log


def settings(**values: Any) -> Snapshot:
    return dataclasses.replace(Snapshot.empty(), settings=Settings(**values))


def ok(text: str = "answer") -> web.Response:
    return web.Response(body=text.encode(), content_type="application/json")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"X-Request-Id": "r1"}, "r1"),
        ({"Idempotency-Key": "i1", "X-Request-Id": "r1"}, "i1"),
        ({"Idempotency-Key": " i1 "}, "i1"),
        ({"Idempotency-Key": "x" * 257}, None),
        ({"Idempotency-Key": "x" * 256}, "x" * 256),
    ],
)
def test_idempotency_key_headers(headers: dict[str, str], expected: str | None) -> None:
    assert idempotency_key(request(headers)) == expected


async def test_a_request_with_nothing_to_share_costs_no_ticket() -> None:
    replays = Replays()
    req, log = request(), entry()
    body = {**BODY, "temperature": 0.7}
    assert await replays.begin(req, settings(), call(body, stream=True), log) is None
    assert req.get(TICKET) is None and log.capture is None
    # Deterministic, but dedup and the cache are both off.
    assert await replays.begin(req, settings(dedup_window_s=0), call(stream=True), log) is None
    assert req.get(TICKET) is None and log.capture is None


async def test_identical_requests_in_flight_share_the_leaders_answer() -> None:
    replays = Replays()
    snapshot = settings()
    leader_req, leader_log = request(), entry()
    assert await replays.begin(leader_req, snapshot, call(), leader_log) is None
    followers = [entry() for _ in range(3)]
    waiting = [
        asyncio.create_task(replays.begin(request(), snapshot, call(), log)) for log in followers
    ]
    await settle()
    assert not any(task.done() for task in waiting)
    leader_log.tokens_in, leader_log.tokens_out = 5, 6
    replays.finish(leader_req, leader_log, ok("one"))
    for task, log in zip(waiting, followers, strict=True):
        response = await task
        assert response is not None and response.body == b"one"
        assert response.headers["X-Switchboard-Replay"] == "shared"
        assert (log.replay, log.status, log.tokens_in, log.tokens_out) == ("shared", 200, 5, 6)
    assert replays.stats().shared == 3
    assert replays.inflight.inflight == 0
    # Over: the next identical request leads again (dedup keeps nothing).
    assert await replays.begin(request(), snapshot, call(), entry()) is None


async def test_a_leaders_error_answer_is_shared_too() -> None:
    replays = Replays()
    leader_req = request()
    await replays.begin(leader_req, settings(), call(), entry())
    follower = asyncio.create_task(replays.begin(request(), settings(), call(), entry()))
    await settle()
    error = web.Response(status=429, body=b'{"error":{}}', headers={"Retry-After": "9"})
    replays.finish(leader_req, entry(), error)
    response = await follower
    assert response is not None and (response.status, response.headers["Retry-After"]) == (429, "9")


async def test_when_the_leader_fails_or_is_cancelled_a_follower_takes_over() -> None:
    replays = Replays()
    leader_req = request()
    await replays.begin(leader_req, settings(), call(), entry())
    follower_req = request()
    follower = asyncio.create_task(replays.begin(follower_req, settings(), call(), entry()))
    await settle()
    replays.finish(leader_req, entry(), None)  # raised (cancelled): no answer
    assert await follower is None  # it runs the request itself, as the new leader
    ticket = follower_req[TICKET]
    assert ticket.shared is not None and replays.inflight.inflight == 1


async def test_a_cut_stream_is_not_shared() -> None:
    replays = Replays()
    leader_req, leader_log = request(), entry()
    await replays.begin(leader_req, settings(), call(stream=True), leader_log)
    assert leader_log.capture is not None
    leader_log.capture.add(b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n')
    follower = asyncio.create_task(replays.begin(request(), settings(), call(stream=True), entry()))
    await settle()
    replays.finish(leader_req, leader_log, web.StreamResponse())
    assert await follower is None
    assert leader_log.capture is None  # released


async def test_an_idempotent_repeat_gets_the_first_answer_within_the_window() -> None:
    replays = Replays()
    body = {**BODY, "temperature": 1}  # not deterministic: only the key counts
    headers = {"Idempotency-Key": "abc"}
    first_req = request(headers)
    assert await replays.begin(first_req, settings(), call(body), entry()) is None
    repeat = asyncio.create_task(replays.begin(request(headers), settings(), call(body), entry()))
    await settle()
    assert not repeat.done()  # waits for the first
    replays.finish(first_req, entry(), ok("first"))
    response = await repeat
    assert response is not None and response.body == b"first"
    assert response.headers["X-Switchboard-Replay"] == "idempotent"
    later = entry()
    again = await replays.begin(request(headers), settings(), call(body), later)
    assert again is not None and again.body == b"first" and later.replay == "idempotent"
    other = {**body, "messages": [{"role": "user", "content": "other"}]}
    assert await replays.begin(request(headers), settings(), call(other), entry()) is None
    assert replays.stats().idempotent == 2


async def test_an_idempotent_request_that_failed_is_run_again() -> None:
    replays = Replays()
    headers = {"X-Request-Id": "r-1"}
    first = request(headers)
    body = {**BODY, "temperature": 1}
    await replays.begin(first, settings(), call(body), entry())
    replays.finish(first, entry(), web.Response(status=500, body=b"{}"))
    assert await replays.begin(request(headers), settings(), call(body), entry()) is None


async def test_idempotency_is_off_with_a_zero_window() -> None:
    replays = Replays()
    headers = {"Idempotency-Key": "abc"}
    body = {**BODY, "temperature": 1}
    first = request(headers)
    await replays.begin(first, settings(dedup_window_s=0), call(body), entry())
    assert first.get(TICKET) is None


async def test_the_cache_answers_the_second_time_and_marks_both() -> None:
    replays = Replays()
    snapshot = settings(cache_enabled=True)
    first_req, first_log = request(), entry()
    assert await replays.begin(first_req, snapshot, call(), first_log) is None
    first_response = ok("cached")
    await add_headers(first_req, first_response)
    assert first_response.headers["X-Switchboard-Cache"] == "miss"
    first_log.tokens_in, first_log.tokens_out = 10, 20
    replays.finish(first_req, first_log, first_response)
    second_log = entry()
    hit = await replays.begin(request(), snapshot, call(), second_log)
    assert hit is not None and hit.body == b"cached"
    assert hit.headers["X-Switchboard-Cache"] == "hit"
    assert (second_log.replay, second_log.tokens_in, second_log.tokens_out) == ("cache", 10, 20)
    stats = replays.cache.stats()
    assert (stats.hits, stats.misses, stats.stores, stats.tokens_saved) == (1, 1, 1, 30)


async def test_a_bypass_goes_upstream_and_refreshes_the_entry() -> None:
    replays = Replays()
    snapshot = settings(cache_enabled=True)
    first = request()
    await replays.begin(first, snapshot, call(), entry())
    replays.finish(first, entry(), ok("old"))
    fresh = request({"X-Switchboard-No-Cache": "true"})
    assert await replays.begin(fresh, snapshot, call(), entry()) is None
    response = ok("new")
    await add_headers(fresh, response)
    assert response.headers["X-Switchboard-Cache"] == "bypass"
    replays.finish(fresh, entry(), response)
    hit = await replays.begin(request(), snapshot, call(), entry())
    assert hit is not None and hit.body == b"new"
    assert replays.cache.stats().bypassed == 1


async def test_only_successful_answers_are_cached() -> None:
    replays = Replays()
    snapshot = settings(cache_enabled=True, dedup_window_s=0)
    first = request()
    await replays.begin(first, snapshot, call(), entry())
    replays.finish(first, entry(), web.Response(status=503, body=b"{}"))
    assert await replays.begin(request(), snapshot, call(), entry()) is None
    assert replays.cache.stats().stores == 0


async def test_an_idempotent_leader_served_from_the_cache_answers_its_repeats() -> None:
    replays = Replays()
    snapshot = settings(cache_enabled=True)
    first = request()
    await replays.begin(first, snapshot, call(), entry())
    replays.finish(first, entry(), ok("cached"))
    headers = {"Idempotency-Key": "k1"}
    keyed = request(headers)
    hit = await replays.begin(keyed, snapshot, call(), entry())
    assert hit is not None
    replays.finish(keyed, entry(), hit)
    await replays.cache.clear()
    log = entry()
    repeat = await replays.begin(request(headers), snapshot, call(), log)
    assert repeat is not None and repeat.body == b"cached" and log.replay == "idempotent"
