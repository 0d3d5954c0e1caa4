"""A bounded copy of the bytes a streamed response sent its client.

Only requests whose answer may be replayed (idempotency, in-flight sharing, the response
cache) carry one; the stream writers append what they wrote. Past ``limit`` bytes the copy
is dropped and marked overflowed: such a response is never replayed.
"""

from __future__ import annotations


class Capture:
    __slots__ = ("_parts", "limit", "overflowed", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.overflowed = False
        self._parts: list[bytes] = []

    def add(self, data: bytes) -> None:
        if self.overflowed:
            return
        self.size += len(data)
        if self.size > self.limit:
            self.overflowed = True
            self._parts.clear()
            return
        self._parts.append(data)

    def body(self) -> bytes:
        return b"".join(self._parts)
