"""Raw HTTP in each client dialect, so a test sees exact bytes: one user turn as a request,
the reply's text, the error body and the stream's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from tests.support.gateway import CLIENT_KEY

DIALECTS = ("openai", "anthropic", "gemini", "responses")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    raw: bytes

    def json(self) -> Any:
        return orjson.loads(self.raw)


def request_for(dialect: str, model: str, text: str, stream: bool) -> tuple[str, dict[str, Any]]:
    """(path, JSON body) of one user turn in ``dialect``."""
    if dialect == "openai":
        body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}
        return "/v1/chat/completions", body
    if dialect == "anthropic":
        messages = [{"role": "user", "content": text}]
        return "/v1/messages", {
            "model": model,
            "max_tokens": 64,
            "stream": stream,
            "messages": messages,
        }
    if dialect == "gemini":
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
        return f"/v1beta/models/{model}:{action}", body
    return "/v1/responses", {"model": model, "stream": stream, "input": text}


async def send(
    http: aiohttp.ClientSession, endpoint: str, dialect: str, model: str, text: str, stream: bool
) -> Answer:
    path, body = request_for(dialect, model, text, stream)
    auth = "x-goog-api-key" if dialect == "gemini" else "x-api-key"
    async with http.post(f"{endpoint}{path}", json=body, headers={auth: CLIENT_KEY}) as response:
        return Answer(response.status, dict(response.headers), await response.read())


def sse_events(raw: bytes) -> list[tuple[str | None, Any]]:
    """(event name, parsed data) of every SSE event; ``[DONE]`` is kept as the string."""
    events: list[tuple[str | None, Any]] = []
    for block in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        name: str | None = None
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data.append(line[5:].strip())
        if data:
            joined = b"\n".join(data)
            events.append((name, "[DONE]" if joined == b"[DONE]" else orjson.loads(joined)))
    return events


def reply_text(dialect: str, answer: Answer, stream: bool) -> str:
    """The assistant's text, whole or put together from the stream's deltas."""
    if not stream:
        body = answer.json()
        if dialect == "openai":
            return str(body["choices"][0]["message"]["content"])
        if dialect == "anthropic":
            return "".join(b["text"] for b in body["content"] if b["type"] == "text")
        if dialect == "gemini":
            return "".join(p.get("text", "") for p in body["candidates"][0]["content"]["parts"])
        return "".join(
            part["text"]
            for item in body["output"]
            if item["type"] == "message"
            for part in item["content"]
            if part["type"] == "output_text"
        )
    text = ""
    for _, data in sse_events(answer.raw):
        if not isinstance(data, dict):
            continue
        if dialect == "openai":
            for choice in data.get("choices") or []:
                text += (choice.get("delta") or {}).get("content") or ""
        elif dialect == "anthropic":
            delta = data.get("delta") or {}
            if data.get("type") == "content_block_delta" and delta.get("type") == "text_delta":
                text += delta["text"]
        elif dialect == "gemini":
            for candidate in data.get("candidates") or []:
                text += "".join(p.get("text", "") for p in candidate["content"].get("parts", []))
        elif data.get("type") == "response.output_text.delta":
            text += data["delta"]
    return text


def error_of(dialect: str, answer: Answer) -> tuple[str, str]:
    """(the error's machine code or type, its message) from a dialect's error body."""
    body = answer.json()
    error = body["error"]
    if dialect == "anthropic":
        assert body["type"] == "error"
        return str(error["type"]), str(error["message"])
    if dialect == "gemini":
        return str(error["status"]), str(error["message"])
    return str(error["code"]), str(error["message"])
