"""Cross-dialect translation cost: in-process per pair, then end to end OpenAI Chat -> Anthropic.

    python -m tests.overhead.translation [--quick]

1. Micro, in process, for the 12 ordered (client, upstream) pairs: request translation (client
   body -> hub -> upstream body), response translation (upstream body -> hub -> client body),
   both dict to dict (the JSON parse/dump around them happens on the same-dialect path too),
   and the cost per upstream stream chunk (bytes -> SSEDecoder -> upstream parser -> client
   emitter -> bytes). Bodies are the codec fixtures' largest request/response per dialect.
2. End to end: the fake Anthropic upstream and ``switchboard serve --headless``; an OpenAI Chat
   client through the gateway vs the same prompt sent directly to the fake, measured with the
   helpers of tests/bench/overhead.py (alternating raw-socket requests, pinned throughput).
Informational only: asserts nothing and exits 0 unless the setup itself fails.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from gateway.formats import hub
from gateway.formats.codec import codec_for
from gateway.formats.sse import SSEDecoder
from tests.bench import overhead
from tests.bench.overhead import CLIENT_KEY, GATEWAY_CORE, HOST, UPSTREAM_CORE, can_pin

DIALECTS = ("openai", "anthropic", "gemini", "responses")
FIXTURES = overhead.ROOT / "tests" / "fixtures"
TARGET_CHUNK_US, TARGET_ADDED_P50_MS = 30.0, 1.0
ANTHROPIC_KEY = "sk-ant-upstream-test"
PROMPT = "Say hello to the overhead benchmark"  # the prompt of overhead.build_request
WORDS = ("let", "me", "read", "the", "failing", "test", "and", "then", "fix", "it")
TEXT = "".join(" " + WORDS[i % len(WORDS)] for i in range(200))  # 200 one-word deltas
EVENT = re.compile(rb".+?(?:\r\n\r\n|\n\n)", re.DOTALL)  # one SSE event, blank line included
ARGUMENTS = orjson.dumps(
    {"command": "pytest -q tests/unit/gateway/formats", "description": "Run the codec tests"}
).decode()


# ----------------------------------------------------------------------------- micro


def largest(dialect: str, pattern: str) -> Path:
    """The largest fixture of ``dialect`` matching ``pattern``: the agent-shaped request
    (system, tools, tool-call history) or the tool-call response."""
    return max((FIXTURES / dialect).glob(pattern), key=lambda p: p.stat().st_size)


def load(path: Path) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(path.read_bytes())
    return body


def hub_events() -> list[hub.Event]:
    """start, 200 one-word text deltas, a tool call in 20 argument fragments, finish, usage."""
    events: list[hub.Event] = [{"type": "start", "id": "bench-1", "model": "bench-model"}]
    events += [{"type": "text_delta", "text": " " + word} for word in TEXT.split(" ")[1:]]
    events.append({"type": "tool_call_start", "index": 0, "id": "call_bench_1", "name": "Bash"})
    cut = [len(ARGUMENTS) * i // 20 for i in range(21)]  # 20 fragments
    events += [
        {"type": "tool_call_delta", "index": 0, "arguments": ARGUMENTS[a:b]}
        for a, b in itertools.pairwise(cut)
    ]
    events.append({"type": "finish", "reason": "tool_calls"})
    usage: hub.Usage = {"input_tokens": 3200, "output_tokens": 230, "cached_tokens": 2048}
    events.append({"type": "usage", "usage": usage})
    return events


def upstream_chunks(dialect: str, request: hub.Request) -> list[bytes]:
    """A recorded-style stream of ``dialect``: its own emitter over hub_events(), one SSE
    event per network chunk (Gemini ends events with CRLF CRLF, as the real API does)."""
    emitter = codec_for(dialect).stream_emitter(request)
    raw = b"".join(emitter.feed(event) for event in hub_events()) + emitter.close()
    return EVENT.findall(raw)


def per_call_us(fn: Callable[[], object], repeat: int, quick: bool) -> float:
    """Best of ``repeat`` timeit runs of >= 0.2 s (0.05 s with --quick), in µs per call."""
    timer = timeit.Timer(fn)
    number = timer.autorange()[0]
    number = max(1, number // 4) if quick else number
    return min(timer.repeat(repeat, number)) / number * 1e6


def intact(client: str, sent: bytes) -> bool:
    """Whether the client's stream, read back with its own parser, has all text and args."""
    decoder, parser = SSEDecoder(), codec_for(client).stream_parser()
    sse = decoder.feed(sent) + decoder.close()
    events: list[Any] = [e for s in sse for e in parser.feed(s)] + parser.close()
    text = "".join(e["text"] for e in events if e["type"] == "text_delta")
    arguments = "".join(e["arguments"] for e in events if e["type"] == "tool_call_delta")
    return text == TEXT and arguments == ARGUMENTS


