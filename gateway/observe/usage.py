"""Per-request usage: the tokens the upstream reported, an estimate where it reported none,
and the cost in USD (docs/usage.md).

The request path only copies counts it already has (``record_usage``) and, for translated
streams, adds up the length of the text going by (``event_chars``). Everything else happens
once, when the request ends (``settle``): an estimate when needed, then the price lookup and
a few multiplications.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gateway.formats import hub
from gateway.formats.estimate import CHARS_PER_TOKEN, estimate_input_tokens
from gateway.providers.pricing import ModelPrice, PriceBook

if TYPE_CHECKING:
    from gateway.observe.request_log import LogEntry

# A request that ended with this error still succeeded upstream (the client left).
CLIENT_GONE = "client disconnected"
_PER_MTOK = 1_000_000


def record_usage(entry: LogEntry, usage: hub.Usage | None) -> None:
    """Copy the counts the upstream reported (a later report replaces an earlier one)."""
    if usage:
        if "input_tokens" in usage:
            entry.tokens_in = usage["input_tokens"]
        if "output_tokens" in usage:
            entry.tokens_out = usage["output_tokens"]
        if "cached_tokens" in usage:
            entry.cached_tokens = usage["cached_tokens"]
        if "cache_creation_tokens" in usage:
            entry.cache_write_tokens = usage["cache_creation_tokens"]
        if "reasoning_tokens" in usage:
            entry.reasoning_tokens = usage["reasoning_tokens"]


def note_response(entry: LogEntry, response: hub.Response | None) -> None:
    """A whole (non-streamed) response: its usage, and its length in case that is missing."""
    if response is None:
        return
    record_usage(entry, response["usage"])
    if entry.tokens_out is None:
        entry.output_chars = response_chars(response)


def response_chars(response: hub.Response) -> int:
    chars = sum(len(part["text"]) for part in response["content"] if part["type"] == "text")
    chars += sum(len(item["text"]) for item in response["reasoning"])
    chars += sum(len(call["name"]) + len(call["arguments"]) for call in response["tool_calls"])
    return chars


def event_chars(event: hub.Event) -> int:
    """Characters the model wrote in one stream event (text, reasoning, tool calls)."""
    if event["type"] == "text_delta" or event["type"] == "reasoning_delta":
        return len(event["text"])
    if event["type"] == "tool_call_delta":
        return len(event["arguments"])
    if event["type"] == "tool_call_start":
        return len(event["name"])
    return 0


def succeeded(status: int, error: str | None) -> bool:
    """What analytics count as a success: a 2xx/3xx the upstream finished (or the client left)."""
    return 200 <= status < 400 and (error is None or error == CLIENT_GONE)


def cost_usd(
    price: ModelPrice, tokens_in: int, tokens_out: int, cached: int, cache_write: int
) -> float:
    """USD for one request. ``tokens_in`` includes cached reads and cache writes (the hub's
    convention), ``tokens_out`` includes reasoning; a missing cache price bills as input."""
    fresh = max(tokens_in - cached - cache_write, 0)
    read_rate = price.input if price.cache_read is None else price.cache_read
    write_rate = price.input if price.cache_write is None else price.cache_write
    total = (
        fresh * price.input
        + cached * read_rate
        + cache_write * write_rate
        + tokens_out * price.output
    )
    return round(total / _PER_MTOK, 12)


def settle(entry: LogEntry, prices: PriceBook) -> None:
    """When the request ends: estimate what the upstream did not report, then price it."""
    if entry.request_to_hub is not None and 200 <= entry.status < 300:
        _estimate(entry)
    if entry.provider is None or entry.alias is None or entry.upstream_model is None:
        return  # never reached an upstream: nothing to price
    quote = prices.quote(entry.alias, entry.provider, entry.upstream_model)
    entry.price_source = quote.source
    if quote.price is None or (entry.tokens_in is None and entry.tokens_out is None):
        return
    entry.cost_usd = cost_usd(
        quote.price,
        entry.tokens_in or 0,
        entry.tokens_out or 0,
        entry.cached_tokens or 0,
        entry.cache_write_tokens or 0,
    )


def _estimate(entry: LogEntry) -> None:
    """Fill in missing counts, and output counts of a stream cut short (the upstream's last
    report came before the end). Method: gateway/formats/estimate.py, 4 characters a token."""
    cut = entry.error is not None
    if entry.tokens_in is not None and entry.tokens_out is not None and not cut:
        return
    if entry.tokens_in is None and entry.request_to_hub is not None:
        try:
            entry.tokens_in = estimate_input_tokens(entry.request_to_hub())
        except Exception:  # an unreadable request was answered anyway: leave it unknown
            pass
        else:
            entry.estimated = True
    written = math.ceil(entry.output_chars / CHARS_PER_TOKEN)
    if entry.tokens_out is None or (cut and written > entry.tokens_out):
        entry.tokens_out = written
        entry.estimated = True
