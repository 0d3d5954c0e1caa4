"""Generated request-log rows for the analytics tests and benchmarks: many of them, fast,
with a realistic spread over providers, models, connections, keys, outcomes and latencies."""

from __future__ import annotations

import math
import random
from typing import Any

from gateway.observe.request_log import COLUMNS

# provider -> (its models, its connections)
PROVIDERS = {
    "openai": (("gpt-6.2-sol", "gpt-6-luna", "gpt-6-astra"), ("work", "home")),
    "anthropic": (("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5"), ("team",)),
    "gemini": (("gemini-3.8-flash", "gemini-3.5-flash", "gemini-2.5-pro"), ("g1", "g2")),
    "ollama": (("qwen3", "llama3", "gemma3"), ("box",)),
}
KEYS = ("laptop", "ci", "desktop", "intern", None)
OUTCOMES = (  # (status, error, weight)
    (200, None, 90),
    (200, "client disconnected", 2),
    (200, "stream interrupted: upstream timed out", 2),
    (429, "upstream 429: slow down", 3),
    (502, "upstream 502: bad gateway", 2),
    (404, "model 'x' is not available", 1),
)


def generate_rows(count: int, *, start: float, hours: int, seed: int = 5) -> list[tuple[Any, ...]]:
    """``count`` rows in COLUMNS order, spread evenly over ``hours`` hours from ``start``."""
    rng = random.Random(seed)
    providers = list(PROVIDERS)
    outcomes = [(status, error) for status, error, _ in OUTCOMES]
    weights = [weight for _, _, weight in OUTCOMES]
    chosen = rng.choices(outcomes, weights, k=count)
    span = hours * 3600.0
    rows: list[tuple[Any, ...]] = []
    for i in range(count):
        provider = providers[i % 4] if i % 7 else rng.choice(providers)
        models, connections = PROVIDERS[provider]
        status, error = chosen[i]
        counted_here = i % 97 == 0  # a count_tokens answered by the local estimate
        routed = status != 404 and not counted_here
        ok = status == 200 and routed
        tokens_in = rng.randint(50, 20_000) if ok or counted_here else None
        tokens_out = rng.randint(1, 4000) if ok else None
        cached = (tokens_in // 2 if tokens_in and i % 3 == 0 else None) if ok else None
        reasoning = (tokens_out // 4 if tokens_out and i % 5 == 0 else None) if ok else None
        local = provider == "ollama"
        cost: float | None = None
        if ok and not local and i % 11:  # every 11th priced request has no known price
            cost = round(((tokens_in or 0) * 2.0 + (tokens_out or 0) * 10.0) / 1e6, 12)
        elif ok and local:
            cost = 0.0
        latency = min(max(math.exp(rng.gauss(6.5, 1.6)), 0.2), 900_000.0)
        rows.append(
            (
                start + span * i / count,
                f"req-{i:08d}",
                rng.choice(KEYS),
                "openai",
                f"{provider}/{models[i % 3]}",
                provider if routed else None,
                connections[i % len(connections)] if routed else None,
                models[i % 3] if routed else None,
                200 if counted_here else status,
                round(latency, 3),
                round(latency / 3, 3) if ok else None,
                tokens_in,
                tokens_out,
                None if counted_here else error,
                i % 2,
                None,  # replay
                cached,
                None,
                reasoning,
                int(ok and i % 13 == 0),
                cost,
                ("local" if local else "catalog" if cost is not None else "unknown")
                if routed
                else None,
            )
        )
    return rows


assert len(COLUMNS) == 22, "generate_rows() writes the request_log columns in order"
