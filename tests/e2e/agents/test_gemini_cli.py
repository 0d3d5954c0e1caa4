"""Gemini CLI (``@google/gemini-cli``) against the gateway, with OpenAI and Gemini upstreams.

Gemini CLI speaks the Gemini dialect: ``POST /v1beta/models/<model>:streamGenerateContent
?alt=sse`` with the key in ``x-goog-api-key`` — one request per model turn, nothing else
(no countTokens, no model list, no other host: checked with strace). It is pointed at the
gateway with ``GOOGLE_GEMINI_BASE_URL`` + ``GEMINI_API_KEY`` and a settings file that picks
API-key auth and turns telemetry, usage statistics and update checks off.

``general.maxAttempts = 1`` turns off both of its retry loops (the request retry with
backoff, and the "mid-stream" retry that re-sends the whole turn after an invalid or cut
stream: by default 4 attempts, 1 + 2 + 4 s apart). A model name it does not know (every
``alias/model`` of the gateway) gets a single-model availability chain, so it never falls
back to another model.
"""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agents.conftest import PROVIDER, AgentWorld, CliRun, check_log_rows, marker
from tests.support.gateway import CLIENT_KEY

DIALECTS = ("gemini", "openai")
check_rows = partial(check_log_rows, "gemini")
# (scenario, upstream dialect) → why that combination cannot work. Nothing so far.
UNSUPPORTED: dict[tuple[str, str], str] = {}
THINKING = {"includeThoughts": True, "thinkingLevel": "HIGH"}
# What a fast end looks like: the CLI's startup alone takes about a second.
CUT_LIMIT_S = 20.0


def settings(model: str, *, thinking: bool) -> dict[str, Any]:
    """``~/.gemini/settings.json``; with ``thinking``, a thinking level set for ``model``."""
    config: dict[str, Any] = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "general": {
            "enableAutoUpdate": False,
            "enableAutoUpdateNotification": False,
            "maxAttempts": 1,
            "retryFetchErrors": False,
        },
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "ide": {"enabled": False},
    }
    if thinking:
        # The CLI's documented way to set generation parameters for one model.
        config["modelConfigs"] = {
            "overrides": [
                {
                    "match": {"model": model},
                    "modelConfig": {"generateContentConfig": {"thinkingConfig": THINKING}},
                }
            ]
        }
    return config


async def run_gemini(
    world: AgentWorld,
    gemini: Path,
    model: str,
    prompt: str,
    *,
    tools: bool = False,
    thinking: bool = False,
) -> CliRun:
    home = world.fresh_home()
    (home / ".gemini").mkdir()
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings(model, thinking=thinking)))
    (home / "tmp").mkdir()
    env = world.base_env(home) | {
        "GOOGLE_GEMINI_BASE_URL": world.endpoint,
        "GEMINI_API_KEY": CLIENT_KEY,
        "GEMINI_CLI_TRUST_WORKSPACE": "true",  # headless: no folder-trust prompt
        "GEMINI_TELEMETRY_ENABLED": "false",
        "TMPDIR": str(home / "tmp"),  # its crash reports land in os.tmpdir()
    }
    argv = [str(gemini), "-p", prompt, "-m", model]
    if tools:
        argv += ["--approval-mode", "yolo"]  # run_shell_command is only offered in yolo mode
    return await world.run(argv, env, home / "work")


