"""Inline ``<think>…</think>`` reasoning at the start of a content stream.

Some OpenAI-compatible hosts serve DeepSeek R1-style models with the reasoning inline in
``content`` instead of ``reasoning_content``. Only a leading block counts (after optional
whitespace); tags may be split across deltas, so the splitter holds back only what could
still be the start of a tag. Whitespace right after ``</think>`` is dropped (it separates
the reasoning from the answer).
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"

# States
_DETECT = 0  # nothing but whitespace (or a prefix of "<think>") seen so far
_INSIDE = 1  # inside the think block
_AFTER = 2  # just after "</think>": dropping whitespace
_TEXT = 3  # plain content from here on


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    """Feed content pieces; get (reasoning, text) pieces back."""

    __slots__ = ("_held", "_state")

    def __init__(self) -> None:
        self._state = _DETECT
        self._held = ""

    def feed(self, piece: str) -> tuple[str, str]:
        if self._state == _TEXT:  # the hot path once the answer has started
            return "", piece
        reasoning = ""
        if self._state == _DETECT:
            buffered = self._held + piece
            stripped = buffered.lstrip()
            if not stripped or (len(stripped) < len(OPEN) and OPEN.startswith(stripped)):
                self._held = buffered
                return "", ""
            if not stripped.startswith(OPEN):
                self._state, self._held = _TEXT, ""
                return "", buffered
            self._state, self._held = _INSIDE, ""
            piece = stripped[len(OPEN) :]
        if self._state == _INSIDE:
            buffered = self._held + piece
            end = buffered.find(CLOSE)
            if end < 0:
                keep = _partial_suffix(buffered, CLOSE)
                self._held = buffered[len(buffered) - keep :] if keep else ""
                return buffered[: len(buffered) - keep], ""
            self._state, self._held = _AFTER, ""
            reasoning = buffered[:end]
            piece = buffered[end + len(CLOSE) :]
        # _AFTER
        piece = piece.lstrip()
        if piece:
            self._state = _TEXT
        return reasoning, piece

    def settle(self) -> str:
        """Something other than content arrived (a tool call, separate reasoning): content
        that was only being watched for a leading tag is plain text after all."""
        if self._state != _DETECT:
            return ""
        return self.flush()[1]

    def flush(self) -> tuple[str, str]:
        """End of content: what was held back, as (reasoning, text)."""
        held, self._held = self._held, ""
        if self._state == _DETECT:
            self._state = _TEXT
            return "", held
        if self._state == _INSIDE:
            return held, ""
        return "", ""


def split_think(content: str) -> tuple[str, str]:
    """A whole content string → (reasoning, text)."""
    splitter = ThinkSplitter()
    reasoning, text = splitter.feed(content)
    tail_reasoning, tail_text = splitter.flush()
    return reasoning + tail_reasoning, text + tail_text
