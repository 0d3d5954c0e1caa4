"""Cost of the rate limiter on the request path: one take() + release() per attempt, and one
learn() per upstream response.

    python -m tests.bench.ratelimit [--rounds N]

Informational only: prints microseconds per call (best of 5 runs) and exits 0.
"""

from __future__ import annotations

import argparse
import timeit
from types import MappingProxyType

from multidict import CIMultiDict, CIMultiDictProxy

from gateway.config.snapshot import Upstream
from gateway.routing.ratelimit import RateLimiter


def _upstream(cid: str, **limits: int) -> Upstream:
    return Upstream(
        connection_id=cid,
        connection=cid,
        provider="openai",
        provider_name="OpenAI",
        alias="openai",
        dialect="openai",
        base_url="http://127.0.0.1:1/v1",
        headers=MappingProxyType({}),
        models=frozenset(),
        priority=1,
        **limits,  # type: ignore[arg-type]
    )


def _headers(pairs: dict[str, str]) -> CIMultiDictProxy[str]:
    base = {"content-type": "application/json", "x-request-id": "req_1", "date": "now", **pairs}
    return CIMultiDictProxy(CIMultiDict(base))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.ratelimit")
    parser.add_argument("--rounds", type=int, default=200_000)
    rounds = parser.parse_args().rounds
    limits = RateLimiter()
    plain = _upstream("plain")
    concurrent = _upstream("concurrent", max_concurrent=1_000_000)
    windowed = _upstream("windowed", rpm=1_000_000)
    quiet = _headers({})
    openai = _headers(
        {
            "x-ratelimit-limit-requests": "10000",
            "x-ratelimit-remaining-requests": "9999",
            "x-ratelimit-reset-requests": "6ms",
        }
    )

    def take_release(upstream: Upstream) -> None:
        slot = limits.take(upstream)
        assert slot is not None
        slot.release()

    cases = {
        "take+release, no limits (the common case)": lambda: take_release(plain),
        "take+release, max_concurrent": lambda: take_release(concurrent),
        "take+release, rpm window": lambda: take_release(windowed),
        "learn, response without rate-limit headers": lambda: limits.learn(plain, quiet, 200),
        "learn, OpenAI rate-limit headers": lambda: limits.learn(windowed, openai, 200),
    }
    for name, case in cases.items():
        best = min(timeit.repeat(case, number=rounds, repeat=5))
        print(f"{name:45s} {best / rounds * 1e6:7.3f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
