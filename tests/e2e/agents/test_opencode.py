"""OpenCode (OpenAI Chat Completions, streamed) against the gateway, offline.

OpenCode reads ``$XDG_CONFIG_HOME/opencode/opencode.json``: a provider ``switchboard`` built
on ``@ai-sdk/openai-compatible`` (bundled in the OpenCode binary, nothing is installed) points
it at the gateway's ``/v1`` with the client key. A model id that contains ``/`` is picked as
``--model switchboard/openai/fake-agent`` (the first ``/`` splits provider from model).

Kept offline: ``npm_config_offline=true`` (at every start OpenCode npm-installs
``@opencode-ai/plugin`` into its config folder; offline that fails at once, harmlessly),
``OPENCODE_DISABLE_MODELS_FETCH`` (else it fetches models.opencode.ai/api.json), autoupdate
and sharing off. ``opencode run --title …`` skips the extra title-generation request.

``opencode run`` joins its message arguments with spaces but wraps any argument that
contains a space in double quotes, so the prompt is passed word by word (newlines may stay
inside a word). The answer is the only thing on stdout (plus ``Thinking: …`` lines with
``--thinking``); the banner, the commands the bash tool runs and errors go to stderr.

OpenCode retries a failed request or broken stream itself, 5 times with backoff (2, 4, 8, 16,
30 s); the count is a constant in this version, no setting turns it off, so the cut-stream
runs take about a minute.
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

DIALECTS = ["openai", "gemini"]
check_rows = partial(check_log_rows, "openai")
# (scenario, upstream dialect) -> why it cannot work. Every combination works today.
UNSUPPORTED: dict[tuple[str, str], str] = {}
PROVIDER_ID = "switchboard"
RUN_LIMIT_S = 60.0  # a normal run takes 2-4 s; a hang fails well before pytest's 120 s
CUT_LIMIT_S = 110.0  # 1 try + 5 retries with OpenCode's fixed backoff: about 62 s
SESSION_RETRIES = 5  # OpenCode's RETRY_MAX_RETRIES, not configurable
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def write_config(home: Path, endpoint: str, model: str, *, reasoning: bool) -> None:
    entry: dict[str, Any] = {"name": model}
    if reasoning:
        entry["reasoning"] = True  # enables the low/medium/high variants (reasoning_effort)
    config = {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
        "provider": {
            PROVIDER_ID: {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Switchboard",
                "options": {"baseURL": f"{endpoint}/v1", "apiKey": CLIENT_KEY},
                "models": {model: entry},
            }
        },
    }
    folder = home / ".config" / "opencode"
    folder.mkdir(parents=True)
    (folder / "opencode.json").write_text(json.dumps(config, indent=2))


async def run_opencode(
    world: AgentWorld,
    cli_paths: dict[str, Path],
    model: str,
    prompt: str,
    *,
    reasoning: bool = False,
    limit_s: float = RUN_LIMIT_S,
) -> CliRun:
    home = world.fresh_home()
    write_config(home, world.endpoint, model, reasoning=reasoning)
    env = world.base_env(home) | {
        "npm_config_offline": "true",
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_SHARE": "1",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        "OPENCODE_DISABLE_CLAUDE_CODE": "1",
        "OPENCODE_PURE": "1",
    }
    argv = [
        str(cli_paths["opencode"]),
        "run",
        "--title",
        "e2e",
        "--model",
        f"{PROVIDER_ID}/{model}",
    ]
    if reasoning:
        argv += ["--variant", "high", "--thinking"]
    argv += prompt.split(" ")
    return await world.run(argv, env, home / "work", limit_s=limit_s)


def stderr_lines(run: CliRun) -> list[str]:
    return ANSI.sub("", run.stderr).splitlines()


def check_commands_ran(run: CliRun, outputs: list[str]) -> None:
    """OpenCode's bash tool ran ``echo <output>`` locally: stderr shows each command as
    ``$ echo <output>`` followed by its output line, in order."""
    lines = stderr_lines(run)
    at = 0
    for output in outputs:
        command = f"$ echo {output}"
        assert command in lines[at:], run.describe()
        at = lines.index(command, at) + 1
        assert lines[at] == output, run.describe()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_one_shot(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    model = agent_world.model(dialect, "fake-agent")
    said = marker("opencode-say")
    agent_world.mark_log()
    run = await run_opencode(agent_world, cli_paths, model, f"SAY: {said}")
    assert run.code == 0, run.describe()
    assert run.stdout == f"{said}\n", run.describe()
    assert f"> build · {model}" in stderr_lines(run), run.describe()
    check_rows(await agent_world.new_log_rows(), dialect, model, count=1)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_tool_loop(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    model = agent_world.model(dialect, "fake-agent")
    echoed = marker("opencode-run")
    agent_world.mark_log()
    run = await run_opencode(agent_world, cli_paths, model, f"RUN: echo {echoed}")
    assert run.code == 0, run.describe()
    check_commands_ran(run, [echoed])
    assert run.stdout == f"DONE: {echoed}\n", run.describe()
    # One request that asked for the call, one that carried the result.
    check_rows(await agent_world.new_log_rows(), dialect, model, count=2)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_multi_step(
    agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str
) -> None:
    model = agent_world.model(dialect, "fake-agent")
    first, second = marker("opencode-one"), marker("opencode-two")
    agent_world.mark_log()
    run = await run_opencode(
        agent_world, cli_paths, model, f"RUN: echo {first}\nRUN: echo {second}"
    )
    assert run.code == 0, run.describe()
    check_commands_ran(run, [first, second])
    assert run.stdout == f"DONE: {first} | {second}\n", run.describe()
    check_rows(await agent_world.new_log_rows(), dialect, model, count=3)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_reasoning(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    model = agent_world.model(dialect, "fake-agent-think")
    said = marker("opencode-think")
    agent_world.mark_log()
    run = await run_opencode(agent_world, cli_paths, model, f"SAY: {said}", reasoning=True)
    assert run.code == 0, run.describe()
    # --thinking prints the streamed reasoning_content before the answer.
    assert run.stdout == f"Thinking: Thinking about: SAY: {said}\n{said}\n", run.describe()
    # --variant high became reasoning_effort, which the gateway turned into the upstream's
    # own switch.
    (request,) = agent_world.fakes[dialect].state.requests
    if dialect == "openai":
        assert request.body["reasoning_effort"] == "high", request.body
    else:
        thinking = request.body["generationConfig"]["thinkingConfig"]
        assert thinking["includeThoughts"] is True, request.body
    rows = await agent_world.new_log_rows()
    check_rows(rows, dialect, model, count=1)
    # Output tokens include the reasoning words, more than the one-word answer.
    assert rows[0]["tokens_out"] > 1, rows


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_429_fallback(
    agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str
) -> None:
    combo = f"fallback-{dialect}"
    said = marker("opencode-fallback")
    agent_world.mark_log()
    run = await run_opencode(agent_world, cli_paths, combo, f"SAY: {said}")
    assert run.code == 0, run.describe()
    assert run.stdout == f"{said}\n", run.describe()
    assert "Error" not in run.stderr, run.describe()
    # The first target answered 429, the second served the turn; OpenCode saw one answer.
    assert agent_world.upstream_models(dialect) == ["fake-error-429", "fake-agent"]
    rows = await agent_world.new_log_rows()
    check_rows(rows, dialect, combo)
    assert any(r["status"] == 200 and r["upstream_model"] == "fake-agent" for r in rows), rows


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_cut_stream(
    agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str
) -> None:
    model = agent_world.model(dialect, "fake-cut")
    agent_world.mark_log()
    run = await run_opencode(
        agent_world, cli_paths, model, f"SAY: {marker('opencode-cut')}", limit_s=CUT_LIMIT_S
    )
    # The gateway ends the broken stream with an OpenAI error event (type server_error);
    # OpenCode retries it 5 times, then prints the error body and exits 1.
    assert run.code == 1, run.describe()
    assert run.stdout == "", run.describe()
    error = next((line for line in stderr_lines(run) if line.startswith("Error: ")), None)
    assert error is not None, run.describe()
    body = json.loads(error.removeprefix("Error: "))
    assert body["code"] == "upstream_stream_interrupted", body
    assert body["type"] == "server_error", body
    assert agent_world.upstream_models(dialect) == ["fake-cut"] * (1 + SESSION_RETRIES)
    rows = await agent_world.new_log_rows()
    assert len(rows) == 1 + SESSION_RETRIES, rows
    for row in rows:
        assert row["client_dialect"] == "openai", row
        assert row["provider"] == PROVIDER[dialect], row
        assert row["requested_model"] == model, row
        assert row["status"] == 200, row  # the stream had started
        assert row["error"] == "stream interrupted: upstream sent an incomplete response", row
