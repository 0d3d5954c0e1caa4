"""What idempotency, in-flight dedup and the response cache cost per request, and a hit.

    python -m tests.bench.cache [--requests N]

1. In process: the request digest (raw bytes vs canonical JSON) for agent-sized bodies.
2. Through ``switchboard serve --headless`` (the overhead benchmark's stack: fake OpenAI
   upstream and gateway as pinned subprocesses, raw keep-alive HTTP/1.1 clients). Requests of
   five kinds alternate so that all see the same machine noise; every one goes through a combo
   so that routing costs the same:
   - ``off``:    temperature 0.7: nothing applies (the baseline);
   - ``dedup``:  temperature 0, a new body each time: digest, flight, answer recorded;
   - ``miss``:   temperature 0 through a combo with ``cache = true``: also a cache miss and a
                 store (memory + a row queued for logs.db);
   - ``stream``: as ``miss`` but streamed (capture + the stream's completeness check) vs the
                 same stream at temperature 0.7;
   - ``hit``:    the same temperature-0 request again: answered from the cache.
Informational only: asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from tests.bench.overhead import (
    CLIENT_KEY,
    HOST,
    UPSTREAM_KEY,
    RawConn,
    Result,
    pct,
    stack,
)

COMBOS = (
    '\n[[combos]]\nname = "plain"\ntargets = ["openai/fake-echo"]\n'
    '\n[[combos]]\nname = "cached"\ntargets = ["openai/fake-echo"]\ncache = true\n'
)


def connection(up_port: int) -> str:
    return (
        f'name = "fake"\nprovider = "openai"\napi_key = "{UPSTREAM_KEY}"\n'
        f'base_url = "http://{HOST}:{up_port}/v1"\n' + COMBOS
    )


def request(port: int, model: str, text: str, temperature: float, stream: bool = False) -> bytes:
    body: dict[str, object] = {
        "model": model,
        "max_tokens": 32,
        "temperature": temperature,
        "messages": [{"role": "user", "content": text}],
    }
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    raw = orjson.dumps(body)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {CLIENT_KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


# ----------------------------------------------------------------------------- in process


def agent_body(size: int) -> dict[str, object]:
    """A coding agent's request of about ``size`` bytes: a system prompt, tools, a history."""
    turns = []
    line = "def handler(request): return process(request.body)  # some code the agent read\n"
    while len(orjson.dumps(turns)) < size:
        turns.append({"role": "user", "content": line * 8})
        turns.append({"role": "assistant", "content": "I will look at the handler next."})
    return {"model": "coding", "temperature": 0, "max_tokens": 4096, "messages": turns}


def per_call_us(fn: Callable[[], object], seconds: float = 0.3, repeats: int = 5) -> float:
    """The best of ``repeats`` timings (the least disturbed by the rest of the machine)."""
    best = float("inf")
    for _ in range(repeats):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            fn()
            count += 1
        best = min(best, elapsed / count * 1e6)
    return best


def digests() -> None:
    print("request digest (SHA-256; blake2b for comparison), per request:")
    for size in (2_000, 64_000, 512_000):
        body = agent_body(size)
        raw = orjson.dumps(body)
        raw_us = per_call_us(lambda raw=raw: hashlib.sha256(raw).digest())
        blake_us = per_call_us(lambda raw=raw: hashlib.blake2b(raw, digest_size=16).digest())
        canon_us = per_call_us(
            lambda body=body: hashlib.sha256(
                orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
            ).digest()
        )
        print(
            f"  {len(raw) / 1000:6.0f} KB body: raw bytes {raw_us:7.1f} us "
            f"(blake2b {blake_us:7.1f} us), canonical JSON (sorted dump + hash) {canon_us:7.1f} us"
        )


# ----------------------------------------------------------------------------- end to end


def total(result: Result) -> float:
    return result[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="requests of each kind")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests of each kind")
    args = parser.parse_args()
    digests()
    with (
        tempfile.TemporaryDirectory(prefix="sb-bench-cache-") as tmp,
        stack(Path(tmp), connection=connection) as (_, port, _procs),
    ):
        conn = RawConn(port)
        n = args.warmup + args.requests
        kinds: dict[str, list[bytes]] = {
            "off": [request(port, "plain", f"question {i}", 0.7) for i in range(n)],
            "dedup": [request(port, "plain", f"question {i}", 0) for i in range(n)],
            "miss": [request(port, "cached", f"question {i}", 0) for i in range(n)],
            "stream off": [request(port, "plain", f"streamed {i}", 0.7, True) for i in range(n)],
            "stream miss": [request(port, "cached", f"streamed {i}", 0, True) for i in range(n)],
            "hit": [request(port, "cached", "question 0", 0)] * n,
        }
        samples: dict[str, list[float]] = {kind: [] for kind in kinds}
        for i in range(n):
            for kind, reqs in kinds.items():
                value = total(conn.send(reqs[i]))
                if i >= args.warmup:
                    samples[kind].append(value)
        conn.sock.close()

    print(
        f"\nthrough the gateway, {args.requests} sequential requests of each kind, "
        "interleaved (ms, whole response):"
    )
    for kind, values in samples.items():
        print(
            f"  {kind:12} p50 {pct(values, 0.5) * 1e3:7.3f}  p99 {pct(values, 0.99) * 1e3:7.3f}"
            f"  mean {statistics.fmean(values) * 1e3:7.3f}"
        )

    def added(kind: str, base: str) -> str:
        p50 = (pct(samples[kind], 0.5) - pct(samples[base], 0.5)) * 1e3
        mean = (statistics.fmean(samples[kind]) - statistics.fmean(samples[base])) * 1e3
        return f"p50 {p50:+.3f} ms, mean {mean:+.3f} ms"

    print("\nsummary:")
    print(f"  dedup on (leader, recorded):    {added('dedup', 'off')} per request")
    print(f"  cache on, miss + store:         {added('miss', 'off')} per request")
    print(f"  cache on, streamed miss + store: {added('stream miss', 'stream off')} per request")
    print(f"  cache hit vs an upstream call:  {added('hit', 'off')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
