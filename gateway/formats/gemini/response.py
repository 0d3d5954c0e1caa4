"""Gemini ``GenerateContentResponse`` ⇄ hub response, and the usage mapping both ways.

Usage: Gemini's ``candidatesTokenCount`` excludes thinking (``totalTokenCount`` = prompt +
candidates + toolUsePrompt + thoughts), so hub ``output_tokens`` = candidates + thoughts;
``promptTokenCount`` already includes ``cachedContentTokenCount``; server-side tool results
(``toolUsePromptTokenCount``) are input the model read, so they join ``input_tokens``.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from gateway.formats import hub
from gateway.formats.gemini.request_in import media_part
from gateway.formats.gemini.wire import (
    FINISH_FROM_HUB,
    SKIP_SIGNATURE,
    count,
    finish_to_hub,
    is_base64,
    new_call_id,
    parse_arguments,
    seq,
)


def usage_to_hub(metadata: dict[str, Any]) -> hub.Usage:
    prompt = count(metadata.get("promptTokenCount"))
    tool_prompt = count(metadata.get("toolUsePromptTokenCount"))
    candidates = count(metadata.get("candidatesTokenCount"))
    thoughts = count(metadata.get("thoughtsTokenCount"))
    usage: hub.Usage = {
        "input_tokens": prompt + tool_prompt,
        "output_tokens": candidates + thoughts,
    }
    cached = count(metadata.get("cachedContentTokenCount"))
    if cached:
        usage["cached_tokens"] = cached
    if thoughts:
        usage["reasoning_tokens"] = thoughts
    return usage


def usage_from_hub(usage: hub.Usage) -> dict[str, Any]:
    prompt = usage.get("input_tokens", 0)
    output = usage.get("output_tokens", 0)
    thoughts = usage.get("reasoning_tokens", 0)
    metadata: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": max(output - thoughts, 0),
        "totalTokenCount": prompt + max(output, thoughts),
    }
    if usage.get("cached_tokens"):
        metadata["cachedContentTokenCount"] = usage["cached_tokens"]
    if thoughts:
        metadata["thoughtsTokenCount"] = thoughts
    return metadata


class _Collector:
    """Folds candidate parts into hub content, reasoning and tool calls (responses and the
    non-stream parse share the signature rules with request history)."""

    __slots__ = ("calls", "content", "open_block", "reasoning")

    def __init__(self) -> None:
        self.content: list[hub.Part] = []
        self.reasoning: list[hub.Reasoning] = []
        self.calls: list[hub.ToolCall] = []
        self.open_block = False

    def add(self, part: dict[str, Any]) -> None:
        signature = part.get("thoughtSignature")
        if signature == SKIP_SIGNATURE or not isinstance(signature, str):
            signature = None
        call = part.get("functionCall")
        if isinstance(call, dict):
            args = call.get("args")
            tool_call: hub.ToolCall = {
                "id": str(call.get("id") or new_call_id()),
                "name": str(call.get("name") or ""),
                "arguments": orjson.dumps(args if isinstance(args, dict) else {}).decode(),
            }
            if signature:
                tool_call["signature"] = signature
            self.calls.append(tool_call)
            return
        text = part.get("text")
        if part.get("thought") is True:
            text = text if isinstance(text, str) else ""
            if self.open_block:
                self.reasoning[-1]["text"] += text
            else:
                self.reasoning.append({"text": text})
                self.open_block = True
            if signature:
                self.reasoning[-1]["signature"] = signature
                self.open_block = False
            return
        if signature:
            if self.reasoning and "signature" not in self.reasoning[-1]:
                self.reasoning[-1]["signature"] = signature
            else:
                self.reasoning.append({"text": "", "signature": signature})
            self.open_block = False
        if isinstance(text, str):
            if text:
                # One text part per answer: consecutive chunks of text are one message.
                last = self.content[-1] if self.content else None
                if last is not None and last["type"] == "text":
                    last["text"] += text
                else:
                    self.content.append({"type": "text", "text": text})
            return
        media = media_part(part)
        if media is not None:
            self.content.append(media)


def response_to_hub(body: dict[str, Any]) -> hub.Response:
    candidates = seq(body.get("candidates"))
    candidate = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
    collector = _Collector()
    content = candidate.get("content")
    if isinstance(content, dict):
        for part in seq(content.get("parts")):
            if isinstance(part, dict):
                collector.add(part)
    reason = candidate.get("finishReason")
    feedback = body.get("promptFeedback")
    if not candidates and isinstance(feedback, dict) and feedback.get("blockReason"):
        finish: hub.FinishReason = "content_filter"  # the prompt itself was blocked
    else:
        finish = finish_to_hub(reason, bool(collector.calls))
    usage = body.get("usageMetadata")
    return {
        "id": str(body.get("responseId") or "resp_" + os.urandom(8).hex()),
        "model": str(body.get("modelVersion") or ""),
        "content": collector.content,
        "reasoning": collector.reasoning,
        "tool_calls": collector.calls,
        "finish_reason": finish,
        "usage": usage_to_hub(usage) if isinstance(usage, dict) else {},
    }


def reasoning_parts(reasoning: list[hub.Reasoning]) -> list[dict[str, Any]]:
    """Reasoning blocks as thought parts; a signature rides on its block's part (an empty
    answer part when the block has no text, as Gemini itself sends them). Signatures the
    SDK could not decode (not base64) are left out: they would fail the whole response."""
    parts: list[dict[str, Any]] = []
    for block in reasoning:
        signature = block.get("signature")
        if signature is not None and not is_base64(signature):
            signature = None
        if block["text"]:
            part: dict[str, Any] = {"text": block["text"], "thought": True}
        elif signature:
            part = {"text": ""}
        else:
            continue
        if signature:
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def call_part(call: hub.ToolCall, arguments: dict[str, Any]) -> dict[str, Any]:
    function: dict[str, Any] = {"name": call["name"], "args": arguments}
    if call["id"]:
        function["id"] = call["id"]
    part: dict[str, Any] = {"functionCall": function}
    signature = call.get("signature")
    if signature and is_base64(signature):
        part["thoughtSignature"] = signature
    return part


def response_from_hub(response: hub.Response, request: hub.Request) -> dict[str, Any]:
    parts = reasoning_parts(response["reasoning"])
    for part in response["content"]:
        if part["type"] == "text":
            if part["text"]:
                parts.append({"text": part["text"]})
        elif "data" in part:
            parts.append(
                {"inlineData": {"mimeType": part.get("media_type", ""), "data": part["data"]}}
            )
    for call in response["tool_calls"]:
        parts.append(call_part(call, parse_arguments(call["arguments"])))
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": parts},
        "finishReason": FINISH_FROM_HUB.get(response["finish_reason"], "STOP"),
        "index": 0,
    }
    return {
        "candidates": [candidate],
        "usageMetadata": usage_from_hub(response["usage"]),
        "modelVersion": response["model"] or request.get("model", ""),
        "responseId": response["id"],
    }