class Pair(NamedTuple):
    """The measured callables of one (client, upstream) pair, as the gateway runs them
    (gateway/server/exchange.py, gateway/server/translated.py)."""

    request: Callable[[], object]
    response: Callable[[], object]
    stream: Callable[[], bytes]
    chunks: int  # upstream chunks one stream() call translates


def pair(client: str, upstream: str) -> Pair:
    client_codec, upstream_codec = codec_for(client), codec_for(upstream)
    body = load(largest(client, "*request*.json"))
    hub_request = client_codec.request_to_hub(body)
    upstream_response = load(largest(upstream, "response*.json"))
    upstream_request = upstream_codec.request_to_hub(load(largest(upstream, "*request*.json")))
    chunks = upstream_chunks(upstream, upstream_request)

    def request() -> object:
        translated: hub.Request = {**client_codec.request_to_hub(body), "model": "bench-model"}
        headers = upstream_codec.upstream_headers(translated)
        return upstream_codec.request_from_hub(translated), headers

    def response() -> object:
        translated = upstream_codec.response_to_hub(upstream_response)
        return client_codec.response_from_hub(translated, hub_request)

    def stream() -> bytes:
        decoder, parser = SSEDecoder(), upstream_codec.stream_parser()
        emitter = client_codec.stream_emitter(hub_request)
        sent = []  # what the gateway writes to the client, one write per upstream chunk
        for chunk in chunks:
            events = [e for sse in decoder.feed(chunk) for e in parser.feed(sse)]
            sent.append(b"".join([emitter.feed(e) for e in events]))
        tail = [e for sse in decoder.close() for e in parser.feed(sse)] + parser.close()
        sent += [emitter.feed(e) for e in tail]
        return b"".join(sent) + emitter.close()

    return Pair(request, response, stream, len(chunks))


def micro(repeat: int, quick: bool) -> list[float]:
    """Print the 12-pair table; return the µs/chunk of every pair."""
    fixtures = ", ".join(
        f"{d}/{largest(d, '*request*.json').name}+{largest(d, 'response*.json').name}"
        for d in DIALECTS
    )
    print(f"micro: µs per call, best of {repeat} timeit runs; fixtures {fixtures}")
    head = f"{'client -> upstream':24} {'request':>9} {'response':>9} {'chunks':>7} {'µs/chunk':>9}"
    print(f"  {head}")
    per_chunk = []
    for client, upstream in itertools.permutations(DIALECTS, 2):
        jobs = pair(client, upstream)
        if not intact(client, jobs.stream()):
            raise SystemExit(f"{client} -> {upstream}: the translated stream lost content")
        request_us, response_us, stream_us = (
            per_call_us(fn, repeat, quick) for fn in (jobs.request, jobs.response, jobs.stream)
        )
        chunk_us = stream_us / jobs.chunks
        per_chunk.append(chunk_us)
        mark = "PASS" if chunk_us <= TARGET_CHUNK_US else "MISS"
        print(
            f"  {client + ' -> ' + upstream:24} {request_us:9.1f} {response_us:9.1f} "
            f"{jobs.chunks:7d} {chunk_us:9.2f}  {mark}"
        )
    return per_chunk


# ----------------------------------------------------------------------------- end to end


def anthropic_request(port: int, *, stream: bool = False) -> bytes:
    """The prompt of overhead.build_request, as a direct Anthropic Messages request."""
    message = {"role": "user", "content": PROMPT}
    body = {"model": "claude-x", "max_tokens": 32, "messages": [message]} | (
        {"stream": True} if stream else {}
    )
    raw = orjson.dumps(body)
    head = (
        f"POST /v1/messages HTTP/1.1\r\nHost: {HOST}:{port}\r\nx-api-key: {ANTHROPIC_KEY}\r\n"
        f"anthropic-version: 2023-06-01\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(raw)}\r\n\r\n"
    )
    return head.encode() + raw


