"""Which requests count as deterministic, per dialect, and what makes two requests the same."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.formats.codec import codec_for
from gateway.server.dedup import deterministic, request_digest
from gateway.server.exchange import ClientCall


def call(dialect: str, body: dict[str, Any], **kwargs: Any) -> ClientCall:
    stream = kwargs.pop("stream", body.get("stream") is True)
    model = kwargs.pop("model", body.get("model", "openai/gpt-x"))
    return ClientCall(codec_for(dialect), body, orjson.dumps(body), model, stream, **kwargs)


@pytest.mark.parametrize(
    ("dialect", "body", "expected"),
    [
        ("openai", {"temperature": 0}, True),
        ("openai", {"temperature": 0.0}, True),
        ("openai", {"temperature": 0.7}, False),
        ("openai", {}, False),  # the provider's default is not 0
        ("openai", {"temperature": False}, False),  # a bool is not a temperature
        ("openai", {"temperature": "0"}, False),
        ("responses", {"temperature": 0}, True),
        ("responses", {"temperature": 1}, False),
        ("anthropic", {"temperature": 0}, True),
        ("anthropic", {"temperature": 0, "thinking": {"type": "disabled"}}, True),
        (
            "anthropic",
            {"temperature": 0, "thinking": {"type": "enabled", "budget_tokens": 1024}},
            False,
        ),
        ("anthropic", {"temperature": 0, "thinking": {"type": "adaptive"}}, False),
        ("gemini", {"generationConfig": {"temperature": 0}}, True),
        ("gemini", {"generationConfig": {"temperature": 0.2}}, False),
        ("gemini", {"temperature": 0}, False),  # Gemini reads it from generationConfig only
        ("gemini", {"generationConfig": None}, False),
    ],
)
def test_deterministic_per_dialect(dialect: str, body: dict[str, Any], expected: bool) -> None:
    assert deterministic(call(dialect, body)) is expected


def test_token_counting_and_json_array_gemini_streams_are_never_deterministic() -> None:
    assert not deterministic(call("anthropic", {"temperature": 0}, endpoint="count_tokens"))
    gemini = {"generationConfig": {"temperature": 0}}
    assert deterministic(call("gemini", gemini, stream=True, gemini_sse=True))
    assert not deterministic(call("gemini", gemini, stream=True, gemini_sse=False))


BODY = {"model": "openai/gpt-x", "temperature": 0, "messages": [{"role": "user", "content": "hi"}]}


def test_the_digest_is_the_same_for_the_same_request_and_key() -> None:
    assert request_digest(call("openai", BODY), "k", None) == request_digest(
        call("openai", dict(BODY)), "k", None
    )
    assert len(request_digest(call("openai", BODY), "k", None)) == 16


@pytest.mark.parametrize(
    "variant",
    [
        lambda: (call("openai", {**BODY, "temperature": 0.0}), "k", None),  # other bytes
        lambda: (call("openai", BODY), "other-key", None),
        lambda: (call("openai", BODY), None, None),
        lambda: (call("openai", BODY, stream=True), "k", None),
        lambda: (call("responses", BODY), "k", None),
        lambda: (call("openai", BODY, model="openai/gpt-y"), "k", None),  # Gemini: model in URL
        lambda: (call("openai", BODY), "k", "openai/gpt-x@work"),
        lambda: (call("openai", BODY, forwarded={"openai-beta": "x"}), "k", None),
        lambda: (call("openai", BODY, endpoint="count_tokens"), "k", None),
    ],
)
def test_anything_that_shapes_the_answer_changes_the_digest(variant: Any) -> None:
    base = request_digest(call("openai", BODY), "k", None)
    assert request_digest(*variant()) != base


def test_key_order_in_the_body_counts_bytes_are_hashed_as_sent() -> None:
    reordered = ClientCall(
        codec_for("openai"),
        BODY,
        b'{"temperature":0,"model":"openai/gpt-x","messages":[{"role":"user","content":"hi"}]}',
        "openai/gpt-x",
        False,
    )
    assert request_digest(reordered, "k", None) != request_digest(call("openai", BODY), "k", None)
