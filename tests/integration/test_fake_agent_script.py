"""``fake-agent`` / ``fake-agent-think`` in every fake upstream, driven with the official SDKs
the way the coding-agent CLIs drive them: the script in the prompt plays back one step per
request, the client runs the tool loop (here: answers each call with a canned result)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from anthropic import AsyncAnthropic
from google import genai
from google.genai import types
from openai import AsyncOpenAI

from tests.fakes import anthropic_upstream, gemini_upstream, openai_upstream, responses_upstream
from tests.fakes.server import FakeServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCRIPT = "RUN: echo one\nRUN: echo two"
WRAPPER = (
    "<system-reminder>\nAs you answer the user's questions, you can use the following "
    "context: the project uses pytest.\n</system-reminder>"
)
DESCRIPTION = "run a command for the e2e test"  # what agent_script puts in required strings
DIALECTS = ("openai", "anthropic", "gemini", "responses")
SHELL = {"openai": "bash", "anthropic": "Bash", "gemini": "run_shell_command"}
SHELL["responses"] = "exec_command"
# The arguments each CLI's shell tool gets for "echo one" (per the schemas below).
FIRST_ARGS: dict[str, dict[str, Any]] = {
    "openai": {"command": "echo one", "description": DESCRIPTION},
    "anthropic": {"command": "echo one", "description": DESCRIPTION},
    "gemini": {"command": "echo one"},
    "responses": {"cmd": "echo one"},
}
CALL_ID_PREFIX = {"openai": "call_", "anthropic": "toolu_", "gemini": "call_", "responses": "call_"}

# The shell tools as the CLIs declare them (trimmed), next to a non-shell tool.
OPENCODE_BASH = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "The command to execute"},
        "timeout": {"type": "number", "description": "Optional timeout in milliseconds"},
        "description": {"type": "string", "description": "What the command does, 5-10 words"},
    },
    "required": ["command", "description"],
    "additionalProperties": False,
}
CLAUDE_BASH = {
    "type": "object",
    "properties": {
        "command": {"type": "string"},
        "timeout": {"type": "number"},
        "description": {"type": "string"},
        "run_in_background": {"type": "boolean"},
    },
    "required": ["command", "description"],
    "additionalProperties": False,
    "$schema": "http://json-schema.org/draft-07/schema#",
}
CODEX_EXEC = {
    "type": "object",
    "properties": {
        "cmd": {"type": "string"},
        "workdir": {"type": "string"},
        "yield_time_ms": {"type": "number"},
    },
    "required": ["cmd"],
    "additionalProperties": False,
}
READ_FILE = {
    "type": "object",
    "properties": {"path": {"type": "string"}, "offset": {"type": "integer"}},
    "required": ["path"],
}


@dataclass
class Call:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class Outcome:
    """One reply, in no dialect in particular."""

    text: str = ""
    reasoning: str = ""
    calls: list[Call] = field(default_factory=list)
    finish: str = ""
    output_tokens: int | None = None
    signature: str | bytes | None = None  # of the reasoning (None for OpenAI Chat)


class Driver(ABC):
    """A client of one dialect holding one conversation."""

    text_finish: str
    tool_finish: str

    def __init__(self, base_url: str, model: str) -> None:
        self.base_url = base_url
        self.model = model

    @abstractmethod
    def user(self, *texts: str) -> None:
        """Adds a user message made of these text parts."""

    @abstractmethod
    async def ask(self, *, stream: bool, tools: bool = True) -> Outcome:
        """Sends the conversation; the reply joins it."""

    @abstractmethod
    def answer(self, call: Call, output: str) -> None:
        """Adds the result of ``call``."""

    async def close(self) -> None:
        return None


class OpenAIChat(Driver):
    text_finish = "stop"
    tool_finish = "tool_calls"

    def __init__(self, base_url: str, model: str) -> None:
        super().__init__(base_url, model)
        self.sdk = AsyncOpenAI(
            base_url=base_url, api_key=openai_upstream.DEFAULT_API_KEY, max_retries=0
        )
        self.messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are a coding agent."}
        ]
        self.tools = [
            {"type": "function", "function": {"name": "read", "parameters": READ_FILE}},
            {"type": "function", "function": {"name": "bash", "parameters": OPENCODE_BASH}},
        ]

    def user(self, *texts: str) -> None:
        content = [{"type": "text", "text": t} for t in texts]
        self.messages.append({"role": "user", "content": content})

    async def ask(self, *, stream: bool, tools: bool = True) -> Outcome:
        extra: dict[str, Any] = {"tools": self.tools} if tools else {}
        out = Outcome()
        if not stream:
            completion = await self.sdk.chat.completions.create(
                model=self.model, messages=self.messages, **extra
            )
            choice = completion.choices[0]
            message = choice.message
            out.text = message.content or ""
            out.reasoning = (message.model_extra or {}).get("reasoning_content") or ""
            out.calls = [
                Call(tc.id, tc.function.name, json.loads(tc.function.arguments))
                for tc in message.tool_calls or []
                if tc.type == "function"
            ]
            out.finish = choice.finish_reason
            assert completion.usage is not None
            out.output_tokens = completion.usage.completion_tokens
        else:
            chunks = await self.sdk.chat.completions.create(
                model=self.model,
                messages=self.messages,
                stream=True,
                stream_options={"include_usage": True},
                **extra,
            )
            calls: dict[int, dict[str, str]] = {}
            async for chunk in chunks:
                if chunk.usage is not None:
                    out.output_tokens = chunk.usage.completion_tokens
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                delta = choice.delta
                out.text += delta.content or ""
                out.reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
                for piece in delta.tool_calls or []:
                    entry = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
                    entry["id"] += piece.id or ""
                    if piece.function is not None:
                        entry["name"] += piece.function.name or ""
                        entry["arguments"] += piece.function.arguments or ""
                if choice.finish_reason is not None:
                    out.finish = choice.finish_reason
            out.calls = [
                Call(c["id"], c["name"], json.loads(c["arguments"]))
                for _, c in sorted(calls.items())
            ]
        assistant: dict[str, Any] = {"role": "assistant", "content": out.text or None}
        if out.calls:
            assistant["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                }
                for c in out.calls
            ]
        self.messages.append(assistant)
        return out

    def answer(self, call: Call, output: str) -> None:
        self.messages.append({"role": "tool", "tool_call_id": call.id, "content": output})

    async def close(self) -> None:
        await self.sdk.close()


class Anthropic(Driver):
    text_finish = "end_turn"
    tool_finish = "tool_use"

    def __init__(self, base_url: str, model: str) -> None:
        super().__init__(base_url, model)
        self.sdk = AsyncAnthropic(
            base_url=base_url, api_key=anthropic_upstream.DEFAULT_API_KEY, max_retries=0
        )
        self.messages: list[dict[str, Any]] = []
        self.tools = [
            {"name": "Read", "input_schema": READ_FILE},
            {"name": "Bash", "description": "Runs a shell command.", "input_schema": CLAUDE_BASH},
        ]
        self.results: list[dict[str, Any]] = []

    def user(self, *texts: str) -> None:
        self.messages.append(
            {"role": "user", "content": [{"type": "text", "text": t} for t in texts]}
        )

    async def ask(self, *, stream: bool, tools: bool = True) -> Outcome:
        if self.results:
            self.messages.append({"role": "user", "content": self.results})
            self.results = []
        extra: dict[str, Any] = {"tools": self.tools} if tools else {}
        request: dict[str, Any] = {"model": self.model, "max_tokens": 4096, **extra}
        if not stream:
            message = await self.sdk.messages.create(messages=self.messages, **request)
        else:
            async with self.sdk.messages.stream(messages=self.messages, **request) as events:
                message = await events.get_final_message()
        out = Outcome(finish=str(message.stop_reason), output_tokens=message.usage.output_tokens)
        replay: list[dict[str, Any]] = []
        for block in message.content:
            if block.type == "thinking":
                out.reasoning += block.thinking
                out.signature = block.signature
                replay.append(
                    {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
                )
            elif block.type == "text":
                out.text += block.text
                replay.append({"type": "text", "text": block.text})
            elif block.type == "tool_use":
                arguments = dict(block.input) if isinstance(block.input, dict) else {}
                out.calls.append(Call(block.id, block.name, arguments))
                replay.append(
                    {"type": "tool_use", "id": block.id, "name": block.name, "input": arguments}
                )
        if replay:
            self.messages.append({"role": "assistant", "content": replay})
        return out

    def answer(self, call: Call, output: str) -> None:
        self.results.append({"type": "tool_result", "tool_use_id": call.id, "content": output})

    async def close(self) -> None:
        await self.sdk.close()


class Gemini(Driver):
    text_finish = "STOP"
    tool_finish = "STOP"

    def __init__(self, base_url: str, model: str) -> None:
        super().__init__(base_url, model)
        options = types.HttpOptions(base_url=base_url, api_version="v1beta")
        self.sdk = genai.Client(api_key=gemini_upstream.DEFAULT_API_KEY, http_options=options)
        self.contents: list[types.Content] = []
        self.results: list[types.Part] = []
        shell = types.FunctionDeclaration(
            name="run_shell_command",
            description="Runs a shell command.",
            # Schema form: the SDK sends Gemini's upper-case type names.
            parameters=types.Schema(
                type=types.Type.OBJECT,
                properties={
                    "command": types.Schema(type=types.Type.STRING),
                    "description": types.Schema(type=types.Type.STRING),
                    "directory": types.Schema(type=types.Type.STRING),
                },
                required=["command"],
            ),
        )
        reader = types.FunctionDeclaration(name="read_file", parameters_json_schema=READ_FILE)
        self.tool = types.Tool(function_declarations=[reader, shell])

    def user(self, *texts: str) -> None:
        self.contents.append(types.Content(role="user", parts=[types.Part(text=t) for t in texts]))

    async def ask(self, *, stream: bool, tools: bool = True) -> Outcome:
        if self.results:
            self.contents.append(types.Content(role="user", parts=self.results))
            self.results = []
        config = types.GenerateContentConfig(tools=[self.tool] if tools else None)
        responses: list[types.GenerateContentResponse] = []
        if not stream:
            responses.append(
                await self.sdk.aio.models.generate_content(
                    model=self.model, contents=self.contents, config=config
                )
            )
        else:
            async for chunk in await self.sdk.aio.models.generate_content_stream(
                model=self.model, contents=self.contents, config=config
            ):
                responses.append(chunk)
        out = Outcome()
        parts: list[types.Part] = []
        for response in responses:
            assert response.candidates
            candidate = response.candidates[0]
            if candidate.finish_reason is not None:
                out.finish = str(candidate.finish_reason.value)
            if response.usage_metadata is not None:
                out.output_tokens = response.usage_metadata.candidates_token_count
            assert candidate.content is not None
            parts.extend(candidate.content.parts or [])
        for part in parts:
            if part.thought_signature is not None:
                out.signature = part.thought_signature
            if part.thought and part.text is not None:
                out.reasoning += part.text
            elif part.text is not None:
                out.text += part.text
            elif part.function_call is not None:
                call = part.function_call
                out.calls.append(Call(call.id or "", call.name or "", dict(call.args or {})))
        self.contents.append(types.Content(role="model", parts=parts))
        return out

    def answer(self, call: Call, output: str) -> None:
        result = types.FunctionResponse(id=call.id, name=call.name, response={"output": output})
        self.results.append(types.Part(function_response=result))

    async def close(self) -> None:
        await self.sdk.aio.aclose()
        self.sdk.close()


class Responses(Driver):
    text_finish = "completed"
    tool_finish = "completed"

    def __init__(self, base_url: str, model: str) -> None:
        super().__init__(base_url, model)
        self.sdk = AsyncOpenAI(
            base_url=base_url, api_key=responses_upstream.DEFAULT_API_KEY, max_retries=0
        )
        self.input: list[dict[str, Any]] = [
            {"type": "message", "role": "developer", "content": "You are Codex."}
        ]
        self.tools = [
            {"type": "function", "name": "read_file", "parameters": READ_FILE, "strict": False},
            {"type": "function", "name": "exec_command", "parameters": CODEX_EXEC, "strict": False},
        ]

    def user(self, *texts: str) -> None:
        content = [{"type": "input_text", "text": t} for t in texts]
        self.input.append({"type": "message", "role": "user", "content": content})

    async def ask(self, *, stream: bool, tools: bool = True) -> Outcome:
        extra: dict[str, Any] = {"tools": self.tools} if tools else {}
        if not stream:
            response = await self.sdk.responses.create(model=self.model, input=self.input, **extra)
        else:
            events = await self.sdk.responses.create(
                model=self.model, input=self.input, stream=True, **extra
            )
            final = None
            async for event in events:
                if event.type == "response.completed":
                    final = event.response
            assert final is not None
            response = final
        out = Outcome(finish=response.status or "")
        assert response.usage is not None
        out.output_tokens = response.usage.output_tokens
        for item in response.output:
            if item.type == "reasoning":
                out.reasoning += "".join(s.text for s in item.summary)
                out.signature = item.encrypted_content
                self.input.append(
                    {
                        "type": "reasoning",
                        "id": item.id,
                        "summary": [{"type": "summary_text", "text": s.text} for s in item.summary],
                        "encrypted_content": item.encrypted_content,
                    }
                )
            elif item.type == "message":
                text = "".join(c.text for c in item.content if c.type == "output_text")
                out.text += text
                self.input.append(
                    {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": text}],
                    }
                )
            elif item.type == "function_call":
                out.calls.append(Call(item.call_id, item.name, json.loads(item.arguments)))
                self.input.append(
                    {
                        "type": "function_call",
                        "call_id": item.call_id,
                        "name": item.name,
                        "arguments": item.arguments,
                    }
                )
        return out

    def answer(self, call: Call, output: str) -> None:
        self.input.append({"type": "function_call_output", "call_id": call.id, "output": output})

    async def close(self) -> None:
        await self.sdk.close()


FAKES: dict[str, type[FakeServer]] = {
    "openai": openai_upstream.FakeOpenAI,
    "anthropic": anthropic_upstream.FakeAnthropic,
    "gemini": gemini_upstream.FakeGemini,
    "responses": responses_upstream.FakeResponses,
}
DRIVERS: dict[str, type[Driver]] = {
    "openai": OpenAIChat,
    "anthropic": Anthropic,
    "gemini": Gemini,
    "responses": Responses,
}


@pytest.fixture(params=DIALECTS)
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeServer]:
    async with FAKES[request.param]() as server:
        yield server


def dialect_of(fake: FakeServer) -> str:
    return next(name for name, kind in FAKES.items() if isinstance(fake, kind))


@pytest.fixture
async def agent(fake: FakeServer) -> AsyncIterator[Driver]:
    driver = DRIVERS[dialect_of(fake)](fake.base_url, "fake-agent")
    yield driver
    await driver.close()


@pytest.fixture
async def thinker(fake: FakeServer) -> AsyncIterator[Driver]:
    driver = DRIVERS[dialect_of(fake)](fake.base_url, "fake-agent-think")
    yield driver
    await driver.close()


# --------------------------------------------------------------------------- the tool loop


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_two_commands_then_done(fake: FakeServer, agent: Driver, stream: bool) -> None:
    dialect = dialect_of(fake)
    agent.user(SCRIPT)

    first = await agent.ask(stream=stream)
    assert first.text == ""
    assert first.finish == agent.tool_finish
    assert [(c.name, c.arguments) for c in first.calls] == [(SHELL[dialect], FIRST_ARGS[dialect])]
    agent.answer(first.calls[0], "one\n")

    second = await agent.ask(stream=stream)
    assert len(second.calls) == 1
    call = second.calls[0]
    key = "cmd" if dialect == "responses" else "command"
    assert (call.name, call.arguments[key]) == (SHELL[dialect], "echo two")
    ids = [first.calls[0].id, call.id]
    assert all(i.startswith(CALL_ID_PREFIX[dialect]) for i in ids)
    assert ids[0] != ids[1]
    agent.answer(call, "two")

    third = await agent.ask(stream=stream)
    assert (third.text, third.calls, third.finish) == ("DONE: one | two", [], agent.text_finish)
    assert third.output_tokens == 4  # words of the reply, as for Echo


async def test_call_ids_are_fresh_per_request(fake: FakeServer, agent: Driver) -> None:
    agent.user("RUN: true")
    first = await agent.ask(stream=False)
    # The same request again (the reply dropped from the history): another id.
    again = DRIVERS[dialect_of(fake)](fake.base_url, "fake-agent")
    again.user("RUN: true")
    second = await again.ask(stream=True)
    await again.close()
    assert first.calls[0].id != second.calls[0].id


async def test_results_before_the_prompt_do_not_count(agent: Driver) -> None:
    agent.user("RUN: echo old")
    old = await agent.ask(stream=False)
    agent.answer(old.calls[0], "old")
    assert (await agent.ask(stream=False)).text == "DONE: old"
    agent.user("Next task.\nRUN: echo new")  # a new scripted prompt starts over
    new = await agent.ask(stream=True)
    assert len(new.calls) == 1
    assert "echo new" in new.calls[0].arguments.values()


# --------------------------------------------------------------------------- text steps


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_say_behind_a_system_reminder(agent: Driver, stream: bool) -> None:
    agent.user(WRAPPER, "SAY: hello from the script")
    out = await agent.ask(stream=stream)
    assert (out.text, out.calls, out.finish) == ("hello from the script", [], agent.text_finish)
    assert out.output_tokens == 4


async def test_script_lines_inside_a_longer_text(agent: Driver) -> None:
    agent.user(f"{WRAPPER}\nThe user says:\n  SAY: first\nand then\nSAY: second\nThanks.")
    out = await agent.ask(stream=True)
    assert out.text == "first second"


async def test_no_script(agent: Driver) -> None:
    agent.user("just chatting")
    out = await agent.ask(stream=False)
    assert out.text.startswith("No script")
    assert out.calls == []


async def test_run_without_a_shell_tool(agent: Driver) -> None:
    agent.user("RUN: ls")
    out = await agent.ask(stream=False, tools=False)
    assert out.text == "No shell tool among the offered tools (none)."
    assert (out.calls, out.finish) == ([], agent.text_finish)


# --------------------------------------------------------------------------- reasoning


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
async def test_think_then_step(fake: FakeServer, thinker: Driver, stream: bool) -> None:
    dialect = dialect_of(fake)
    thinker.user(WRAPPER, "RUN: echo one")

    first = await thinker.ask(stream=stream)
    assert first.reasoning.startswith("Thinking about: ")
    assert "RUN: echo one" in first.reasoning
    assert first.finish == thinker.tool_finish
    assert [(c.name, c.arguments) for c in first.calls] == [(SHELL[dialect], FIRST_ARGS[dialect])]
    expected_signature = {
        "openai": None,
        "anthropic": anthropic_upstream.SIGNATURE,
        "gemini": gemini_upstream.THOUGHT_SIGNATURE,
        "responses": responses_upstream.REASONING_SIGNATURE,
    }[dialect]
    assert first.signature == expected_signature
    thinker.answer(first.calls[0], "one")

    second = await thinker.ask(stream=stream)
    assert second.reasoning.startswith("Thinking about: ")
    assert (second.text, second.calls, second.finish) == ("DONE: one", [], thinker.text_finish)


async def test_think_does_not_require_the_signature_back(fake: FakeServer) -> None:
    """Unlike fake-think-tools, a history without the reasoning is accepted."""
    dialect = dialect_of(fake)
    plain = DRIVERS[dialect](fake.base_url, "fake-agent")
    plain.user("RUN: echo one")
    first = await plain.ask(stream=False)  # no reasoning in the history it keeps
    plain.answer(first.calls[0], "one")
    plain.model = "fake-agent-think"
    out = await plain.ask(stream=True)
    await plain.close()
    assert out.reasoning.startswith("Thinking about: ")
    assert out.text == "DONE: one"


# --------------------------------------------------------------------------- real agent requests

AGENT_FIXTURES = {
    "claude-code": ("anthropic", "anthropic/claude_code_request.json", "Bash"),
    "codex": ("responses", "responses/codex_request.json", "exec_command"),
    "gemini-cli": ("gemini", "gemini/gemini_cli_request.json", "run_shell_command"),
    "opencode": ("openai", "openai/request_agent.json", "bash"),
}


def agent_request(agent: str, stream: bool) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The recorded request of a real CLI (many tools, long history), with a new scripted
    prompt at the end: path, body and headers for the matching fake."""
    dialect, fixture, _ = AGENT_FIXTURES[agent]
    body = json.loads((FIXTURES / fixture).read_text())
    prompt = "Please do this.\nRUN: echo fixture"
    if dialect == "anthropic":
        body["messages"].append(
            {
                "role": "user",
                "content": [{"type": "text", "text": WRAPPER}, {"type": "text", "text": prompt}],
            }
        )
        headers = {
            "x-api-key": anthropic_upstream.DEFAULT_API_KEY,
            "anthropic-version": "2023-06-01",
        }
        return "/v1/messages", {**body, "model": "fake-agent", "stream": stream}, headers
    if dialect == "gemini":
        body["contents"].append({"role": "user", "parts": [{"text": WRAPPER}, {"text": prompt}]})
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        headers = {"x-goog-api-key": gemini_upstream.DEFAULT_API_KEY}
        return f"/v1beta/models/fake-agent:{action}", body, headers
    if dialect == "responses":
        body["input"][-1]["content"] = [{"type": "input_text", "text": prompt}]
        headers = {"Authorization": f"Bearer {responses_upstream.DEFAULT_API_KEY}"}
        return "/v1/responses", {**body, "model": "fake-agent", "stream": stream}, headers
    body["messages"][-1]["content"] = prompt
    headers = {"Authorization": f"Bearer {openai_upstream.DEFAULT_API_KEY}"}
    body = {**body, "model": "fake-agent", "stream": stream}
    return "/v1/chat/completions", body, headers


