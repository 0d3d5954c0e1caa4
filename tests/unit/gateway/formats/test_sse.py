"""The SSE decoder: framing rules, chunk boundaries anywhere, and Google's bare JSON errors."""

from __future__ import annotations

from gateway.formats.sse import SSEDecoder, SSEEvent, brace_balance

RAW = (
    b'event: a\r\ndata: {"x":1}\r\n\r\n: comment\n\ndata: l1\ndata: l2\n\n'
    b'data: {"candidates":[]}\r\n\r\n{"error": {"code": 503,\n "message": "a } b",'
    b' "status": "UNAVAILABLE"}}\nevent: b\rdata: z\r\r'
)
EXPECTED = [
    SSEEvent("a", '{"x":1}'),
    SSEEvent("", "l1\nl2"),
    SSEEvent("", '{"candidates":[]}'),
    SSEEvent("", '{"error": {"code": 503,\n "message": "a } b", "status": "UNAVAILABLE"}}'),
    SSEEvent("b", "z"),
]


def test_whole_and_byte_by_byte_give_the_same_events() -> None:
    whole = SSEDecoder()
    assert [*whole.feed(RAW), *whole.close()] == EXPECTED
    split = SSEDecoder()
    events = [e for i in range(len(RAW)) for e in split.feed(RAW[i : i + 1])]
    assert [*events, *split.close()] == EXPECTED


def test_an_unterminated_last_event_is_returned_on_close() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: tail") == []
    assert decoder.close() == [SSEEvent("", "tail")]


def test_brace_balance_ignores_strings_and_escapes() -> None:
    assert brace_balance('{"a": "}{\\"}"') == 1
    assert brace_balance("}}") == -2