def anthropic_connection(up_port: int) -> str:
    return (
        f'name = "fake-anthropic"\nprovider = "anthropic"\napi_key = "{ANTHROPIC_KEY}"\n'
        f'base_url = "http://{HOST}:{up_port}"\n'
    )


def cross_stack(tmp: Path) -> Any:
    """overhead.stack() with the fake Anthropic upstream and an ``anthropic`` connection."""
    return overhead.stack(tmp, "tests.fakes.anthropic_upstream", anthropic_connection)


def end_to_end(args: argparse.Namespace) -> float:
    """Latency, stream TTFB and throughput of OpenAI Chat -> Anthropic; the added p50 (ms)."""
    with (
        tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp,
        cross_stack(Path(tmp)) as (up_port, gw_port, (upstream, gateway)),
    ):
        where = f"gateway core {GATEWAY_CORE}, upstream core {UPSTREAM_CORE}"
        print(
            "\nend to end, measured as tests/bench/overhead.py does: an OpenAI Chat client "
            f"-> gateway -> fake Anthropic\n({where if can_pin() else 'nothing pinned'}) vs "
            "the same prompt sent directly to the fake as a Messages request"
        )
        gw_model = "anthropic/claude-x"
        plain = anthropic_request(up_port), overhead.build_request(gw_port, CLIENT_KEY, gw_model)
        streamed = (
            anthropic_request(up_port, stream=True),
            overhead.build_request(gw_port, CLIENT_KEY, gw_model, stream=True),
        )
        conns = overhead.RawConn(up_port), overhead.RawConn(gw_port)
        overhead.alternate(conns, plain, args.warmup, lambda r: r[0])
        latency = overhead.alternate(conns, plain, args.requests, lambda r: r[0])
        add_p50, add_p99 = overhead.compare("latency, non-stream, concurrency 1", latency)
        ttfb = overhead.alternate(conns, streamed, args.streams, lambda r: r[1])
        ttfb_p50, _ = overhead.compare("stream, time to the first 'data:' chunk", ttfb)
        for conn in conns:
            conn.sock.close()
        print(
            f"throughput through the gateway, non-stream, {args.duration:g} s, concurrency "
            f"{args.concurrency}, {args.clients} client processes kept off its core:"
        )
        pids = gateway.pid, upstream.pid
        load = overhead.throughput(args, gw_port, plain[1], pids, GATEWAY_CORE)
        print(
            f"  {load.rps:.0f} req/s, core {load.busy:.0%} busy; CPU ms per 1000 req: gateway "
            f"{load.server_ms:.1f}, upstream {load.other_ms:.1f}, clients {load.client_ms:.1f}"
        )
        if load.busy < 0.9:
            ceiling = 1e6 / max(load.server_ms, 1e-9)
            print(
                f"  gateway core not saturated; CPU-bound ceiling on one core ~ {ceiling:.0f} req/s"
            )
    mark = "PASS" if add_p50 <= TARGET_ADDED_P50_MS else "MISS"
    print(
        f"\nsummary: OpenAI Chat -> Anthropic added p50 {add_p50:.2f} ms {mark} (target <= "
        f"{TARGET_ADDED_P50_MS:g} ms), p99 {add_p99:.2f} ms | ttfb added p50 {ttfb_p50:.2f} ms "
        f"| {load.rps:.0f} req/s on 1 core, {load.server_ms / 1000:.3f} ms CPU/request"
    )
    return add_p50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, shorter runs")
    args = parser.parse_args()
    args.requests, args.warmup, args.streams = (300, 50, 60) if args.quick else (2000, 300, 300)
    args.duration = 3.0 if args.quick else 10.0
    args.concurrency, args.clients = 32, 2  # overhead.py's defaults
    worst = max(micro(3 if args.quick else 5, args.quick))
    mark = "PASS" if worst <= TARGET_CHUNK_US else "MISS"
    print(f"  slowest pair {worst:.2f} µs/chunk: {mark} (target <= {TARGET_CHUNK_US:g} µs/chunk)")
    end_to_end(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
