"""Gemini ``GenerateContentResponse`` ⇄ hub response, and the usage mapping both ways.

Usage: Gemini's ``candidatesTokenCount`` excludes thinking (``totalTokenCount`` = prompt +
candidates + toolUsePrompt + thoughts), so hub ``output_tokens`` = candidates + thoughts;
``promptTokenCount`` already includes ``cachedContentTokenCount``; server-side tool results
(``toolUsePromptTokenCount``) are input the model read, so they join ``input_tokens``.
"""

from __future__ import annotations

import os
from typing import Any

from gateway.formats import hub
from gateway.formats.gemini.parts import PartFolder
from gateway.formats.gemini.wire import (
    FINISH_FROM_HUB,
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


def response_to_hub(body: dict[str, Any]) -> hub.Response:
    candidates = seq(body.get("candidates"))
    candidate = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
    collector = PartFolder(lambda _part, _name: new_call_id(), merge_text=True)
    content = candidate.get("content")
    if isinstance(content, dict):
        for index, part in enumerate(seq(content.get("parts"))):
            if isinstance(part, dict):
                collector.add(part, index)
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


def call_part(
    call_id: str, name: str, signature: str | None, arguments: dict[str, Any]
) -> dict[str, Any]:
    """One whole functionCall part (with its signature when the SDK can decode it)."""
    function: dict[str, Any] = {"name": name, "args": arguments}
    if call_id:
        function["id"] = call_id
    part: dict[str, Any] = {"functionCall": function}
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
        arguments = parse_arguments(call["arguments"])
        parts.append(call_part(call["id"], call["name"], call.get("signature"), arguments))
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
