"""Server-sent events: an incremental decoder for upstream streams and an encoder for clients.

The decoder follows the WHATWG rules that matter for these APIs: events end at a blank line;
``event:`` and ``data:`` fields (several data lines are joined with "\n"); comment lines
(":") are ignored; CRLF, CR and LF all end lines; a chunk may end anywhere, even inside a
line or a UTF-8 sequence.

One extension: a line that starts with "{" outside an event is bare JSON, collected (over
several lines if needed) until its braces balance and returned as an event with that data.
Google sends mid-stream errors that way inside its SSE streams; no other dialect writes such
lines, since they are not valid SSE fields.
"""

from __future__ import annotations

from typing import NamedTuple


class SSEEvent(NamedTuple):
    event: str  # "" when the event had no event: field
    data: str


class SSEDecoder:
    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[str] = []
        self._bare: list[str] = []  # lines of a bare JSON object being collected
        self._depth = 0

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events completed by ``chunk`` (possibly none)."""
        buffer = self._buffer + chunk if self._buffer else chunk
        held = b""
        if b"\r" in buffer:
            # Normalise CRLF and lone CR; a trailing CR may be the first half of a CRLF.
            if buffer.endswith(b"\r"):
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._buffer = lines.pop() + held  # the unfinished last line
        events: list[SSEEvent] = []
        for raw in lines:
            if not raw:
                if self._data or self._event:
                    events.append(SSEEvent(self._event, "\n".join(self._data)))
                self._event, self._data = "", []
                continue
            line = raw.decode("utf-8", "replace")
            if self._bare or (line.startswith("{") and not self._data and not self._event):
                self._bare.append(line)
                self._depth += brace_balance(line)
                if self._depth <= 0:
                    events.append(SSEEvent("", "\n".join(self._bare)))
                    self._bare, self._depth = [], 0
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
        return events

    def close(self) -> list[SSEEvent]:
        """A final event the upstream did not terminate with a blank line, if any."""
        events = self.feed(b"\n\n") if self._buffer or self._data else []
        self._buffer = b""
        return events


def brace_balance(line: str) -> int:
    """Opening minus closing braces outside JSON strings."""
    if '"' not in line and "\\" not in line:
        return line.count("{") - line.count("}")
    depth, in_string, escaped = 0, False, False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = in_string
        elif char == '"':
            in_string = not in_string
        elif not in_string:
            depth += (char == "{") - (char == "}")
    return depth


def encode(data: bytes, event: str | None = None) -> bytes:
    """One SSE event; ``data`` must not contain newlines (compact JSON never does)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


KEEPALIVE_COMMENT = b": keep-alive\n\n"
