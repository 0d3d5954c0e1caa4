"""Cost against hand-computed values, and what settling a request's usage does."""

from __future__ import annotations

import pytest

from gateway.formats import hub
from gateway.observe.request_log import LogEntry
from gateway.observe.usage import (
    cost_usd,
    event_chars,
    note_response,
    record_usage,
    settle,
    succeeded,
)
from gateway.providers.catalog import default_catalog
from gateway.providers.pricing import FREE, ModelPrice, PriceBook

SONNET = ModelPrice(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
PLAIN = ModelPrice(input=2.0, output=12.0)  # no cache prices


def test_cost_by_hand() -> None:
    # 1,000 input of which 600 read from the cache and 100 written to it; 500 output of
    # which 200 reasoning (already inside the output):
    # 300 x $3 + 600 x $0.30 + 100 x $3.75 + 500 x $15 = 900 + 180 + 375 + 7,500 per 1M
    assert cost_usd(SONNET, 1000, 500, 600, 100) == pytest.approx(0.008955, abs=1e-15)
    # Without cache prices cached tokens bill as input: 1,000 x $2 + 500 x $12.
    assert cost_usd(PLAIN, 1000, 500, 600, 100) == pytest.approx(0.008, abs=1e-15)
    assert cost_usd(FREE, 1_000_000, 1_000_000, 0, 0) == 0.0
    # Counts that do not add up (more cached than input) never make a negative fresh part.
    assert cost_usd(SONNET, 10, 0, 20, 0) == pytest.approx(20 * 0.3 / 1e6, abs=1e-15)


def entry(**values: object) -> LogEntry:
    base: dict[str, object] = {
        "ts": 1.0,
        "request_id": "r",
        "client_dialect": "openai",
        "provider": "anthropic",
        "alias": "anthropic",
        "upstream_model": "claude-opus-5-5",
        "status": 200,
    }
    base.update(values)
    return LogEntry(**base)  # type: ignore[arg-type]


def book(*overrides: tuple[str, ModelPrice]) -> PriceBook:
    catalog = default_catalog()
    return PriceBook(catalog.prices, {p.id: p.tier for p in catalog.providers}, overrides)


def test_settle_prices_from_the_catalog() -> None:
    item = entry(tokens_in=2000, tokens_out=300, cached_tokens=1500, reasoning_tokens=100)
    settle(item, book())
    # Opus 5.5: $4 in, $20 out, $0.20 cache read: 500 x 4 + 1,500 x 0.2 + 300 x 20.
    assert (item.price_source, item.estimated) == ("catalog", False)
    assert item.cost_usd == pytest.approx((2000 + 300 + 6000) / 1e6, abs=1e-15)


def test_settle_free_local_unknown_and_override() -> None:
    free = entry(provider="nvidia", alias="nvidia", upstream_model="z-ai/glm5", tokens_in=10)
    settle(free, book())
    assert (free.price_source, free.cost_usd) == ("free", 0.0)
    local = entry(provider="ollama", alias="ollama", upstream_model="qwen3", tokens_out=10)
    settle(local, book())
    assert (local.price_source, local.cost_usd) == ("local", 0.0)
    unknown = entry(upstream_model="claude-next", tokens_in=10, tokens_out=10)
    settle(unknown, book())
    assert (unknown.price_source, unknown.cost_usd) == ("unknown", None)
    mine = entry(tokens_in=1_000_000, tokens_out=0)
    settle(mine, book(("anthropic/claude-opus-5-5", PLAIN)))
    assert (mine.price_source, mine.cost_usd) == ("override", 2.0)


def test_settle_leaves_what_it_cannot_price() -> None:
    no_tokens = entry(status=502)  # failed upstream: no usage, nothing billed
    settle(no_tokens, book())
    assert (no_tokens.price_source, no_tokens.cost_usd, no_tokens.tokens_in) == (
        "catalog",
        None,
        None,
    )
    never_routed = entry(provider=None, alias=None, upstream_model=None, status=404)
    settle(never_routed, book())
    assert (never_routed.price_source, never_routed.cost_usd) == (None, None)


HUB_REQUEST: hub.Request = {
    "model": "m",
    "messages": [{"role": "user", "content": [{"type": "text", "text": "x" * 41}]}],
}


def test_settle_estimates_missing_counts() -> None:
    item = entry(output_chars=17, request_to_hub=lambda: HUB_REQUEST)
    settle(item, book())
    assert (item.tokens_in, item.tokens_out, item.estimated) == (11, 5, True)  # ceil(41/4), ...
    assert item.cost_usd == pytest.approx((11 * 4 + 5 * 20) / 1e6, abs=1e-15)


def test_settle_keeps_reported_counts() -> None:
    item = entry(tokens_in=3, tokens_out=4, output_chars=400, request_to_hub=lambda: HUB_REQUEST)
    settle(item, book())
    assert (item.tokens_in, item.tokens_out, item.estimated) == (3, 4, False)


def test_a_cut_stream_takes_the_larger_output() -> None:
    cut = entry(
        tokens_in=3,
        tokens_out=1,
        output_chars=40,
        error="stream interrupted: upstream closed",
        request_to_hub=lambda: HUB_REQUEST,
    )
    settle(cut, book())
    assert (cut.tokens_in, cut.tokens_out, cut.estimated) == (3, 10, True)
    finished = entry(
        tokens_in=3, tokens_out=50, output_chars=40, error="client disconnected",
        request_to_hub=lambda: HUB_REQUEST,
    )  # fmt: skip
    settle(finished, book())
    assert (finished.tokens_out, finished.estimated) == (50, False)


def test_no_estimate_for_failures_other_endpoints_or_unreadable_requests() -> None:
    failed = entry(status=429, request_to_hub=lambda: HUB_REQUEST)
    settle(failed, book())
    assert (failed.tokens_in, failed.estimated) == (None, False)
    count = entry()  # count_tokens and the like carry no request_to_hub
    settle(count, book())
    assert (count.tokens_in, count.estimated) == (None, False)

    def unreadable() -> hub.Request:
        raise ValueError("bad request")

    odd = entry(output_chars=8, request_to_hub=unreadable)
    settle(odd, book())
    assert (odd.tokens_in, odd.tokens_out, odd.estimated) == (None, 2, True)


def test_record_usage_and_note_response() -> None:
    item = entry()
    record_usage(item, {"input_tokens": 9, "cached_tokens": 4})
    record_usage(item, {"output_tokens": 5, "reasoning_tokens": 2, "cache_creation_tokens": 1})
    record_usage(item, None)
    assert (item.tokens_in, item.tokens_out, item.cached_tokens) == (9, 5, 4)
    assert (item.reasoning_tokens, item.cache_write_tokens) == (2, 1)
    response: hub.Response = {
        "id": "x",
        "model": "m",
        "content": [{"type": "text", "text": "hello"}],
        "reasoning": [{"text": "hmm"}],
        "tool_calls": [{"id": "c", "name": "ls", "arguments": '{"a":1}'}],
        "finish_reason": "stop",
        "usage": {},
    }
    bare = entry()
    note_response(bare, response)
    assert (bare.tokens_out, bare.output_chars) == (None, 5 + 3 + 2 + 7)
    note_response(bare, None)
    assert bare.output_chars == 17


def test_event_chars_and_success() -> None:
    assert event_chars({"type": "text_delta", "text": "abc"}) == 3
    assert event_chars({"type": "reasoning_delta", "text": "ab"}) == 2
    assert event_chars({"type": "tool_call_start", "index": 0, "id": "c", "name": "bash"}) == 4
    assert event_chars({"type": "tool_call_delta", "index": 0, "arguments": '{"x"'}) == 4
    assert event_chars({"type": "finish", "reason": "stop"}) == 0
    assert succeeded(200, None) and succeeded(200, "client disconnected")
    assert not succeeded(200, "stream interrupted: upstream timed out")
    assert not succeeded(429, None) and not succeeded(0, None)
