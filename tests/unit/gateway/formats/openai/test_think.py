"""Inline <think> extraction: whole strings and every way a stream can split them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.formats.openai_chat.think import ThinkSplitter, split_think


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("<think>plan</think>answer", ("plan", "answer")),
        ("\n  <think>\nplan\n</think>\n\nanswer", ("\nplan\n", "answer")),
        ("<think></think>answer", ("", "answer")),
        ("<think>never closed", ("never closed", "")),
        ("<think>", ("", "")),
        ("plain answer", ("", "plain answer")),
        ("  plain", ("", "  plain")),
        ("answer <think>not at the start</think>", ("", "answer <think>not at the start</think>")),
        ("<thinking>is not the tag</thinking>", ("", "<thinking>is not the tag</thinking>")),
        ("<th", ("", "<th")),
        ("   ", ("", "   ")),
        ("", ("", "")),
        ("<think>a</think>", ("a", "")),
        ("<think>x</thin", ("x</thin", "")),
        ("<think>a < b </ c</think>ok", ("a < b </ c", "ok")),
    ],
)
def test_split_think(content: str, expected: tuple[str, str]) -> None:
    assert split_think(content) == expected


def _feed_pieces(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    reasoning = text = ""
    for piece in pieces:
        r, t = splitter.feed(piece)
        reasoning, text = reasoning + r, text + t
    r, t = splitter.flush()
    return reasoning + r, text + t


@pytest.mark.parametrize(
    "content",
    [
        "\n<think>\nThe user greets me.\n</think>\n\nHello!",
        "<think>a</think>b",
        "plain text only",
        "<think>unterminated reasoning </thi",
        " <thunk>no</thunk>",
    ],
)
def test_every_two_way_split_gives_the_same_result(content: str) -> None:
    whole = split_think(content)
    for cut in range(len(content) + 1):
        assert _feed_pieces([content[:cut], content[cut:]]) == whole, cut
    assert _feed_pieces(list(content)) == whole


def test_holds_back_only_a_possible_tag_prefix() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<th") == ("", "")
    assert splitter.feed("ink>abc</t") == ("abc", "")
    assert splitter.feed("x") == ("</tx", "")  # "</tx" can no longer be the closing tag
    assert splitter.feed("</think>  ") == ("", "")
    assert splitter.feed("  done") == ("", "done")
    assert splitter.feed(" more") == ("", " more")
    assert splitter.flush() == ("", "")


@given(st.text(alphabet="<>/thinkab \n", max_size=40), st.data())
def test_random_splits_match_whole_parse(content: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(content)), max_size=6)))
    pieces, last = [], 0
    for cut in cuts:
        pieces.append(content[last:cut])
        last = cut
    pieces.append(content[last:])
    assert _feed_pieces(pieces) == split_think(content)