def sse_data(raw: bytes) -> list[dict[str, Any]]:
    events = raw.replace(b"\r\n", b"\n").split(b"\n\n")
    return [
        json.loads(line[len(b"data: ") :])
        for event in events
        for line in event.split(b"\n")
        if line.startswith(b"data: ") and line != b"data: [DONE]"
    ]


def reassembled(dialect: str, raw: bytes) -> dict[str, Any]:
    """A streamed reply put back into its dialect's non-streaming shape (as far as
    ``shell_call_of`` needs it)."""
    events = sse_data(raw)
    if dialect == "anthropic":
        blocks: dict[int, dict[str, Any]] = {}
        for event in events:
            if event["type"] == "content_block_start":
                blocks[event["index"]] = {**event["content_block"], "partial": ""}
            elif event["type"] == "content_block_delta" and "partial_json" in event["delta"]:
                blocks[event["index"]]["partial"] += event["delta"]["partial_json"]
        for block in blocks.values():
            if block["type"] == "tool_use":
                block["input"] = json.loads(block["partial"])
        return {"content": list(blocks.values())}
    if dialect == "gemini":
        parts = [p for e in events for p in e["candidates"][0]["content"]["parts"]]
        return {"candidates": [{"content": {"parts": parts}}]}
    if dialect == "responses":
        (done,) = [e for e in events if e["type"] == "response.completed"]
        response: dict[str, Any] = done["response"]
        return response
    calls: dict[int, dict[str, Any]] = {}
    for event in events:
        for choice in event["choices"]:
            for piece in choice["delta"].get("tool_calls") or []:
                call = calls.setdefault(piece["index"], {"function": {"arguments": ""}})
                function = piece.get("function") or {}
                if "name" in function:
                    call["function"]["name"] = function["name"]
                call["function"]["arguments"] += function.get("arguments") or ""
    return {"choices": [{"message": {"tool_calls": list(calls.values())}}]}