def tool_outputs(answer: str) -> list[str]:
    """The command outputs in the scripted ``DONE: <result 1> | <result 2>`` answer.

    Gemini CLI returns a shell result as ``{"output": "<untrusted_context>\\nOutput: <text>
    \\nProcess Group PGID: <n>\\n</untrusted_context>"}``; the Gemini fake echoes the
    ``output`` string, the gateway hands the OpenAI upstream the whole object as JSON (so
    the newlines arrive escaped). A bare result (no envelope) is taken as it is.
    """
    assert answer.startswith("DONE: "), answer
    body = answer.removeprefix("DONE: ")
    wrapped = re.findall(r"Output: (.*?)(?:\\n|\n)", body)
    return wrapped or [part.strip() for part in body.split(" | ")]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_one_shot(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    model, said = agent_world.model(dialect, "fake-agent"), marker("gem-say")
    agent_world.mark_log()
    run = await run_gemini(agent_world, cli_paths["gemini"], model, f"SAY: {said}")
    assert run.code == 0, run.describe()
    assert run.stdout == f"{said}\n", run.describe()
    check_rows(
        await agent_world.new_log_rows(),
        dialect,
        count=1,
        model=model,
        upstream_model="fake-agent",
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_tool_loop(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    model, echoed = agent_world.model(dialect, "fake-agent"), marker("gem-run")
    agent_world.mark_log()
    run = await run_gemini(
        agent_world, cli_paths["gemini"], model, f"RUN: echo {echoed}", tools=True
    )
    assert run.code == 0, run.describe()
    answer = run.stdout.strip()
    assert tool_outputs(answer) == [echoed], run.describe()
    check_rows(
        await agent_world.new_log_rows(),
        dialect,
        count=2,  # the call, then the answer after the tool result
        model=model,
        upstream_model="fake-agent",
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_multi_step(
    agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str
) -> None:
    model = agent_world.model(dialect, "fake-agent")
    first, second = marker("gem-one"), marker("gem-two")
    agent_world.mark_log()
    run = await run_gemini(
        agent_world,
        cli_paths["gemini"],
        model,
        f"RUN: echo {first}\nRUN: echo {second}",
        tools=True,
    )
    assert run.code == 0, run.describe()
    assert tool_outputs(run.stdout.strip()) == [first, second], run.describe()
    check_rows(
        await agent_world.new_log_rows(),
        dialect,
        count=3,
        model=model,
        upstream_model="fake-agent",
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_thinking(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    """Thinking on through the model config (``thinkingConfig`` on the request); the
    reasoning never reaches the printed answer (headless mode does not print thoughts)."""
    model, said = agent_world.model(dialect, "fake-agent-think"), marker("gem-think")
    fake = agent_world.fakes[dialect]
    fake.state.requests.clear()
    agent_world.mark_log()
    run = await run_gemini(agent_world, cli_paths["gemini"], model, f"SAY: {said}", thinking=True)
    assert run.code == 0, run.describe()
    assert run.stdout == f"{said}\n", run.describe()
    assert "Thinking about" not in run.stdout + run.stderr, run.describe()
    [request] = fake.state.requests
    if dialect == "gemini":  # same dialect: forwarded as sent
        assert request.body["generationConfig"]["thinkingConfig"] == THINKING, request.body
    else:  # thinkingLevel HIGH → reasoning_effort high
        assert request.body["reasoning_effort"] == "high", request.body
    rows = await agent_world.new_log_rows()
    check_rows(rows, dialect, count=1, model=model, upstream_model="fake-agent-think")
    assert (rows[0]["tokens_out"] or 0) > 1, rows  # the reasoning words count as output


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_combo_fallback_on_429(
    agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str
) -> None:
    combo, said = f"fallback-{dialect}", marker("gem-combo")
    fake = agent_world.fakes[dialect]
    fake.state.requests.clear()
    agent_world.mark_log()
    run = await run_gemini(agent_world, cli_paths["gemini"], combo, f"SAY: {said}")
    assert run.code == 0, run.describe()
    assert run.stdout == f"{said}\n", run.describe()
    assert run.stderr.count("429") == 0, run.describe()
    tried = agent_world.upstream_models(dialect)
    assert tried == ["fake-error-429", "fake-agent"], tried
    check_rows(
        await agent_world.new_log_rows(),
        dialect,
        count=1,
        model=combo,
        upstream_model="fake-agent",
    )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_cut_stream(
    agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str
) -> None:
    """An upstream that drops the connection after two words.

    The gateway ends the Gemini stream with ``data: {"error": {"code": 503, ...}}``. The
    SDK inside Gemini CLI (@google/genai 1.30) only recognises an error when a network read
    is a bare JSON object, so it takes that event for an empty chunk: the stream "ended
    without a finish reason", which Gemini CLI reports as ``[ERROR] ...`` on stderr — and
    then exits 0 (its choice for invalid streams). Were the error recognised, it would exit
    1 with "Error when talking to Gemini API ... 503". Either way exactly one request (no
    retries) and a quick end.
    """
    model = agent_world.model(dialect, "fake-cut")
    agent_world.mark_log()
    run = await run_gemini(agent_world, cli_paths["gemini"], model, "SAY: never finished")
    assert run.seconds < CUT_LIMIT_S, run.describe()
    invalid_stream = run.code == 0 and (
        "[ERROR] Model stream ended without a finish reason." in run.stderr
    )
    api_error = run.code == 1 and "503" in run.stderr and "Error when talking" in run.stderr
    assert invalid_stream or api_error, run.describe()
    assert "never finished" not in run.stdout, run.describe()  # only the first words came
    rows = await agent_world.new_log_rows()
    assert len(rows) == 1, rows  # no retry by the CLI
    [row] = rows
    assert row["client_dialect"] == "gemini", row
    assert row["provider"] == PROVIDER[dialect], row
    assert row["upstream_model"] == "fake-cut", row
    assert row["status"] == 200, row  # the headers had gone out
    assert "stream interrupted" in (row["error"] or ""), row
