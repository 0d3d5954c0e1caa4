"""A minimal OpenAI-shaped upstream for the routing benchmark: ``"model":"fail"`` gets an
immediate 503 with ``Retry-After: 0`` (so the gateway sets no cooldown and every request can
hop again), any other model a fixed 200 completion. Raw asyncio, keep-alive, no parsing
beyond Content-Length: as cheap as an upstream can be, so the gateway's share stands out.

    python -m tests.bench.hop_upstream --port N [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import orjson

_FAIL_MARK = b'"model":"fail"'


def _response(status: bytes, body: object, extra: bytes = b"") -> bytes:
    raw = orjson.dumps(body)
    head = (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(raw)).encode()
        + b"\r\n\r\n"
    )
    return head + raw


OK = _response(
    b"200 OK",
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": "bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 6, "completion_tokens": 1, "total_tokens": 7},
    },
)
FAIL = _response(
    b"503 Service Unavailable",
    {
        "error": {
            "message": "The server is overloaded or not ready yet.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    },
    b"Retry-After: 0\r\n",
)


class _Upstream(asyncio.Protocol):
    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end_of_head := self._buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in self._buffer[:end_of_head].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            end = end_of_head + 4 + length
            if len(self._buffer) < end:
                return
            body, self._buffer = self._buffer[end_of_head + 4 : end], self._buffer[end:]
            assert self._transport is not None
            self._transport.write(FAIL if _FAIL_MARK in body else OK)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Upstream, "127.0.0.1", port)
    print(f"listening on http://127.0.0.1:{port}/v1", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-record", action="store_true", help="accepted; nothing is kept")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
