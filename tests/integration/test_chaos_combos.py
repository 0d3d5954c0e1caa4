"""Chaos through longer combos: four targets in four upstream dialects failing in different
ways, a 429 with no retry hint, everything failing, streams cut mid-way, breakers opening and
recovering, and a stampede of concurrent requests at a failing target.

The router runs on a hand-moved clock (tests/support/chaos.py), so every cooldown end and
breaker deadline is an exact number; every test has a timeout (pytestmark)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
import pytest

from gateway.routing.attempts import BACKOFF_CAP_S
from gateway.routing.breaker import (
    CONNECTION_BREAKER,
    PROVIDER_BREAKER,
    BreakerState,
)
from gateway.routing.cooldown import CooldownView
from gateway.routing.retry_after import backoff_seconds
from gateway.routing.router import connection_key, model_key, provider_key
from tests.fakes.server import BARE_429
from tests.support.chaos import ChaosWorld, chaos_world
from tests.support.dialect_http import (
    DIALECTS,
    Answer,
    error_of,
    reply_text,
    send,
    sse_events,
)
from tests.support.four_dialects import PREFIX
from tests.support.gateway import log_rows

pytestmark = pytest.mark.timeout(30)

TEXT = "survive this"
ECHO = "Echo: survive this"
CUT = "The upstream stream was interrupted: upstream sent an incomplete response."
OPEN, CLOSED = BreakerState.OPEN, BreakerState.CLOSED


def label(dialect: str, model: str) -> str:
    return f"{PREFIX[dialect]}/{model}"


def rotated(first: str) -> list[str]:
    """The four dialects, starting with ``first``: a chain with one target per dialect."""
    start = DIALECTS.index(first)
    return [DIALECTS[(start + k) % 4] for k in range(4)]


def backoff(level: int) -> float:
    return backoff_seconds(level, cap=BACKOFF_CAP_S)


@dataclass(frozen=True)
class Failing:
    """One way a target fails: where it points, what the gateway remembers about it."""

    dialect: str
    target: str
    connection: str
    model: str
    cls: str  # the failure class its cooldown names
    counted: bool  # by the breakers
    reached: bool  # the fake saw the request


# way -> (the model asked of a live connection, None for a dead one; cooldown class; counted)
WAYS: dict[str, tuple[str | None, str, bool]] = {
    "429": ("fake-error-429", "rate_limited", False),  # retry hint 1 s (Retry-After, RetryInfo)
    "503": ("fake-error-503", "server_error", True),
    "timeout": ("fake-slow-2", "timeout", True),
    "refused": (None, "connection", True),
}


def failing(way: str, dialect: str) -> Failing:
    model, cls, counted = WAYS[way]
    if model is None:
        dead = f"dead-{dialect}"
        return Failing(dialect, f"{dead}/gpt-x", dead, "gpt-x", cls, counted, False)
    return Failing(dialect, label(dialect, model), f"up-{dialect}", model, cls, counted, True)


# The failures before the serving target, one target per upstream dialect.
CHAINS = {
    "429-503-refused": ("429", "503", "refused"),
    "429-503-timeout": ("429", "503", "timeout"),
    "refused-429": ("refused", "429"),
}


def chain(client: str, shape: str) -> tuple[list[Failing], str]:
    """(the failing targets, the dialect of the last one, which serves)."""
    d = rotated(client)
    ways = CHAINS[shape]
    return [failing(way, d[k]) for k, way in enumerate(ways)], d[len(ways)]


def doomed(client: str) -> list[str]:
    d = rotated(client)
    return [
        label(d[0], "fake-error-429"),
        label(d[1], "fake-error-503"),
        f"dead-{d[2]}/gpt-x",
        label(d[3], "fake-error-500"),
    ]


COMBOS: dict[str, list[str]] = {
    "guarded": ["openai/gpt-x", "anthropic/gpt-x"],
    "guarded-slow": ["openai/fake-slow-0.3", "anthropic/gpt-x"],
    "ds-guarded": ["ds/gpt-x", "anthropic/gpt-x"],
    "stampede": ["openai/fake-slow-2", "anthropic/gpt-x"],
}
for _client in DIALECTS:
    COMBOS[f"doomed-{_client}"] = doomed(_client)
    for _shape in CHAINS:
        _failing, _serving = chain(_client, _shape)
        COMBOS[f"chain-{_client}-{_shape}"] = [f.target for f in _failing] + [
            label(_serving, "gpt-x")
        ]
    for _other in DIALECTS:
        if _other != _client:
            COMBOS[f"cut-{_client}-{_other}"] = [label(_client, "fake-cut"), label(_other, "gpt-x")]


@pytest.fixture
async def world(data_dir: Path) -> AsyncIterator[ChaosWorld]:
    combos = "".join(
        f'\n[[combos]]\nname = "{name}"\ntargets = {orjson.dumps(targets).decode()}\n'
        for name, targets in COMBOS.items()
    )
    async with chaos_world(data_dir, extra=combos) as chaos:
        yield chaos


async def ask(world: ChaosWorld, client: str, model: str, stream: bool = False) -> Answer:
    async with aiohttp.ClientSession() as http:
        return await send(http, world.service.endpoint, client, model, TEXT, stream)


async def last_rows(world: ChaosWorld, count: int = 1) -> list[dict[str, object]]:
    await world.service.flush_logs()
    return log_rows(world.data_dir)[-count:]


def conn_id(world: ChaosWorld, connection: str) -> str:
    return world.upstream(connection).connection_id


def health(world: ChaosWorld, *connections: str) -> dict[str, tuple[str, int]]:
    """(state, consecutive failures) of each connection's breaker and its provider's."""
    board = world.router.breakers
    out: dict[str, tuple[str, int]] = {}
    for connection in connections:
        upstream = world.upstream(connection)
        for key in (connection_key(upstream.connection_id), provider_key(upstream.provider)):
            breaker = board.get(key)
            assert breaker is not None, f"no breaker for {key}"
            out[key] = (breaker.state, breaker.failures)
    return out


def breakers_of(world: ChaosWorld, connection: str) -> tuple[str, str]:
    """The keys of the connection's breaker and of its provider's."""
    upstream = world.upstream(connection)
    return provider_key(upstream.provider), connection_key(upstream.connection_id)


# a. three or four targets in as many dialects: all but the last fail, each its own way -----


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("shape", list(CHAINS))
@pytest.mark.parametrize("client", DIALECTS)
async def test_a_chain_across_dialects_fails_over_to_its_last_target(
    world: ChaosWorld, client: str, shape: str, stream: bool
) -> None:
    failures, serving = chain(client, shape)
    combo = f"chain-{client}-{shape}"
    now = world.clock.now
    answer = await ask(world, client, combo, stream)
    assert (answer.status, reply_text(client, answer, stream)) == (200, ECHO)

    # Each fake got exactly the request meant for it, once; nothing listens behind a dead one.
    expected_seen: dict[str, list[str]] = {dialect: [] for dialect in DIALECTS}
    for f in failures:
        if f.reached:
            expected_seen[f.dialect].append(f.model)
    expected_seen[serving].append("gpt-x")
    assert {dialect: world.seen(dialect) for dialect in DIALECTS} == expected_seen
    # Cooldowns: that model on that account only, for 1 s: the upstream's retry hint, or the
    # first backoff step.
    assert backoff(0) == 1
    assert world.router.cooldowns.snapshot() == {
        model_key(conn_id(world, f.connection), f.model): CooldownView(now + 1, f.cls, 1)
        for f in failures
    }
    # Breakers: a 429 says nothing about health, the other failures count once (connection
    # and provider); the serving target's success leaves it at 0.
    expected = dict.fromkeys(breakers_of(world, f"up-{serving}"), (CLOSED, 0))
    for f in failures:
        expected.update(dict.fromkeys(breakers_of(world, f.connection), (CLOSED, int(f.counted))))
    assert {
        key: (view.state, view.failures) for key, view in world.router.breakers.snapshot().items()
    } == expected

    [row] = await last_rows(world)
    assert {k: row[k] for k in ("client_dialect", "requested_model", "provider", "stream")} == {
        "client_dialect": client,
        "requested_model": combo,
        "provider": world.upstream(f"up-{serving}").provider,
        "stream": int(stream),
    }
    assert (row["connection"], row["upstream_model"], row["status"], row["error"]) == (
        f"up-{serving}",
        "gpt-x",
        200,
        None,
    )


# b. a 429 with no retry hint: exponential backoff on that model only -----------------------


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_a_429_without_a_retry_hint_backs_off_that_model_only(
    world: ChaosWorld, upstream: str
) -> None:
    connection = conn_id(world, f"up-{upstream}")
    key = model_key(connection, BARE_429)
    start = world.clock.now
    answer = await ask(world, "openai", label(upstream, BARE_429))
    assert answer.status == 429 and "retry-after" not in {h.lower() for h in answer.headers}
    assert world.router.cooldowns.snapshot() == {
        key: CooldownView(start + backoff(0), "rate_limited", 1)
    }
    # Only that model: the same account serves another model meanwhile.
    answer = await ask(world, "openai", label(upstream, "gpt-x"))
    assert (answer.status, reply_text("openai", answer, False)) == (200, ECHO)
    # While it cools down it is not asked again: the gateway answers at once, with the wait.
    answer = await ask(world, "openai", label(upstream, BARE_429))
    assert answer.status == 503 and answer.headers["Retry-After"] == "1"
    assert error_of("openai", answer)[0] == "all_targets_failed"
    assert world.seen(upstream) == [BARE_429, "gpt-x"]
    # The next failure, right after the cooldown, backs off one step further (1 s, then 2 s).
    world.clock.advance(backoff(0))
    again = world.clock.now
    assert (await ask(world, "openai", label(upstream, BARE_429))).status == 429
    assert world.seen(upstream) == [BARE_429, "gpt-x", BARE_429]
    assert world.router.cooldowns.snapshot() == {
        key: CooldownView(again + backoff(1), "rate_limited", 2)
    }
    assert backoff(1) == 2.0
    # Rate limits never count for the breakers.
    assert health(world, f"up-{upstream}") == dict.fromkeys(
        breakers_of(world, f"up-{upstream}"), (CLOSED, 0)
    )


# c. everything fails: one error in the client's dialect lists every attempt ----------------

ALL_FAILED_CODE = {
    "openai": "all_targets_failed",
    "anthropic": "api_error",
    "gemini": "INTERNAL",
    "responses": "all_targets_failed",
}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("client", DIALECTS)
async def test_when_all_four_fail_one_error_lists_every_attempt(
    world: ChaosWorld, client: str, stream: bool
) -> None:
    d = rotated(client)
    combo = f"doomed-{client}"
    targets = COMBOS[combo]
    connections = [f"up-{d[0]}", f"up-{d[1]}", f"dead-{d[2]}", f"up-{d[3]}"]
    answer = await ask(world, client, combo, stream)
    # The last attempt's status; Retry-After is the earliest retry among the attempts.
    assert answer.status == 500 and answer.headers["Retry-After"] == "1"
    code, message = error_of(client, answer)
    assert code == ALL_FAILED_CODE[client]
    head = (
        f"No upstream could serve '{combo}' (4 attempt(s), 0 skipped); "
        "the earliest retry is in 1 s: "
    )
    assert message.startswith(head)
    attempts = [
        f"{targets[0]} via '{connections[0]}': 429 rate_limited: ",
        f"{targets[1]} via '{connections[1]}': 503 server_error: ",
        f"{targets[2]} via '{connections[2]}': no response connection: cannot connect (",
        f"{targets[3]} via '{connections[3]}': 500 server_error: ",
    ]
    where = [message.find(attempt) for attempt in attempts]
    assert where[0] == len(head) and where == sorted(where), message
    seen = {dialect: world.seen(dialect) for dialect in DIALECTS}
    assert seen == {
        d[0]: ["fake-error-429"],
        d[1]: ["fake-error-503"],
        d[2]: [],
        d[3]: ["fake-error-500"],
    }

    # Asked again at once: every target is cooling down, none is contacted, and the answer
    # says when to come back.
    answer = await ask(world, client, combo, stream)
    assert answer.status == 503 and answer.headers["Retry-After"] == "1"
    classes = ["rate_limited", "server_error", "connection", "server_error"]
    assert error_of(client, answer)[1] == (
        f"No upstream could serve '{combo}' (0 attempt(s), 4 skipped); the earliest retry is "
        "in 1 s: "
        + "; ".join(
            f"{target} via '{connection}': skipped ({cls}; cooling down for 1 s more)"
            for target, connection, cls in zip(targets, connections, classes, strict=True)
        )
    )
    assert {dialect: world.seen(dialect) for dialect in DIALECTS} == seen

    # One second later they all fail again: the backoffs double (2 s) but the 429's hint stays
    # 1 s, and the error names the earliest of them.
    world.clock.advance(1)
    now = world.clock.now
    answer = await ask(world, client, combo, stream)
    assert answer.status == 500 and answer.headers["Retry-After"] == "1"
    assert "; the earliest retry is in 1 s: " in error_of(client, answer)[1]
    ends = {
        key.rsplit(":", 1)[-1]: view.until
        for key, view in world.router.cooldowns.snapshot().items()
    }
    assert ends == {
        "fake-error-429": now + 1,
        "fake-error-503": now + backoff(1),
        "gpt-x": now + backoff(1),
        "fake-error-500": now + backoff(1),
    }
    [row] = await last_rows(world)
    assert (row["status"], row["connection"]) == (500, f"up-{d[3]}")
    assert str(row["error"]).startswith(f"No upstream could serve '{combo}' (4 attempt(s)")


# d. a stream cut after its first bytes: no fallback, the dialect's error event -------------


def stream_end(client: str, answer: Answer) -> object:
    """What the client's stream ends with, in its dialect's own framing."""
    if client == "gemini":  # Google sends a mid-stream error as a bare JSON line
        last = answer.raw.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        return Answer(200, {}, last).json()
    events = sse_events(answer.raw)
    if client == "responses":
        return events[-2:]
    return events[-1]


def expected_end(client: str, answer: Answer) -> object:
    if client == "openai":
        error = {
            "message": CUT,
            "type": "server_error",
            "param": None,
            "code": "upstream_stream_interrupted",
        }
        return None, {"error": error}
    if client == "anthropic":
        return "error", {"type": "error", "error": {"type": "overloaded_error", "message": CUT}}
    if client == "gemini":
        return {"error": {"code": 503, "message": CUT, "status": "UNAVAILABLE"}}
    # Responses: an error event, then response.failed carrying a code of the API's enum.
    events = sse_events(answer.raw)
    sequence = events[-3][1]["sequence_number"] + 1
    failed = events[-1][1]["response"]
    assert (failed["status"], failed["output"]) == ("failed", [])
    error = {
        "type": "error",
        "code": "upstream_stream_interrupted",
        "message": CUT,
        "param": None,
        "sequence_number": sequence,
    }
    after = {
        "type": "response.failed",
        "sequence_number": sequence + 1,
        "response": {**failed, "error": {"code": "server_error", "message": CUT}},
    }
    return [("error", error), ("response.failed", after)]


@pytest.mark.parametrize("path", ["same-dialect", "translated"])
@pytest.mark.parametrize("client", DIALECTS)
async def test_a_stream_cut_mid_way_ends_with_the_dialects_error_and_no_fallback(
    world: ChaosWorld, client: str, path: str
) -> None:
    d = rotated(client)
    cut, other = (d[0], d[1]) if path == "same-dialect" else (d[1], d[2])
    combo = f"cut-{cut}-{other}"
    answer = await ask(world, client, combo, stream=True)
    assert answer.status == 200
    assert reply_text(client, answer, stream=True) == "Echo: survive"  # the two words sent
    assert stream_end(client, answer) == expected_end(client, answer)
    # The client already had bytes: the next target is not asked.
    assert (world.seen(cut), world.seen(other)) == (["fake-cut"], [])
    # The first bytes counted as the answer (a success); the cut is the log's business.
    assert world.router.cooldowns.snapshot() == {}
    assert health(world, f"up-{cut}") == dict.fromkeys(breakers_of(world, f"up-{cut}"), (CLOSED, 0))
    [row] = await last_rows(world)
    assert (row["connection"], row["upstream_model"], row["status"], row["stream"]) == (
        f"up-{cut}",
        "fake-cut",
        200,
        1,
    )
    assert row["error"] == "stream interrupted: upstream sent an incomplete response"


@pytest.mark.parametrize("cut", DIALECTS)
async def test_a_whole_body_cut_half_way_falls_back(world: ChaosWorld, cut: str) -> None:
    """The client has received nothing yet, so a broken body is a connection failure like
    any other (docs/routing/failures.md) and the next target serves."""
    other = rotated(cut)[1]
    now = world.clock.now
    answer = await ask(world, "openai", f"cut-{cut}-{other}")
    assert (answer.status, reply_text("openai", answer, False)) == (200, ECHO)
    assert (world.seen(cut), world.seen(other)) == (["fake-cut"], ["gpt-x"])
    assert world.router.cooldowns.snapshot() == {
        model_key(conn_id(world, f"up-{cut}"), "fake-cut"): CooldownView(
            now + backoff(0), "connection", 1
        )
    }
    assert health(world, f"up-{cut}") == dict.fromkeys(breakers_of(world, f"up-{cut}"), (CLOSED, 1))
    [row] = await last_rows(world)
    assert (row["connection"], row["status"], row["error"]) == (f"up-{other}", 200, None)


# e. breakers open, skip, probe once and recover (or re-open) -------------------------------


async def fail(world: ChaosWorld, model: str, times: int) -> None:
    """``times`` requests failing with a 500, each after the last one's cooldown has ended
    (the breakers count consecutive failures, however far apart)."""
    for _ in range(times):
        world.clock.advance(BACKOFF_CAP_S)
        assert (await ask(world, "openai", model)).status == 500


async def test_the_connection_breaker_opens_skips_probes_once_and_recovers(
    world: ChaosWorld,
) -> None:
    key = connection_key(conn_id(world, "up-openai"))
    threshold, open_s = CONNECTION_BREAKER.failure_threshold, CONNECTION_BREAKER.open_seconds
    await fail(world, "openai/fake-error-500", threshold)
    breaker = world.router.breakers.get(key)
    assert breaker is not None
    assert (breaker.state, breaker.failures, breaker.open_until) == (
        OPEN,
        threshold,
        world.clock.now + open_s,
    )
    asked = len(world.seen("openai"))

    # Open: skipped without a request, the next target serves; still so just before the end.
    for wait in (0.0, open_s - 1):
        world.clock.advance(wait)
        answer = await ask(world, "openai", "guarded")
        assert (answer.status, reply_text("openai", answer, False)) == (200, ECHO)
        assert len(world.seen("openai")) == asked
        assert (await last_rows(world))[0]["connection"] == "up-anthropic"

    # Half-open: of two requests at once, exactly one (the probe) reaches it; its success
    # closes the breaker.
    world.clock.advance(1)
    answers = await asyncio.gather(*(ask(world, "openai", "guarded-slow") for _ in range(2)))
    assert [(a.status, reply_text("openai", a, False)) for a in answers] == [(200, ECHO)] * 2
    assert world.seen("openai")[asked:] == ["fake-slow-0.3"]
    assert sorted(str(r["connection"]) for r in await last_rows(world, 2)) == [
        "up-anthropic",
        "up-openai",
    ]
    assert (breaker.state, breaker.failures) == (CLOSED, 0)

    # Open again; this time the probe fails, and the breaker re-opens for open_seconds.
    await fail(world, "openai/fake-error-500", threshold)
    assert breaker.state is OPEN
    world.clock.advance(open_s)
    asked = len(world.seen("openai"))
    assert (await ask(world, "openai", "openai/fake-error-503")).status == 503
    assert world.seen("openai")[asked:] == ["fake-error-503"]
    assert (breaker.state, breaker.open_until) == (OPEN, world.clock.now + open_s)
    answer = await ask(world, "openai", "guarded")
    assert answer.status == 200 and world.seen("openai")[asked:] == ["fake-error-503"]


async def test_the_provider_breaker_opens_on_failures_across_two_connections(
    world: ChaosWorld,
) -> None:
    threshold, open_s = PROVIDER_BREAKER.failure_threshold, PROVIDER_BREAKER.open_seconds
    # Each request fails on both accounts: pair-a, then pair-b.
    await fail(world, "ds/fake-error-500", threshold // 2)
    assert world.seen("openai") == ["fake-error-500"] * threshold
    assert health(world, "pair-a", "pair-b") == {
        provider_key("deepseek"): (OPEN, threshold),
        connection_key(conn_id(world, "pair-a")): (CLOSED, threshold // 2),
        connection_key(conn_id(world, "pair-b")): (CLOSED, threshold // 2),
    }
    # Open for the whole provider: neither account is asked, the next target serves.
    answer = await ask(world, "openai", "ds-guarded")
    assert (answer.status, reply_text("openai", answer, False)) == (200, ECHO)
    assert len(world.seen("openai")) == threshold
    # After open_seconds one probe goes out (pair-a); it fails, the provider re-opens and
    # pair-b is skipped.
    world.clock.advance(open_s)
    answer = await ask(world, "openai", "ds/fake-error-503")
    assert answer.status == 503
    assert world.seen("openai")[threshold:] == ["fake-error-503"]
    assert (
        "ds/fake-error-503 via 'pair-b': skipped (the provider's circuit breaker is open)"
        in error_of("openai", answer)[1]
    )
    provider = world.router.breakers.get(provider_key("deepseek"))
    assert provider is not None
    assert (provider.state, provider.open_until) == (OPEN, world.clock.now + open_s)
    # The next probe succeeds: the provider is closed again and serves.
    world.clock.advance(open_s)
    answer = await ask(world, "openai", "ds-guarded")
    assert (answer.status, reply_text("openai", answer, False)) == (200, ECHO)
    assert world.seen("openai")[threshold:] == ["fake-error-503", "gpt-x"]
    assert (await last_rows(world))[0]["connection"] == "pair-a"
    assert (provider.state, provider.failures) == (CLOSED, 0)


# f. a stampede at a failing target: served by the next, no retry storm ---------------------


async def test_fifty_concurrent_requests_at_a_failing_target_cause_no_retry_storm(
    world: ChaosWorld,
) -> None:
    openai_id = conn_id(world, "up-openai")
    start = world.clock.now

    async def burst() -> None:
        answers = await asyncio.gather(*(ask(world, "openai", "stampede") for _ in range(50)))
        assert [(a.status, reply_text("openai", a, False)) for a in answers] == [(200, ECHO)] * 50

    await burst()  # every request that reached the slow target timed out, then fell back
    reached = len(world.seen("openai"))
    # Each client request tried it at most once; all were sent before the first timeout.
    assert PROVIDER_BREAKER.failure_threshold <= reached <= 50
    assert world.router.stats.uses(connection_key(openai_id)) == reached
    # The breakers counted up to their thresholds and then ignored the late failures.
    assert health(world, "up-openai") == {
        connection_key(openai_id): (OPEN, CONNECTION_BREAKER.failure_threshold),
        provider_key("openai"): (OPEN, PROVIDER_BREAKER.failure_threshold),
    }
    # Concurrent failures are one episode: the backoff does not escalate once per request.
    assert world.router.cooldowns.snapshot() == {
        model_key(openai_id, "fake-slow-2"): CooldownView(start + backoff(0), "timeout", 1)
    }

    # The cooldown is over but the breakers are open: nothing reaches it.
    world.clock.advance(backoff(0))
    await burst()
    assert len(world.seen("openai")) == reached
    # Both open phases are over: exactly one probe of the fifty reaches it.
    world.clock.advance(PROVIDER_BREAKER.open_seconds)
    await burst()
    assert world.seen("openai")[reached:] == ["fake-slow-2"]
    assert len(world.seen("anthropic")) == 150
    rows = await last_rows(world, 150)
    assert {(r["connection"], r["status"]) for r in rows} == {("up-anthropic", 200)}
