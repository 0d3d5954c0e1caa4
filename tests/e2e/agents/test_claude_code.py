"""Claude Code (``@anthropic-ai/claude-code``) against the gateway, offline.

Claude Code speaks Anthropic Messages (streamed). It is pointed at the gateway with
``ANTHROPIC_BASE_URL`` and the client key in ``ANTHROPIC_API_KEY`` (sent as ``x-api-key``),
runs one-shot with ``claude -p``, and gets its Bash tool pre-approved with
``--allowedTools Bash`` (``--dangerously-skip-permissions`` is refused as root). Every model
alias Claude Code might use for side requests (haiku / sonnet / opus / sub-agents) is pointed
at the model under test, so whatever it sends is served by the same route — the log check
proves no request went to any other model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agents.conftest import PROVIDER, AgentWorld, CliRun, marker
from tests.support.gateway import CLIENT_KEY

DIALECTS = ("anthropic", "openai")
# (scenario, upstream dialect) -> why it cannot work; none so far.
UNSUPPORTED: dict[tuple[str, str], str] = {}
CUT_LIMIT_S = 30.0  # a cut stream must end the run well within this


def claude_env(world: AgentWorld, home: Path, model: str) -> dict[str, str]:
    return world.base_env(home) | {
        "ANTHROPIC_BASE_URL": world.endpoint,
        "ANTHROPIC_API_KEY": CLIENT_KEY,
        # The main model, and every alias Claude Code may use for side requests.
        "ANTHROPIC_MODEL": model,
        "ANTHROPIC_SMALL_FAST_MODEL": model,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": model,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": model,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": model,
        "CLAUDE_CODE_SUBAGENT_MODEL": model,
        # Offline: no telemetry, error reports, update checks or marketplace installs.
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
        # No retries of its own, and no silent non-streaming retry after a broken stream.
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK": "1",
    }


async def run_claude(
    world: AgentWorld,
    cli_paths: dict[str, Path],
    model: str,
    prompt: str,
    *args: str,
    settings: dict[str, Any] | None = None,
) -> tuple[CliRun, list[dict[str, Any]]]:
    """One ``claude -p`` run in a fresh HOME; its result and the request-log rows it made."""
    home = world.fresh_home()
    if settings is not None:
        (home / ".claude").mkdir()
        (home / ".claude/settings.json").write_text(json.dumps(settings))
    argv = [str(cli_paths["claude"]), "-p", prompt, "--model", model, *args]
    world.mark_log()
    run = await world.run(argv, claude_env(world, home, model), home / "work")
    return run, await world.new_log_rows()


def assert_served(rows: list[dict[str, Any]], upstream: str, model: str, run: CliRun) -> None:
    """Every request of the run went to ``model`` on ``upstream`` and was served cleanly."""
    assert rows, f"no request-log rows\n{run.describe()}"
    summary = [
        (r["requested_model"], r["upstream_model"], r["status"], r["tokens_in"], r["error"])
        for r in rows
    ]
    for row in rows:
        assert row["client_dialect"] == "anthropic", summary
        assert row["provider"] == PROVIDER[upstream], summary
        assert row["requested_model"] == model, summary
    # Claude Code opens each session with mid-conversation system messages; an upstream that
    # refuses them shows up here as a 400 row before Claude Code's own compatibility retry.
    assert all(r["status"] == 200 and not r["error"] for r in rows), summary
    assert all((r["tokens_in"] or 0) > 0 for r in rows), summary


def fake_bodies(world: AgentWorld, upstream: str) -> list[dict[str, Any]]:
    return [r.body for r in world.fakes[upstream].state.requests if isinstance(r.body, dict)]


def tool_results(body: dict[str, Any]) -> list[str]:
    """The tool-result texts in one upstream request (Anthropic or OpenAI Chat)."""

    def text(content: Any) -> str:
        if isinstance(content, str):
            return content
        return " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict))

    found: list[str] = []
    for message in body.get("messages", []):
        if message.get("role") == "tool":
            found.append(text(message.get("content")))
        elif isinstance(message.get("content"), list):
            for block in message["content"]:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    found.append(text(block.get("content")))
    return found


def check_unsupported(scenario: str, upstream: str) -> None:
    assert (scenario, upstream) not in UNSUPPORTED, UNSUPPORTED[(scenario, upstream)]


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_one_shot(agent_world: AgentWorld, cli_paths: dict[str, Path], upstream: str) -> None:
    check_unsupported("one-shot", upstream)
    said = marker("cc-say")
    model = agent_world.model(upstream, "fake-agent")
    run, rows = await run_claude(agent_world, cli_paths, model, f"SAY: {said}")
    assert run.code == 0, run.describe()
    assert run.stdout.strip() == said, run.describe()
    assert_served(rows, upstream, model, run)


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_tool_loop(
    agent_world: AgentWorld, cli_paths: dict[str, Path], upstream: str
) -> None:
    check_unsupported("tool-loop", upstream)
    echoed = marker("cc-run")
    model = agent_world.model(upstream, "fake-agent")
    run, rows = await run_claude(
        agent_world, cli_paths, model, f"RUN: echo {echoed}", "--allowedTools", "Bash"
    )
    assert run.code == 0, run.describe()
    assert run.stdout.strip() == f"DONE: {echoed}", run.describe()
    # The command's real output went back upstream as the Bash tool's result.
    assert [echoed] in [
        [t.strip() for t in tool_results(b)] for b in fake_bodies(agent_world, upstream)
    ], run.describe()
    assert len([r for r in rows if r["status"] == 200]) >= 2  # the call, then the answer
    assert_served(rows, upstream, model, run)


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_multi_step(
    agent_world: AgentWorld, cli_paths: dict[str, Path], upstream: str
) -> None:
    check_unsupported("multi-step", upstream)
    first, second = marker("cc-one"), marker("cc-two")
    model = agent_world.model(upstream, "fake-agent")
    prompt = f"RUN: echo {first}\nRUN: echo {second}"
    run, rows = await run_claude(agent_world, cli_paths, model, prompt, "--allowedTools", "Bash")
    assert run.code == 0, run.describe()
    assert run.stdout.strip() == f"DONE: {first} | {second}", run.describe()
    assert [first, second] in [
        [t.strip() for t in tool_results(b)] for b in fake_bodies(agent_world, upstream)
    ], run.describe()
    assert len([r for r in rows if r["status"] == 200]) >= 3  # two calls, then the answer
    assert_served(rows, upstream, model, run)


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_thinking(agent_world: AgentWorld, cli_paths: dict[str, Path], upstream: str) -> None:
    """Thinking switched on (settings ``alwaysThinkingEnabled`` + ``--effort high``); the
    upstream's reasoning reaches Claude Code as a ``thinking`` block, shown with
    ``--output-format stream-json --verbose``."""
    check_unsupported("thinking", upstream)
    said = marker("cc-think")
    model = agent_world.model(upstream, "fake-agent-think")
    run, rows = await run_claude(
        agent_world,
        cli_paths,
        model,
        f"SAY: {said}",
        "--effort",
        "high",
        "--output-format",
        "stream-json",
        "--verbose",
        settings={"alwaysThinkingEnabled": True},
    )
    assert run.code == 0, run.describe()
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    results = [e for e in events if e.get("type") == "result"]
    assert len(results) == 1, run.describe()
    assert results[0]["is_error"] is False, run.describe()
    assert results[0]["result"] == said, run.describe()
    blocks = [
        block for e in events if e.get("type") == "assistant" for block in e["message"]["content"]
    ]
    thinking = [b for b in blocks if b.get("type") == "thinking"]
    assert thinking, run.describe()
    assert thinking[0]["thinking"].startswith("Thinking about:"), thinking[0]
    if upstream == "anthropic":
        assert thinking[0]["signature"] == "sig-fake-1", thinking[0]
    assert [b["text"] for b in blocks if b.get("type") == "text"] == [said], blocks
    # The switch reached the upstream in its own dialect.
    sent = fake_bodies(agent_world, upstream)[-1]
    if upstream == "anthropic":
        assert sent["thinking"]["type"] in ("adaptive", "enabled"), sent["thinking"]
        assert sent["output_config"]["effort"] == "high", sent.get("output_config")
    else:
        assert sent["reasoning_effort"] == "high", {k: v for k, v in sent.items() if k != "tools"}
    assert_served(rows, upstream, model, run)


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_fallback_after_429(
    agent_world: AgentWorld, cli_paths: dict[str, Path], upstream: str
) -> None:
    check_unsupported("429-fallback", upstream)
    said = marker("cc-fallback")
    combo = f"fallback-{upstream}"
    run, rows = await run_claude(agent_world, cli_paths, combo, f"SAY: {said}")
    assert run.code == 0, run.describe()
    assert run.stdout.strip() == said, run.describe()
    asked = [b.get("model") for b in fake_bodies(agent_world, upstream)]
    assert "fake-error-429" in asked and asked[-1] == "fake-agent", asked
    served = [r for r in rows if r["upstream_model"] == "fake-agent" and r["status"] == 200]
    assert served, rows
    assert_served(rows, upstream, combo, run)


@pytest.mark.parametrize("upstream", DIALECTS)
async def test_cut_stream(
    agent_world: AgentWorld, cli_paths: dict[str, Path], upstream: str
) -> None:
    """The stream breaks after two words: Claude Code prints ``API Error: …`` (the gateway's
    in-stream error event) on stdout and exits 1, at once."""
    check_unsupported("cut-stream", upstream)
    model = agent_world.model(upstream, "fake-cut")
    run, rows = await run_claude(agent_world, cli_paths, model, f"SAY: {marker('cc-cut')}")
    assert run.code == 1, run.describe()
    assert run.seconds < CUT_LIMIT_S, run.describe()
    answer = run.stdout.strip()
    assert answer.startswith("API Error: "), run.describe()
    assert "stream was interrupted" in answer, run.describe()
    assert "incomplete response" in answer, run.describe()
    summary = [(r["upstream_model"], r["status"], r["error"]) for r in rows]
    for row in rows:
        assert row["client_dialect"] == "anthropic", summary
        assert row["provider"] == PROVIDER[upstream], summary
        assert row["requested_model"] == model, summary
    # One streamed request, its headers already sent (200), logged as interrupted.
    assert len(rows) == 1, summary
    assert rows[0]["status"] == 200 and rows[0]["stream"], summary
    assert str(rows[0]["error"]).startswith("stream interrupted"), summary
