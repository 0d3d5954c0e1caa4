"""Property tests: hub → Responses → hub keeps every field Responses can express.

The strategies build hub values restricted to that (see docs/dialects/responses.md, known
limits): no cache_control, top_k, stop, metadata or extended_context; tool results without is_error;
reasoning in requests only with a signature (and no id: store=false replays carry none);
documents inline with a title; image detail other than the default "auto"; tool strict set.
Everything also crosses the wire as JSON, as it would for real.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.formats import hub
from gateway.formats.responses import CODEC
from tests.unit.gateway.formats.responses.support import collect, emit_stream, parse_stream

PROPERTY = settings(max_examples=150, deadline=None, database=None)

texts = st.text(max_size=20)
words = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=8)
b64 = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    min_size=4,
    max_size=16,
)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-99, 99), texts)
schemas = st.dictionaries(words, json_scalars, max_size=3).map(lambda d: {"type": "object", **d})


def wire(value: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(orjson.dumps(value))
    return result


text_parts = st.builds(lambda t: {"type": "text", "text": t}, texts)
image_parts = st.one_of(
    st.builds(
        lambda m, d, detail: {"type": "image", "media_type": m, "data": d, **detail},
        st.sampled_from(["image/png", "image/jpeg", "image/webp"]),
        b64,
        st.sampled_from([{}, {"detail": "low"}, {"detail": "high"}]),
    ),
    st.builds(
        lambda u, detail: {"type": "image", "url": "https://img.test/" + u, **detail},
        words,
        st.sampled_from([{}, {"detail": "low"}]),
    ),
)
document_parts = st.one_of(
    st.builds(
        lambda m, d, t: {"type": "document", "media_type": m, "data": d, "title": t},
        st.sampled_from(["application/pdf", "text/plain"]),
        b64,
        words,
    ),
    st.builds(
        lambda u, t: {"type": "document", "url": "https://doc.test/" + u, **t},
        words,
        st.sampled_from([{}, {"title": "spec.pdf"}]),
    ),
)
input_parts = st.lists(st.one_of(text_parts, image_parts, document_parts), max_size=4)


@st.composite
def conversations(draw: st.DrawFn) -> list[hub.Message]:
    messages: list[hub.Message] = []
    if draw(st.booleans()):
        messages.append(
            {"role": "system", "content": draw(st.lists(text_parts, min_size=1, max_size=2))}
        )
    call_number = 0
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["user", "system", "turn"]))
        if kind in ("user", "system"):
            messages.append({"role": kind, "content": draw(input_parts)})
            continue
        assistant: hub.Message = {
            "role": "assistant",
            "content": draw(st.lists(text_parts, max_size=2)),
        }
        reasoning = draw(
            st.lists(st.builds(lambda t, s: {"text": t, "signature": s}, texts, b64), max_size=2)
        )
        if reasoning:
            assistant["reasoning"] = reasoning
        calls: list[hub.ToolCall] = []
        for _ in range(draw(st.integers(0, 2))):
            call_number += 1
            calls.append(
                {
                    "id": f"call_{call_number}",
                    "name": draw(words),
                    "arguments": orjson.dumps(
                        draw(st.dictionaries(words, json_scalars, max_size=2))
                    ).decode(),
                }
            )
        if calls:
            assistant["tool_calls"] = calls
        if not (assistant["content"] or reasoning or calls):
            assistant["content"] = [{"type": "text", "text": "ok"}]
        messages.append(assistant)
        for call in calls:
            content = draw(
                st.one_of(
                    st.builds(lambda t: [{"type": "text", "text": t}], texts),
                    st.lists(
                        st.one_of(text_parts, image_parts, document_parts), min_size=2, max_size=3
                    ),
                )
            )
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call["id"],
                    "name": call["name"],
                    "content": content,
                }
            )
        messages.append({"role": "user", "content": [{"type": "text", "text": "next"}]})
    return messages


tools = st.lists(
    st.builds(
        lambda n, p, d, s: {"name": n, "parameters": p, **d, "strict": s},
        words,
        schemas,
        st.sampled_from([{}, {"description": "Does things."}]),
        st.booleans(),
    ),
    max_size=3,
)
response_formats = st.one_of(
    st.just({"type": "text"}),
    st.just({"type": "json_object"}),
    st.builds(
        lambda n, s, strict: {"type": "json_schema", "name": n, "schema": s, **strict},
        words,
        schemas,
        st.sampled_from([{}, {"strict": True}, {"strict": False}]),
    ),
)
reasoning_configs = st.one_of(
    st.builds(
        lambda e, s: {"enabled": True, "effort": e, **s},
        st.sampled_from(["minimal", "low", "medium", "high", "xhigh"]),
        st.sampled_from([{}, {"summary": "auto"}, {"summary": "detailed"}]),
    ),
    st.builds(
        lambda s: {"enabled": False, "effort": "none", **s},
        st.sampled_from([{}, {"summary": "concise"}]),
    ),
    st.just({"summary": "auto"}),
)
floats = st.floats(0, 2, allow_nan=False, allow_infinity=False)


@st.composite
def requests(draw: st.DrawFn) -> hub.Request:
    request: hub.Request = {"model": draw(words), "messages": draw(conversations())}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "tools": tools.filter(bool),
        "tool_choice": st.one_of(
            st.sampled_from(["auto", "none", "required"]), st.builds(lambda n: {"name": n}, words)
        ),
        "parallel_tool_calls": st.booleans(),
        "max_tokens": st.integers(16, 200_000),
        "temperature": floats,
        "top_p": floats,
        "stream": st.booleans(),
        "response_format": response_formats,
        "reasoning": reasoning_configs,
        "user": words,
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            request[key] = draw(strategy)  # type: ignore[literal-required]
    return request


@PROPERTY
@given(requests())
def test_request_round_trip(request: hub.Request) -> None:
    body = wire(CODEC.request_from_hub(request))
    assert body["store"] is False
    assert CODEC.request_to_hub(body) == request


@st.composite
def responses(draw: st.DrawFn) -> hub.Response:
    calls = draw(
        st.lists(
            st.builds(
                lambda i, n, a: {"id": "call_" + i, "name": n, "arguments": a}, words, words, texts
            ),
            max_size=3,
            unique_by=lambda c: c["id"],
        )
    )
    finish = draw(
        st.sampled_from(["length", "content_filter", "error", "tool_calls" if calls else "stop"])
    )
    usage: hub.Usage = {
        "input_tokens": draw(st.integers(0, 10**6)),
        "output_tokens": draw(st.integers(0, 10**5)),
    }
    for key in ("cached_tokens", "cache_creation_tokens", "reasoning_tokens"):
        if draw(st.booleans()):
            usage[key] = draw(st.integers(1, 10**5))  # type: ignore[literal-required]
    reasoning = draw(
        st.lists(
            st.builds(
                lambda i, t, s: {"id": "rs_" + i, "text": t, **s},
                words,
                texts,
                st.one_of(st.just({}), st.builds(lambda s: {"signature": s}, b64)),
            ),
            max_size=2,
            unique_by=lambda r: r["id"],
        )
    )
    return {
        "id": "resp_" + draw(words),
        "model": draw(words),
        "content": draw(st.lists(text_parts, max_size=3)),
        "reasoning": reasoning,
        "tool_calls": calls,
        "finish_reason": finish,
        "usage": usage,
    }


@PROPERTY
@given(responses(), requests())
def test_response_round_trip(response: hub.Response, request: hub.Request) -> None:
    assert CODEC.response_to_hub(wire(CODEC.response_from_hub(response, request))) == response


@PROPERTY
@given(responses())
def test_stream_round_trip(response: hub.Response) -> None:
    """A turn sent as hub events comes back with the same meaning through an emitted and
    re-parsed Responses stream (deltas cut anywhere)."""
    if response["finish_reason"] == "error":
        return  # an error ending is covered by the emitter tests
    events: list[hub.Event] = [{"type": "start", "id": response["id"], "model": response["model"]}]
    for block in response["reasoning"]:
        text = block["text"]
        events += [
            {"type": "reasoning_delta", "text": text[:3], "id": block["id"]},
            {"type": "reasoning_delta", "text": text[3:], "id": block["id"]},
        ]
        if "signature" in block:
            events.append({"type": "reasoning_signature", "signature": block["signature"]})
    for part in response["content"]:
        events.append({"type": "text_delta", "text": part["text"]})  # type: ignore[typeddict-item]
    for index, call in enumerate(response["tool_calls"]):
        events.append(
            {"type": "tool_call_start", "index": index, "id": call["id"], "name": call["name"]}
        )
        events.append({"type": "tool_call_delta", "index": index, "arguments": call["arguments"]})
    events.append({"type": "usage", "usage": response["usage"]})
    events.append({"type": "finish", "reason": response["finish_reason"]})
    back = parse_stream(emit_stream(events))
    assert back[0] == {"type": "start", "id": response["id"], "model": response["model"]}
    assert collect(back) == collect(events)
    # each upstream reasoning item stays its own item, id kept
    ids = [e.get("id") for e in back if e["type"] == "reasoning_delta"]
    assert sorted(set(filter(None, ids))) == sorted(
        b["id"] for b in response["reasoning"] if b["text"]
    )