def shell_call_of(dialect: str, reply: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if dialect == "anthropic":
        (block,) = [b for b in reply["content"] if b["type"] == "tool_use"]
        return block["name"], block["input"]
    if dialect == "gemini":
        (part,) = reply["candidates"][0]["content"]["parts"]
        return part["functionCall"]["name"], part["functionCall"]["args"]
    if dialect == "responses":
        (item,) = [i for i in reply["output"] if i["type"] == "function_call"]
        return item["name"], json.loads(item["arguments"])
    (call,) = reply["choices"][0]["message"]["tool_calls"]
    return call["function"]["name"], json.loads(call["function"]["arguments"])


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("agent", list(AGENT_FIXTURES))
async def test_real_agent_request(agent: str, stream: bool) -> None:
    dialect, _, shell = AGENT_FIXTURES[agent]
    path, body, headers = agent_request(agent, stream)
    async with FAKES[dialect]() as server, aiohttp.ClientSession() as http:
        root = f"http://{server.host}:{server.port}"
        async with http.post(root + path, json=body, headers=headers) as resp:
            raw = await resp.read()
            assert resp.status == 200, raw
    reply = reassembled(dialect, raw) if stream else json.loads(raw)
    name, arguments = shell_call_of(dialect, reply)
    assert name == shell
    assert "echo fixture" in arguments.values()


async def test_gemini_schema_type_names_are_lowered() -> None:
    """Gemini's ``parameters`` spell types ``STRING``: required strings still get a value."""
    declaration = {
        "name": "run_shell_command",
        "parameters": {
            "type": "OBJECT",
            "properties": {"command": {"type": "STRING"}, "description": {"type": "STRING"}},
            "required": ["command", "description"],
        },
    }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "RUN: echo one"}]}],
        "tools": [{"functionDeclarations": [declaration]}],
    }
    headers = {"x-goog-api-key": gemini_upstream.DEFAULT_API_KEY}
    async with gemini_upstream.FakeGemini() as server, aiohttp.ClientSession() as http:
        url = f"http://{server.host}:{server.port}/v1beta/models/fake-agent:generateContent"
        async with http.post(url, json=body, headers=headers) as resp:
            reply = await resp.json()
    name, arguments = shell_call_of("gemini", reply)
    assert (name, arguments) == (
        "run_shell_command",
        {"command": "echo one", "description": DESCRIPTION},
    )
    assert reply["candidates"][0]["finishReason"] == "STOP"
