"""Auth refresh: one refresh per connection however many requests fail, retry with newer
headers, otherwise the connection is marked as needing login; every map bounded."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import pytest

from gateway.config.snapshot import Snapshot, Upstream
from gateway.routing.credentials import (
    NEEDS_LOGIN,
    ApiKeyRefresher,
    Credentials,
    LoginMarks,
)
from gateway.routing.router import Router

OLD = {"Content-Type": "application/json", "Authorization": "Bearer sk-old"}
NEW = {"Authorization": "Bearer sk-new"}


def upstream(
    cid: str = "c1", headers: Mapping[str, str] = OLD, provider: str = "openai"
) -> Upstream:
    return Upstream(
        connection_id=cid,
        connection=f"conn-{cid}",
        provider=provider,
        provider_name=provider,
        alias=provider,
        dialect="openai",
        base_url="http://127.0.0.1:1/v1",
        headers=MappingProxyType(dict(headers)),
        models=frozenset(),
        priority=1,
    )


class Counting:
    """A refresher that answers ``answer`` after ``delay`` seconds and counts its calls."""

    def __init__(self, answer: Mapping[str, str] | None, delay: float = 0.01) -> None:
        self.answer = answer
        self.delay = delay
        self.calls = 0

    async def refresh(self, upstream: Upstream) -> Mapping[str, str] | None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        return self.answer


class Failing:
    async def refresh(self, upstream: Upstream) -> Mapping[str, str] | None:
        raise RuntimeError("token endpoint down")


async def test_many_failures_at_once_share_one_refresh_and_all_retry() -> None:
    refresher = Counting(NEW, delay=0.05)
    credentials = Credentials(refresher)
    marks = LoginMarks()
    up = upstream()
    results = await asyncio.gather(
        *(credentials.recover(up, dict(OLD), set(), marks) for _ in range(20))
    )
    assert results == [True] * 20
    assert refresher.calls == 1
    assert len(marks) == 0
    headers = dict(OLD)
    credentials.patch("c1", headers)
    assert headers == {"Content-Type": "application/json", "Authorization": "Bearer sk-new"}


async def test_a_late_failure_with_old_headers_retries_without_refreshing_again() -> None:
    refresher = Counting(NEW)
    credentials = Credentials(refresher)
    marks = LoginMarks()
    assert await credentials.recover(upstream(), dict(OLD), set(), marks)
    # A request sent with the old key before the refresh ended fails afterwards:
    assert await credentials.recover(upstream(), dict(OLD), set(), marks)
    assert refresher.calls == 1


async def test_nothing_newer_marks_the_connection() -> None:
    refresher = Counting(None)
    credentials = Credentials(refresher)
    marks = LoginMarks()
    assert not await credentials.recover(upstream(), dict(OLD), set(), marks)
    assert marks.get("c1") == NEEDS_LOGIN
    # The same headers again count as nothing newer too.
    same = Credentials(Counting({"Authorization": "Bearer sk-old"}))
    assert not await same.recover(upstream("c2"), dict(OLD), set(), marks)
    assert marks.get("c2") == NEEDS_LOGIN


async def test_a_retry_refused_again_marks_without_a_second_refresh() -> None:
    refresher = Counting(NEW)
    credentials = Credentials(refresher)
    marks = LoginMarks()
    refreshed: set[str] = set()
    assert await credentials.recover(upstream(), dict(OLD), refreshed, marks)
    sent = dict(OLD)
    credentials.patch("c1", sent)
    assert not await credentials.recover(upstream(), sent, refreshed, marks)
    assert refresher.calls == 1 and marks.get("c1") == NEEDS_LOGIN


async def test_a_failing_or_hanging_refresher_counts_as_nothing_newer() -> None:
    marks = LoginMarks()
    assert not await Credentials(Failing()).recover(upstream(), dict(OLD), set(), marks)
    slow = Credentials(Counting(NEW, delay=5.0), timeout_s=0.05)
    assert not await asyncio.wait_for(slow.recover(upstream("c2"), dict(OLD), set(), marks), 2)
    assert (marks.get("c1"), marks.get("c2")) == (NEEDS_LOGIN, NEEDS_LOGIN)
    assert not await Credentials().recover(upstream("c3"), dict(OLD), set(), marks)  # none set


async def test_a_provider_refresher_is_one_registration() -> None:
    default, oauth = Counting(None), Counting({"Authorization": "Bearer fresh-token"})
    credentials = Credentials(default)
    credentials.register("claude-code", oauth)
    marks = LoginMarks()
    assert await credentials.recover(upstream(provider="claude-code"), dict(OLD), set(), marks)
    assert (default.calls, oauth.calls) == (0, 1)


async def test_a_client_going_away_does_not_cancel_the_shared_refresh() -> None:
    refresher = Counting(NEW, delay=0.05)
    credentials = Credentials(refresher)
    marks = LoginMarks()
    first = asyncio.create_task(credentials.recover(upstream(), dict(OLD), set(), marks))
    second = asyncio.create_task(credentials.recover(upstream(), dict(OLD), set(), marks))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await asyncio.wait_for(second, 1) is True
    assert refresher.calls == 1
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_the_api_key_refresher_returns_only_what_changed() -> None:
    stored: dict[str, Upstream | None] = {"c1": upstream(headers={**OLD, **NEW})}
    refresher = ApiKeyRefresher(lambda cid: stored.get(cid))
    assert await refresher.refresh(upstream()) == NEW
    stored["c1"] = upstream()
    assert await refresher.refresh(upstream()) is None  # the same key as before
    stored["c1"] = dataclasses.replace(upstream(headers=NEW), problem="key unreadable")
    assert await refresher.refresh(upstream()) is None
    assert await refresher.refresh(upstream("gone")) is None


def test_marks_block_the_connection_in_the_router_and_are_bounded() -> None:
    router = Router()
    router.logins.mark("c1")
    assert router.blocked("c1", "openai", "m") == NEEDS_LOGIN
    assert router.blocked("c2", "openai", "m") is None
    marks = LoginMarks(max_entries=2)
    for cid in ("a", "b", "c"):
        marks.mark(cid)
    assert len(marks) == 2 and marks.get("a") is None
    marks.clear("b")
    assert (marks.get("b"), marks.get("c")) == (None, NEEDS_LOGIN)


async def test_refreshed_headers_are_bounded() -> None:
    credentials = Credentials(Counting(NEW), max_entries=2)
    for cid in ("a", "b", "c"):
        assert await credentials.recover(upstream(cid), dict(OLD), set(), LoginMarks())
    patched = {cid: dict(OLD) for cid in ("a", "b", "c")}
    for cid, headers in patched.items():
        credentials.patch(cid, headers)
    assert [h["Authorization"] for h in patched.values()] == [
        "Bearer sk-old",
        "Bearer sk-new",
        "Bearer sk-new",
    ]


async def test_a_new_configuration_clears_marks_and_refreshed_headers() -> None:
    from gateway.server.runtime import Runtime

    credentials = Credentials(Counting(NEW))
    runtime = Runtime(
        Snapshot.empty(),
        http=None,  # type: ignore[arg-type]
        log=None,  # type: ignore[arg-type]
        credentials=credentials,
    )
    assert await credentials.recover(upstream(), dict(OLD), set(), runtime.router.logins)
    runtime.router.logins.mark("c2")
    runtime.install(Snapshot.empty())  # the same revision: nothing forgotten
    assert runtime.router.logins.get("c2") == NEEDS_LOGIN
    runtime.install(dataclasses.replace(Snapshot.empty(), revision=1))
    assert runtime.router.logins.get("c2") is None
    headers = dict(OLD)
    credentials.patch("c1", headers)
    assert headers == OLD
