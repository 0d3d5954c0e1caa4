"""The official SDKs as clients, behind one small conversation interface.

Each adapter keeps the history in its own dialect exactly as a real agent would: it appends
the assistant turn the SDK returned (thinking blocks, thought signatures, reasoning items
included, or — for OpenAI Chat — only what that dialect has) and sends tool results back in
its dialect's shape. Replies are normalised into ``Reply`` so one test can check any dialect.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import anthropic
import openai
from google import genai
from google.genai import types as gtypes

from tests.support.gateway import CLIENT_KEY


class StreamFailedError(Exception):
    """A Responses stream that ended with response.failed or an error event."""


@dataclass
class Reply:
    text: str = ""
    reasoning: str = ""
    tool_calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    finish: str = ""  # normalised: stop | length | tool_calls
    usage: tuple[int, int] | None = None  # (input tokens, output tokens)


@dataclass
class Spec:
    """What a conversation asks for besides its messages."""

    model: str
    system: str | None = None
    tools: list[dict[str, Any]] | None = None  # [{"name", "description", "parameters"}]
    json_schema: dict[str, Any] | None = None
    think: bool = False
    max_tokens: int | None = None


class Conversation(Protocol):
    async def user(
        self, text: str, *, stream: bool = False, image: bytes | None = None
    ) -> Reply: ...

    async def tool_results(self, results: dict[str, str], *, stream: bool = False) -> Reply: ...

    async def aclose(self) -> None: ...


def png(size: int = 68) -> bytes:
    """Bytes that start like a PNG; the fakes only count them."""
    return b"\x89PNG\r\n\x1a\n" + bytes(range(size - 8))


# OpenAI Chat --------------------------------------------------------------------------------


class OpenAIChat:
    dialect = "openai"

    async def aclose(self) -> None:
        await self.sdk.close()

    def __init__(self, endpoint: str, spec: Spec) -> None:
        self.sdk = openai.AsyncOpenAI(base_url=f"{endpoint}/v1", api_key=CLIENT_KEY, max_retries=0)
        self.spec = spec
        self.messages: list[dict[str, Any]] = []
        if spec.system:
            self.messages.append({"role": "system", "content": spec.system})

    async def user(self, text: str, *, stream: bool = False, image: bytes | None = None) -> Reply:
        content: Any = text
        if image is not None:
            url = "data:image/png;base64," + base64.b64encode(image).decode()
            content = [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": url}},
            ]
        self.messages.append({"role": "user", "content": content})
        return await self._send(stream)

    async def tool_results(self, results: dict[str, str], *, stream: bool = False) -> Reply:
        for call_id, output in results.items():
            self.messages.append({"role": "tool", "tool_call_id": call_id, "content": output})
        return await self._send(stream)

    async def _send(self, stream: bool) -> Reply:
        kwargs: dict[str, Any] = {"model": self.spec.model, "messages": self.messages}
        if self.spec.tools:
            kwargs["tools"] = [{"type": "function", "function": t} for t in self.spec.tools]
        if self.spec.json_schema:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "echo", "schema": self.spec.json_schema},
            }
        if self.spec.think:
            kwargs["reasoning_effort"] = "low"
        if self.spec.max_tokens:
            kwargs["max_tokens"] = self.spec.max_tokens
        reply = Reply()
        calls: dict[int, dict[str, str]] = {}
        if stream:
            chunks = await self.sdk.chat.completions.create(
                **kwargs, stream=True, stream_options={"include_usage": True}
            )
            async for chunk in chunks:
                if chunk.usage:
                    reply.usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                reply.text += choice.delta.content or ""
                reply.reasoning += (choice.delta.model_extra or {}).get("reasoning_content") or ""
                for delta in choice.delta.tool_calls or []:
                    call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] += delta.id or ""
                    if delta.function:
                        call["name"] += delta.function.name or ""
                        call["arguments"] += delta.function.arguments or ""
                reply.finish = choice.finish_reason or reply.finish
        else:
            response = await self.sdk.chat.completions.create(**kwargs)
            message = response.choices[0].message
            reply.text = message.content or ""
            reply.reasoning = (message.model_extra or {}).get("reasoning_content") or ""
            for i, call in enumerate(message.tool_calls or []):
                calls[i] = {
                    "id": call.id,
                    "name": call.function.name,  # type: ignore[union-attr]
                    "arguments": call.function.arguments,
                }  # type: ignore[union-attr]
            reply.finish = response.choices[0].finish_reason
            if response.usage:
                reply.usage = (response.usage.prompt_tokens, response.usage.completion_tokens)
        reply.tool_calls = [
            (c["id"], c["name"], json.loads(c["arguments"] or "{}"))
            for _, c in sorted(calls.items())
        ]
        assistant: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if calls:
            assistant["tool_calls"] = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for _, c in sorted(calls.items())
            ]
        self.messages.append(assistant)
        return reply


# Anthropic Messages -------------------------------------------------------------------------

_ANTHROPIC_STOP = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


class AnthropicMessages:
    dialect = "anthropic"

    async def aclose(self) -> None:
        await self.sdk.close()

    def __init__(self, endpoint: str, spec: Spec) -> None:
        self.sdk = anthropic.AsyncAnthropic(base_url=endpoint, api_key=CLIENT_KEY, max_retries=0)
        self.spec = spec
        self.messages: list[dict[str, Any]] = []

    async def user(self, text: str, *, stream: bool = False, image: bytes | None = None) -> Reply:
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if image is not None:
            content.append(
                {
                    "type": "image",
                    "source": {
                        "type": "base64",
                        "media_type": "image/png",
                        "data": base64.b64encode(image).decode(),
                    },
                }
            )
        self.messages.append({"role": "user", "content": content})
        return await self._send(stream)

    async def tool_results(self, results: dict[str, str], *, stream: bool = False) -> Reply:
        self.messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": call_id, "content": output}
                    for call_id, output in results.items()
                ],
            }
        )
        return await self._send(stream)

    async def _send(self, stream: bool) -> Reply:
        kwargs: dict[str, Any] = {
            "model": self.spec.model,
            "messages": self.messages,
            "max_tokens": self.spec.max_tokens or 2048,
        }
        if self.spec.system:
            kwargs["system"] = [
                {"type": "text", "text": self.spec.system, "cache_control": {"type": "ephemeral"}}
            ]
        if self.spec.tools:
            kwargs["tools"] = [
                {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "input_schema": t["parameters"],
                }
                for t in self.spec.tools
            ]
        if self.spec.think:
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": 1024}
        if self.spec.json_schema:
            kwargs["output_config"] = {
                "format": {"type": "json_schema", "schema": self.spec.json_schema}
            }
        if stream:
            async with self.sdk.messages.stream(**kwargs) as events:
                message = await events.get_final_message()
        else:
            message = await self.sdk.messages.create(**kwargs)
        reply = Reply(
            finish=_ANTHROPIC_STOP.get(message.stop_reason or "", "?"),
            usage=(message.usage.input_tokens, message.usage.output_tokens),
        )
        for block in message.content:
            if block.type == "text":
                reply.text += block.text
            elif block.type == "thinking":
                reply.reasoning += block.thinking
            elif block.type == "tool_use":
                reply.tool_calls.append((block.id, block.name, dict(block.input)))  # type: ignore[arg-type]
        self.messages.append(
            {
                "role": "assistant",
                "content": [block.model_dump(exclude_none=True) for block in message.content],
            }
        )
        return reply


# Gemini -------------------------------------------------------------------------------------

_GEMINI_STOP = {"STOP": "stop", "MAX_TOKENS": "length"}


class GeminiGenerate:
    dialect = "gemini"

    async def aclose(self) -> None:
        await self.sdk.aio.aclose()

    def __init__(self, endpoint: str, spec: Spec) -> None:
        self.sdk = genai.Client(
            api_key=CLIENT_KEY,
            http_options=gtypes.HttpOptions(base_url=endpoint, api_version="v1beta"),
        )
        self.spec = spec
        self.contents: list[gtypes.Content] = []

    async def user(self, text: str, *, stream: bool = False, image: bytes | None = None) -> Reply:
        parts = [gtypes.Part(text=text)]
        if image is not None:
            parts.append(gtypes.Part(inline_data=gtypes.Blob(mime_type="image/png", data=image)))
        self.contents.append(gtypes.Content(role="user", parts=parts))
        return await self._send(stream)

    async def tool_results(self, results: dict[str, str], *, stream: bool = False) -> Reply:
        names = {
            c.id: c.name
            for content in self.contents
            if content.role == "model"
            for p in content.parts or []
            if (c := p.function_call) is not None
        }
        self.contents.append(
            gtypes.Content(
                role="user",
                parts=[
                    gtypes.Part(
                        function_response=gtypes.FunctionResponse(
                            id=call_id, name=names.get(call_id, "tool"), response={"result": output}
                        )
                    )
                    for call_id, output in results.items()
                ],
            )
        )
        return await self._send(stream)

    async def _send(self, stream: bool) -> Reply:
        config = gtypes.GenerateContentConfig(
            system_instruction=self.spec.system,
            max_output_tokens=self.spec.max_tokens,
            tools=[
                gtypes.Tool(
                    function_declarations=[
                        gtypes.FunctionDeclaration(
                            name=t["name"],
                            description=t.get("description"),
                            parameters_json_schema=t["parameters"],
                        )
                        for t in self.spec.tools
                    ]
                )
            ]
            if self.spec.tools
            else None,
            response_mime_type="application/json" if self.spec.json_schema else None,
            response_json_schema=self.spec.json_schema,
            thinking_config=gtypes.ThinkingConfig(include_thoughts=True, thinking_budget=1024)
            if self.spec.think
            else None,
        )
        reply = Reply()
        model_parts: list[gtypes.Part] = []
        if stream:
            chunks = await self.sdk.aio.models.generate_content_stream(
                model=self.spec.model, contents=self.contents, config=config
            )
            async for chunk in chunks:
                self._absorb(chunk, reply, model_parts)
        else:
            response = await self.sdk.aio.models.generate_content(
                model=self.spec.model, contents=self.contents, config=config
            )
            self._absorb(response, reply, model_parts)
        self.contents.append(gtypes.Content(role="model", parts=model_parts))
        return reply

    @staticmethod
    def _absorb(
        response: gtypes.GenerateContentResponse, reply: Reply, model_parts: list[gtypes.Part]
    ) -> None:
        if response.usage_metadata and response.usage_metadata.prompt_token_count is not None:
            meta = response.usage_metadata
            reply.usage = (
                meta.prompt_token_count or 0,
                (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0),
            )
        for candidate in response.candidates or []:
            if candidate.finish_reason:
                reply.finish = _GEMINI_STOP.get(candidate.finish_reason.value, "?")
            for part in (candidate.content.parts if candidate.content else None) or []:
                model_parts.append(part)
                if part.function_call:
                    call = part.function_call
                    reply.tool_calls.append((call.id or "", call.name or "", dict(call.args or {})))
                elif part.thought and part.text:
                    reply.reasoning += part.text
                elif part.text:
                    reply.text += part.text
        if reply.tool_calls and reply.finish == "stop":
            reply.finish = "tool_calls"


# OpenAI Responses ---------------------------------------------------------------------------


class OpenAIResponses:
    dialect = "responses"

    async def aclose(self) -> None:
        await self.sdk.close()

    def __init__(self, endpoint: str, spec: Spec) -> None:
        self.sdk = openai.AsyncOpenAI(base_url=f"{endpoint}/v1", api_key=CLIENT_KEY, max_retries=0)
        self.spec = spec
        self.input: list[dict[str, Any]] = []

    async def user(self, text: str, *, stream: bool = False, image: bytes | None = None) -> Reply:
        content: list[dict[str, Any]] = [{"type": "input_text", "text": text}]
        if image is not None:
            url = "data:image/png;base64," + base64.b64encode(image).decode()
            content.append({"type": "input_image", "image_url": url, "detail": "auto"})
        self.input.append({"role": "user", "content": content})
        return await self._send(stream)

    async def tool_results(self, results: dict[str, str], *, stream: bool = False) -> Reply:
        for call_id, output in results.items():
            self.input.append(
                {"type": "function_call_output", "call_id": call_id, "output": output}
            )
        return await self._send(stream)

    async def _send(self, stream: bool) -> Reply:
        kwargs: dict[str, Any] = {"model": self.spec.model, "input": self.input, "store": False}
        if self.spec.system:
            kwargs["instructions"] = self.spec.system
        if self.spec.tools:
            kwargs["tools"] = [{"type": "function", **t} for t in self.spec.tools]
        if self.spec.json_schema:
            kwargs["text"] = {
                "format": {"type": "json_schema", "name": "echo", "schema": self.spec.json_schema}
            }
        if self.spec.think:
            kwargs["reasoning"] = {"effort": "low", "summary": "auto"}
            kwargs["include"] = ["reasoning.encrypted_content"]
        if self.spec.max_tokens:
            kwargs["max_output_tokens"] = self.spec.max_tokens
        if stream:
            response = None
            events = await self.sdk.responses.create(**kwargs, stream=True)
            async for event in events:
                if event.type in ("response.completed", "response.incomplete"):
                    response = event.response
                elif event.type == "response.failed":  # what Codex reports as an error
                    error = event.response.error
                    raise StreamFailedError(error.message if error else "response.failed")
                elif event.type == "error":
                    raise StreamFailedError(event.message)
            assert response is not None, "the stream ended without response.completed"
        else:
            response = await self.sdk.responses.create(**kwargs)
        reply = Reply()
        if response.usage:
            reply.usage = (response.usage.input_tokens, response.usage.output_tokens)
        for item in response.output:
            if item.type == "message":
                reply.text += "".join(c.text for c in item.content if c.type == "output_text")
            elif item.type == "reasoning":
                reply.reasoning += "".join(s.text for s in item.summary)
            elif item.type == "function_call":
                reply.tool_calls.append((item.call_id, item.name, json.loads(item.arguments)))
        reply.finish = (
            "tool_calls"
            if reply.tool_calls
            else "length"
            if response.status == "incomplete"
            else "stop"
        )
        self.input += [item.model_dump(exclude_none=True) for item in response.output]
        return reply


ADAPTERS: dict[str, type[OpenAIChat | AnthropicMessages | GeminiGenerate | OpenAIResponses]] = {
    "openai": OpenAIChat,
    "anthropic": AnthropicMessages,
    "gemini": GeminiGenerate,
    "responses": OpenAIResponses,
}


def conversation(dialect: str, endpoint: str, spec: Spec) -> Conversation:
    return ADAPTERS[dialect](endpoint, spec)
