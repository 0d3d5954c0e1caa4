"""OpenAI Chat Completions ⇄ hub (see docs/dialects/openai.md for the field mapping).

request_parse / request_emit: request bodies; response: ``chat.completion`` objects;
stream_parse / stream_emit: SSE streams; errors: error bodies; parts: message content;
think: inline ``<think>`` reasoning; mapping: shared value tables.
"""

from gateway.formats.openai_chat.codec import CODEC, OpenAIChatCodec

__all__ = ["CODEC", "OpenAIChatCodec"]
