"""Codex CLI (OpenAI Responses, streamed) against the gateway, offline.

Codex reads ``$CODEX_HOME/config.toml``: a custom model provider ``sb`` points it at the
gateway's ``/v1`` with the client key from ``$SB_KEY``. Retries are off, analytics and
plugins are off (otherwise it looks up ab.chatgpt.com and contacts github.com/chatgpt.com),
and ``codex exec`` runs the turn non-interactively; its final answer is the only thing it
prints on stdout, everything else (banner, reasoning, commands run, errors) goes to stderr.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.agents.conftest import PROVIDER, AgentWorld, CliRun, check_log_rows, marker
from tests.support.gateway import CLIENT_KEY

DIALECTS = ["responses", "anthropic"]
check_rows = partial(check_log_rows, "responses")
# (scenario, upstream dialect) -> why it cannot work. Every combination works today.
UNSUPPORTED: dict[tuple[str, str], str] = {}
RUN_LIMIT_S = 60.0  # every run here takes about a second; a hang fails well before pytest's 120 s

CONFIG = """\
model = "{model}"
model_provider = "sb"
check_for_update_on_startup = false
{reasoning}
[model_providers.sb]
name = "Switchboard"
base_url = "{endpoint}/v1"
wire_api = "responses"
env_key = "SB_KEY"
request_max_retries = 0
stream_max_retries = 0

[features]
plugins = false

[analytics]
enabled = false

[feedback]
enabled = false
"""
REASONING = 'model_reasoning_effort = "low"\nmodel_reasoning_summary = "auto"\n'

# The result Codex's exec_command tool sends back to the model wraps the command's output:
#   Chunk ID: 50219f / Wall time: 0.0000 seconds / Process exited with code 0 /
#   Original token count: 2 / Output: / <output>
EXEC_RESULT_HEADER = re.compile(
    r"Chunk ID: \S+\nWall time: [\d.]+ seconds\nProcess exited with code (-?\d+)\n"
    r"(?:Original token count: \d+\n)?Output:\n"
)


async def run_codex(
    world: AgentWorld,
    cli_paths: dict[str, Path],
    model: str,
    prompt: str,
    *,
    reasoning: bool = False,
) -> CliRun:
    home = world.fresh_home()
    codex_home = home / ".codex"
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(
        CONFIG.format(
            model=model, endpoint=world.endpoint, reasoning=REASONING if reasoning else ""
        )
    )
    env = world.base_env(home) | {"CODEX_HOME": str(codex_home), "SB_KEY": CLIENT_KEY}
    argv = [
        str(cli_paths["codex"]),
        "exec",
        "--sandbox",
        "workspace-write",
        "--skip-git-repo-check",
        "--color",
        "never",
        prompt,
    ]
    return await world.run(argv, env, home / "work", limit_s=RUN_LIMIT_S)


def tool_answer(run: CliRun, commands: int) -> str:
    """The final answer with Codex's exec_command result headers taken out (each command
    must have exited with 0)."""
    answer = run.stdout.rstrip("\n")
    codes = EXEC_RESULT_HEADER.findall(answer)
    assert codes == ["0"] * commands, run.describe()
    return EXEC_RESULT_HEADER.sub("", answer)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_one_shot(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    model = agent_world.model(dialect, "fake-agent")
    said = marker("codex-say")
    agent_world.mark_log()
    run = await run_codex(agent_world, cli_paths, model, f"SAY: {said}")
    assert run.code == 0, run.describe()
    assert run.stdout == f"{said}\n", run.describe()
    check_rows(await agent_world.new_log_rows(), dialect, model, count=1)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_tool_loop(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    model = agent_world.model(dialect, "fake-agent")
    echoed = marker("codex-run")
    agent_world.mark_log()
    run = await run_codex(agent_world, cli_paths, model, f"RUN: echo {echoed}")
    assert run.code == 0, run.describe()
    # Codex ran the command itself (stderr lists it) and its output came back.
    assert f"echo {echoed}" in run.stderr and "succeeded in" in run.stderr, run.describe()
    assert tool_answer(run, 1) == f"DONE: {echoed}", run.describe()
    # One request that asked for the call, one that carried the result.
    check_rows(await agent_world.new_log_rows(), dialect, model, count=2)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_multi_step(
    agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str
) -> None:
    model = agent_world.model(dialect, "fake-agent")
    first, second = marker("codex-one"), marker("codex-two")
    agent_world.mark_log()
    run = await run_codex(agent_world, cli_paths, model, f"RUN: echo {first}\nRUN: echo {second}")
    assert run.code == 0, run.describe()
    stderr = run.stderr
    assert stderr.index(f"echo {first}") < stderr.index(f"echo {second}"), run.describe()
    assert tool_answer(run, 2) == f"DONE: {first} | {second}", run.describe()
    check_rows(await agent_world.new_log_rows(), dialect, model, count=3)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_reasoning(agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str) -> None:
    model = agent_world.model(dialect, "fake-agent-think")
    said = marker("codex-think")
    agent_world.mark_log()
    run = await run_codex(agent_world, cli_paths, model, f"SAY: {said}", reasoning=True)
    assert run.code == 0, run.describe()
    assert run.stdout == f"{said}\n", run.describe()
    assert "reasoning effort: low" in run.stderr, run.describe()
    # The upstream was asked to think, and its reasoning reached Codex (shown on stderr).
    (request,) = agent_world.fakes[dialect].state.requests
    if dialect == "responses":
        assert request.body["reasoning"]["effort"] == "low", request.body
    else:
        assert request.body["thinking"]["type"] == "enabled", request.body
    assert "Thinking about:" in run.stderr, run.describe()
    rows = await agent_world.new_log_rows()
    check_rows(rows, dialect, model, count=1)
    # Output tokens include the reasoning words, more than the one-word answer.
    assert rows[0]["tokens_out"] > 1, rows


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_429_fallback(
    agent_world: AgentWorld, cli_paths: dict[str, Path], dialect: str
) -> None:
    combo = f"fallback-{dialect}"
    said = marker("codex-fallback")
    agent_world.mark_log()
    run = await run_codex(agent_world, cli_paths, combo, f"SAY: {said}")
    assert run.code == 0, run.describe()
    assert run.stdout == f"{said}\n", run.describe()
    assert "ERROR" not in run.stderr, run.describe()
    assert "too many requests" not in run.stderr.lower(), run.describe()
    # The first target answered 429, the second served the turn.
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
    run = await run_codex(agent_world, cli_paths, model, f"SAY: {marker('codex-cut')}")
    # Codex reports the broken stream and exits 1 at once (retries are off), no answer.
    assert run.code == 1, run.describe()
    assert run.seconds < 20, run.describe()
    assert run.stdout == "", run.describe()
    assert "ERROR: stream disconnected before completion" in run.stderr, run.describe()
    assert agent_world.upstream_models(dialect) == ["fake-cut"]
    (row,) = await agent_world.new_log_rows()
    assert row["client_dialect"] == "responses", row
    assert row["provider"] == PROVIDER[dialect], row
    assert row["requested_model"] == model, row
    assert row["status"] == 200, row  # the stream had started
    assert row["error"] == "stream interrupted: upstream sent an incomplete response", row
