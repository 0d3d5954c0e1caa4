"""The hub: the canonical request, response and stream-event model every dialect maps to.

It is close to OpenAI Chat Completions, extended with what the other dialects can say:
reasoning with signatures, cache control, documents, tool-call signatures, error results.
Everything is a plain dict (TypedDict for typing) so translation stays cheap: no classes,
no validation per chunk. A dialect module converts its wire format to these shapes and back;
a field a dialect cannot express is dropped by its emitter (documented in docs/dialects.md).

Conventions every dialect module follows:

- ``content`` is always a list of parts in the hub (a plain string becomes one text part).
- Tool-call ``arguments`` are JSON text (as OpenAI), never parsed dicts; an emitter that needs
  an object (Anthropic ``input``, Gemini ``args``) parses it, and ``{}`` when it is empty.
- Ids are kept exactly (tool-call ids round-trip unchanged); a dialect without ids (older
  Gemini) gets generated ones, unique per response (``call_`` + random hex).
- ``system`` messages (OpenAI ``developer`` included) may appear anywhere in ``messages``;
  emitters whose dialect has a top-level system field move the leading ones there and turn
  later ones into user text (role normalisation).
- Unknown values never raise in an emitter: it maps what it can and drops the rest.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Dialect = Literal["openai", "anthropic", "gemini", "responses"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]


# Content parts ------------------------------------------------------------------------------


class TextPart(TypedDict):
    type: Literal["text"]
    text: str
    cache_control: NotRequired[
        dict[str, Any]
    ]  # Anthropic prompt caching, e.g. {"type": "ephemeral"}


class ImagePart(TypedDict):
    """Either inline (``data`` base64 + ``media_type``) or by ``url``."""

    type: Literal["image"]
    media_type: NotRequired[str]  # "image/png"
    data: NotRequired[str]  # base64, no data: prefix
    url: NotRequired[str]  # http(s) URL
    detail: NotRequired[str]  # OpenAI "low" | "high" | "auto"
    cache_control: NotRequired[dict[str, Any]]


class DocumentPart(TypedDict):
    """A file (PDF, text): inline base64 ``data`` + ``media_type``, or ``url``."""

    type: Literal["document"]
    media_type: NotRequired[str]  # "application/pdf"
    data: NotRequired[str]
    url: NotRequired[str]
    title: NotRequired[str]  # filename / title
    cache_control: NotRequired[dict[str, Any]]


Part = TextPart | ImagePart | DocumentPart


# Reasoning and tools ------------------------------------------------------------------------


class Reasoning(TypedDict):
    """One block of model reasoning.

    ``text``: the visible reasoning (Anthropic thinking, Gemini thought text, Responses summary
    text, OpenAI-compatible ``reasoning_content``). ``signature``: the opaque token the provider
    requires back on later turns (Anthropic ``signature``, Gemini ``thoughtSignature``,
    Responses ``encrypted_content``). ``redacted``: Anthropic ``redacted_thinking.data`` (then
    ``text`` is ""). ``id``: the Responses reasoning item id, kept for replay. ``origin``: who
    made the signature or redacted data (formats/replay.py ``signature_origin``); only that
    upstream accepts it back.
    """

    text: str
    signature: NotRequired[str]
    redacted: NotRequired[str]
    id: NotRequired[str]
    origin: NotRequired[str]


class ToolCall(TypedDict):
    id: str
    name: str
    arguments: str  # JSON text
    signature: NotRequired[str]  # Gemini thoughtSignature carried on the functionCall part
    origin: NotRequired[str]  # who made the signature (as Reasoning.origin)


class Tool(TypedDict):
    name: str
    description: NotRequired[str]
    parameters: dict[str, Any]  # JSON Schema (object); {"type": "object"} when none was given
    strict: NotRequired[bool]


# "auto" | "none" | "required" (must call some tool) | {"name": ...} (must call that one)
ToolChoice = str | dict[str, str]


# Messages -----------------------------------------------------------------------------------


class Message(TypedDict):
    role: Literal["system", "user", "assistant", "tool"]
    content: list[Part]
    reasoning: NotRequired[list[Reasoning]]  # assistant: comes before content and tool calls
    tool_calls: NotRequired[list[ToolCall]]  # assistant
    tool_call_id: NotRequired[str]  # tool: which call this answers
    name: NotRequired[str]  # tool: the function's name (Gemini needs it; may be absent)
    is_error: NotRequired[bool]  # tool: the tool failed (Anthropic is_error)


class ResponseFormat(TypedDict):
    type: Literal["text", "json_object", "json_schema"]
    name: NotRequired[str]
    schema: NotRequired[dict[str, Any]]
    strict: NotRequired[bool]


class ReasoningConfig(TypedDict, total=False):
    """What the client asked for. ``effort``: "minimal" | "low" | "medium" | "high";
    ``budget_tokens``: an explicit budget; ``enabled`` False means thinking off;
    ``summary``: Responses summary mode ("auto", "concise", "detailed")."""

    enabled: bool
    effort: str
    budget_tokens: int
    summary: str


class Request(TypedDict, total=False):
    model: str  # the upstream model id (set by the gateway before emitting)
    messages: list[Message]
    tools: list[Tool]
    tool_choice: ToolChoice
    parallel_tool_calls: bool
    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    stop: list[str]
    stream: bool
    include_usage: bool  # OpenAI stream_options.include_usage (client side)
    response_format: ResponseFormat
    reasoning: ReasoningConfig
    metadata: dict[str, Any]  # Anthropic metadata / Responses metadata
    user: str  # OpenAI user / Anthropic metadata.user_id
    extended_context: bool  # the "[1m]" model suffix: ask for the 1M-token context window


# Responses ----------------------------------------------------------------------------------


class Usage(TypedDict, total=False):
    input_tokens: int  # everything read, cached included (OpenAI prompt_tokens convention)
    output_tokens: int  # everything written, reasoning included
    cached_tokens: int  # input tokens served from cache (read)
    cache_creation_tokens: int  # input tokens written to cache (Anthropic)
    reasoning_tokens: int


class Response(TypedDict):
    id: str
    model: str
    content: list[Part]  # text parts in practice
    reasoning: list[Reasoning]
    tool_calls: list[ToolCall]
    finish_reason: FinishReason
    usage: Usage
    stop_sequence: NotRequired[str]


# Stream events ------------------------------------------------------------------------------
#
# A parser turns upstream events into this sequence; an emitter turns it into the client's
# events. Order guarantees a parser gives: "start" first; reasoning before text and tool calls
# of the same turn where the upstream orders them so; tool_call_start before that index's
# deltas; "finish" once, near the end; "usage" once, anywhere (emitters hold it until the
# end); "error" ends the stream. An emitter must produce a well-formed stream for ANY order
# (e.g. no "start", or text after a tool call) and finish it cleanly in close().


class StartEvent(TypedDict):
    type: Literal["start"]
    id: str
    model: str


class TextDelta(TypedDict):
    type: Literal["text_delta"]
    text: str


class ReasoningDelta(TypedDict):
    type: Literal["reasoning_delta"]
    text: str
    id: NotRequired[str]  # Responses reasoning item id when known


class ReasoningSignature(TypedDict):
    """Closes the current reasoning block with its signature."""

    type: Literal["reasoning_signature"]
    signature: str


class RedactedReasoning(TypedDict):
    type: Literal["redacted_reasoning"]
    data: str


class ToolCallStart(TypedDict):
    type: Literal["tool_call_start"]
    index: int  # 0-based, per response, in call order
    id: str
    name: str
    signature: NotRequired[str]


class ToolCallDelta(TypedDict):
    type: Literal["tool_call_delta"]
    index: int
    arguments: str  # a fragment of the JSON text


class FinishEvent(TypedDict):
    type: Literal["finish"]
    reason: FinishReason
    stop_sequence: NotRequired[str]


class UsageEvent(TypedDict):
    type: Literal["usage"]
    usage: Usage


class ErrorEvent(TypedDict):
    type: Literal["error"]
    error: Error


Event = (
    StartEvent
    | TextDelta
    | ReasoningDelta
    | ReasoningSignature
    | RedactedReasoning
    | ToolCallStart
    | ToolCallDelta
    | FinishEvent
    | UsageEvent
    | ErrorEvent
)


# Errors -------------------------------------------------------------------------------------

ErrorKind = Literal[
    "invalid_request",  # 400
    "authentication",  # 401
    "permission",  # 403
    "not_found",  # 404
    "request_too_large",  # 413
    "rate_limit",  # 429
    "server",  # 500
    "unavailable",  # 502 / 503 (Anthropic overloaded 529 maps here)
    "timeout",  # 504
]


class Error(TypedDict):
    status: int  # the HTTP status to send the client
    kind: ErrorKind
    message: str
    code: NotRequired[str]  # a machine code when the source had one (rate_limit_exceeded, ...)


KIND_BY_STATUS: dict[int, ErrorKind] = {
    400: "invalid_request",
    401: "authentication",
    403: "permission",
    404: "not_found",
    413: "request_too_large",
    422: "invalid_request",
    429: "rate_limit",
    500: "server",
    502: "unavailable",
    503: "unavailable",
    504: "timeout",
    529: "unavailable",
}


def kind_for_status(status: int) -> ErrorKind:
    if status in KIND_BY_STATUS:
        return KIND_BY_STATUS[status]
    return "invalid_request" if status < 500 else "server"


def text_of(parts: list[Part]) -> str:
    """The text parts of a content list, joined (images and documents ignored)."""
    return "".join(part["text"] for part in parts if part["type"] == "text")
