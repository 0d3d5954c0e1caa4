"""An offline token estimate for count_tokens when the upstream cannot count.

Rule (docs/dialects.md): one token per 4 characters of every text the model reads (system,
messages, tool results, tool-call arguments, tool definitions as JSON), rounded up, plus a
flat 85 per image or document. Good to about ±20 % for English and code; never downloaded.
"""

from __future__ import annotations

import math

import orjson

from gateway.formats import hub

CHARS_PER_TOKEN = 4
TOKENS_PER_ATTACHMENT = 85


def estimate_input_tokens(request: hub.Request) -> int:
    chars = 0
    attachments = 0
    for message in request.get("messages", ()):
        for part in message["content"]:
            if part["type"] == "text":
                chars += len(part["text"])
            else:
                attachments += 1
        for call in message.get("tool_calls", ()):
            chars += len(call["name"]) + len(call["arguments"])
        for reasoning in message.get("reasoning", ()):
            chars += len(reasoning["text"])
    for tool in request.get("tools", ()):
        chars += len(orjson.dumps(tool))
    return math.ceil(chars / CHARS_PER_TOKEN) + attachments * TOKENS_PER_ATTACHMENT
