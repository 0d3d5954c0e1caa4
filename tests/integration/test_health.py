"""The routing health view end to end: a real gateway and real upstreams fail in known ways,
then ``switchboard health`` and ``switchboard health reset`` run as real child processes
against it, through the loopback admin routes and the runtime file."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.routing.health import UnknownTarget
from gateway.run_file import ADMIN_HEADER, HEALTH_PATH, RESET_PATH, RunInfo, write_run_file
from gateway.service import GatewayService
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, import_toml, log_rows, start_service, wait_for
from tests.support.processes import (
    CliRun,
    ServeProcess,
    child_env,
    folder_files,
    run_cli_async,
)

pytestmark = pytest.mark.timeout(90)
NOT_RUNNING = "switchboard: the gateway is not running (start it with `switchboard serve`)\n"
# Five different models, so no cooldown skips the next one: five counted failures open the
# connection's breaker (threshold 5); the provider's (threshold 8) only counts them.
COUNTED = ("fake-error-500", "fake-error-502", "fake-error-503", "fake-error-504", "fake-empty")
EMPTY_200 = "empty_response: HTTP 200 with an empty body"
QUOTA_TEXT = "You exceeded your current quota, please check your plan and billing details."


class Between:
    """Equal to any number in [low, high]: for times that depend on how long a step took."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def __eq__(self, other: object) -> bool:
        return isinstance(other, int | float) and self.low <= other <= self.high

    def __repr__(self) -> str:
        return f"Between({self.low}, {self.high})"


class LimitsUpstream:
    """An OpenAI-style upstream whose limits last minutes (the fakes' last one second, too
    short to read from another process): ``rate-limited`` is a 429 for 600 s,
    ``no-credits`` OpenAI's insufficient_quota for 300 s; anything else echoes."""

    def __init__(self) -> None:
        self.models: list[str] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def _chat(self, request: web.Request) -> web.Response:
        model = (await request.json())["model"]
        self.models.append(model)
        if model == "rate-limited":
            error = {"message": "Rate limit reached for requests", "type": "requests"}
            return web.json_response(
                {"error": {**error, "code": "rate_limit_exceeded"}},
                status=429,
                headers={"retry-after": "600"},
            )
        if model == "no-credits":
            error = {"message": QUOTA_TEXT, "type": "insufficient_quota"}
            return web.json_response(
                {"error": {**error, "code": "insufficient_quota"}},
                status=429,
                headers={"retry-after": "300"},
            )
        message = {"role": "assistant", "content": "ok"}
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    async def __aenter__(self) -> LimitsUpstream:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class Scene:
    service: GatewayService
    data_dir: Path
    env: dict[str, str]
    log_dir: Path
    limits: LimitsUpstream

    async def cli(self, *args: str) -> CliRun:
        return await run_cli_async(
            [*args, "--data-dir", str(self.data_dir)], env=self.env, log_dir=self.log_dir
        )

    async def health_json(self) -> dict[str, Any]:
        run = await self.cli("health", "--json")
        assert (run.returncode, run.stderr) == (0, ""), run.describe()
        report: dict[str, Any] = json.loads(run.stdout)
        return report

    async def ask(self, model: str) -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.service.endpoint}/v1/chat/completions",
                headers={"x-api-key": CLIENT_KEY},
                json={"model": model, "messages": [{"role": "user", "content": "hello"}]},
            ) as response,
        ):
            await response.read()
            return response.status

    def connection_id(self, name: str) -> str:
        return next(
            u.connection_id for u in self.service.snapshot.upstreams if u.connection == name
        )


def connection(name: str, provider: str, base_url: str, key: str, extra: str = "") -> str:
    return (
        f'\n[[connections]]\nname = "{name}"\nprovider = "{provider}"\n{extra}'
        f'api_key = "{key}"\nbase_url = "{base_url}"\n'
    )


@pytest.fixture
async def scene(data_dir: Path, isolated_home: Path, tmp_path: Path) -> AsyncIterator[Scene]:
    """Gateway with three connections: ``a`` (OpenAI) with its breaker open after five
    counted failures; ``lim`` (custom) cooling down whole and for one model; ``c``
    (Anthropic) healthy."""
    async with (
        FakeOpenAI(api_key="sk-a") as openai,
        FakeAnthropic() as anthropic,
        LimitsUpstream() as limits,
    ):
        import_toml(
            data_dir,
            f'[[api_keys]]\nname = "t"\nkey = "{CLIENT_KEY}"\n'
            + connection("a", "openai", openai.base_url, "sk-a")
            + connection("c", "anthropic", anthropic.base_url, anthropic.state.api_key)
            + connection(
                "lim", "custom", limits.base_url, "k", 'dialect = "openai"\nalias = "lim"\n'
            ),
        )
        service = await start_service(data_dir)
        log_dir = tmp_path / "child-output"
        scene = Scene(service, data_dir, child_env(isolated_home), log_dir, limits)
        try:
            assert await scene.ask("openai/gpt-x") == 200
            statuses = [await scene.ask(f"openai/{model}") for model in COUNTED]
            assert statuses == [500, 502, 503, 504, 502]  # an empty 200 is a bad gateway
            assert await scene.ask("anthropic/claude-x") == 200
            assert await scene.ask("lim/rate-limited") == 429
            assert await scene.ask("lim/no-credits") == 429
            # a's one-second model cooldowns end; its 30-second breaker stays open.
            await wait_for(lambda: not service.health().providers[2].connections[0].model_cooldowns)
            yield scene
        finally:
            await service.stop()


def closed_breaker(failures: int = 0, last_error: str | None = None) -> dict[str, Any]:
    return {
        "state": "closed",
        "failures": failures,
        "open_until": None,
        "seconds_left": None,
        "last_error": last_error,
    }


async def test_health_json_shows_breakers_cooldowns_and_statistics(scene: Scene) -> None:
    started = time.time()
    report = await scene.health_json()
    at = report["at"]
    assert at == Between(started, time.time())
    assert [p["provider"] for p in report["providers"]] == [
        "anthropic",
        "custom-openai:lim",
        "openai",
    ]
    anthropic, custom, openai = report["providers"]

    assert anthropic["breaker"] == closed_breaker()
    [c] = anthropic["connections"]
    assert c == {
        "connection": "c",
        "connection_id": scene.connection_id("c"),
        "provider": "anthropic",
        "problem": None,
        "breaker": closed_breaker(),
        "cooldown": None,
        "model_cooldowns": [],
        "last_error": None,
        "success_rate": 1.0,
        "requests": 1,
        "in_flight": 0,
        "latency_ms": dict.fromkeys(("p50", "p95", "p99"), Between(0.0, 10_000.0)),
    }
    assert len(set(c["latency_ms"].values())) == 1  # one success: all three are it

    assert (custom["name"], custom["breaker"]) == ("Custom (OpenAI-compatible)", closed_breaker())
    [lim] = custom["connections"]
    credits_error = f"credits_exhausted: {QUOTA_TEXT}"
    assert lim == {
        "connection": "lim",
        "connection_id": scene.connection_id("lim"),
        "provider": "custom-openai:lim",
        "problem": None,
        "breaker": closed_breaker(),  # rate limits and credits are not outages
        "cooldown": {
            "model": None,  # credits are gone for the whole account
            "until": Between(at + 290, at + 300),
            "seconds_left": Between(290, 300),
            "reason": "credits_exhausted",
            "level": 1,
        },
        "model_cooldowns": [
            {
                "model": "rate-limited",
                "until": Between(at + 590, at + 600),
                "seconds_left": Between(590, 600),
                "reason": "rate_limited",
                "level": 1,
            }
        ],
        "last_error": {
            "text": credits_error,
            "at": Between(at - 30, at),
            "seconds_ago": Between(0, 30),
        },
        "success_rate": Between(0.5, 0.6),  # (0 + prior 2) / (2 + 2), rising as it decays
        "requests": 2,
        "in_flight": 0,
        "latency_ms": None,
    }
    assert lim["cooldown"]["until"] == pytest.approx(at + lim["cooldown"]["seconds_left"])

    assert openai["breaker"] == closed_breaker(5, EMPTY_200)  # 5 of its 8
    [a] = openai["connections"]
    assert a["breaker"] == {
        "state": "open",
        "failures": 5,
        "open_until": Between(at + 20, at + 30),
        "seconds_left": Between(20, 30),
        "last_error": EMPTY_200,
    }
    assert a["breaker"]["open_until"] == pytest.approx(at + a["breaker"]["seconds_left"])
    assert (a["cooldown"], a["model_cooldowns"]) == (None, [])
    assert a["last_error"]["text"] == EMPTY_200
    assert (a["requests"], a["in_flight"]) == (6, 0)
    assert a["success_rate"] == Between(0.375, 0.45)  # (1 + 2) / (6 + 2), rising as it decays
    assert a["latency_ms"]["p50"] == a["latency_ms"]["p99"]  # one success

    # The facade reports the same thing in-process.
    here = scene.service.health().to_dict()
    assert [[c["connection"] for c in p["connections"]] for p in here["providers"]] == [
        ["c"],
        ["lim"],
        ["a"],
    ]
    assert here["providers"][2]["connections"][0]["breaker"]["state"] == "open"


async def test_health_table_is_one_readable_line_per_connection(scene: Scene) -> None:
    run = await scene.cli("health")
    assert (run.returncode, run.stderr) == (0, ""), run.describe()
    lines = run.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "PROVIDER",
        "CONNECTION",
        "BREAKER",
        "COOLING DOWN",
        "SUCCESS",
        "REQUESTS",
        "P50/P95/P99 MS",
        "LAST ERROR",
    ]
    rows = {re.split(r"\s{2,}", line)[1]: re.split(r"\s{2,}", line) for line in lines[1:]}
    assert sorted(rows) == ["a", "c", "lim"]
    assert rows["c"][0] == "anthropic" and rows["c"][2:6] == ["closed", "-", "100%", "1"]
    assert re.fullmatch(r"(\d+(\.\d)?)/\1/\1", rows["c"][6]) and rows["c"][7] == "-"
    assert rows["a"][0] == "openai"
    assert re.fullmatch(r"open, (2\d|30) s", rows["a"][2])
    assert (rows["a"][3], rows["a"][5]) == ("-", "6")
    assert re.fullmatch(r"(3[89]|4[0-5])%", rows["a"][4])
    assert re.fullmatch(re.escape(EMPTY_200) + r" \(\d+ s ago\)", rows["a"][7])
    assert rows["lim"][:3] == ["custom-openai:lim", "lim", "closed"]
    assert re.fullmatch(
        r"all models until \d\d:\d\d:\d\d \(5 min\); "
        r"rate-limited until \d\d:\d\d:\d\d \(10 min\)",
        rows["lim"][3],
    )
    # Long upstream errors are cut to one short cell.
    assert rows["lim"][7].startswith("credits_exhausted: You exceeded your current quota")
    assert re.fullmatch(r".{59}… \(\d+ s ago\)", rows["lim"][7])


async def test_reset_by_connection_provider_and_everything(scene: Scene) -> None:
    assert await scene.ask("openai/gpt-x") == 503  # a's breaker is open: skipped

    run = await scene.cli("health", "reset", "--connection", "a")
    assert (run.returncode, run.stderr) == (0, ""), run.describe()
    assert run.stdout == "Reset the routing health of connection 'a': 1 breaker/cooldown entry.\n"
    openai = (await scene.health_json())["providers"][2]
    assert openai["connections"][0]["breaker"] == closed_breaker()
    assert openai["connections"][0]["last_error"] is None
    assert openai["connections"][0]["requests"] == 6  # statistics kept without --stats
    assert openai["breaker"] == closed_breaker(5, EMPTY_200)  # shared: not a's to reset
    assert await scene.ask("openai/gpt-x") == 200

    asked = len(scene.limits.models)
    run = await scene.cli("health", "reset", "--provider", "custom-openai:lim", "--stats")
    assert run.stdout == (
        "Reset the routing health of provider 'custom-openai:lim' and its connections: "
        "2 breaker/cooldown entries, statistics too.\n"
    )
    lim = (await scene.health_json())["providers"][1]["connections"][0]
    assert (lim["cooldown"], lim["model_cooldowns"], lim["last_error"]) == (None, [], None)
    assert (lim["requests"], lim["success_rate"]) == (0, 1.0)
    assert await scene.ask("lim/echo") == 200  # no longer cooling down: it is asked again
    assert scene.limits.models[asked:] == ["echo"]

    assert await scene.ask("lim/rate-limited") == 429
    run = await scene.cli("health", "reset")
    assert run.stdout == (
        "Reset the routing health of every provider and connection: 1 breaker/cooldown entry.\n"
    )
    providers = (await scene.health_json())["providers"]
    assert all(
        (c["breaker"], c["cooldown"], c["model_cooldowns"], c["last_error"])
        == (closed_breaker(), None, [], None)
        for p in providers
        for c in p["connections"]
    )
    assert all(p["breaker"] == closed_breaker() for p in providers)


async def test_reset_of_an_unknown_name_fails_with_the_reason(scene: Scene) -> None:
    run = await scene.cli("health", "reset", "--connection", "nope")
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == (
        "switchboard: the gateway refused: Nothing to reset: no enabled connection is named "
        "'nope'.\n"
    )
    run = await scene.cli("health", "reset", "--provider", "gemini")
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == (
        "switchboard: the gateway refused: Nothing to reset: no enabled connection uses the "
        "provider 'gemini' (providers: anthropic, custom-openai:lim, openai).\n"
    )
    run = await scene.cli("health", "reset", "--provider", "openai", "--connection", "a")
    assert run.returncode == 2
    assert "not allowed with argument" in run.stderr
    # Nothing was reset on the way.
    report = await scene.health_json()
    assert report["providers"][2]["connections"][0]["breaker"]["state"] == "open"
    # The facade, in-process: the same rules.
    with pytest.raises(UnknownTarget, match="no enabled connection is named 'nope'"):
        scene.service.reset_health(connection="nope")
    assert scene.service.reset_health(connection="a") == 1
    assert scene.service.reset_health(provider="custom-openai:lim") == 2
    assert scene.service.health().providers[2].connections[0].breaker.state == "closed"


async def test_admin_routes_want_the_admin_token_and_only_it(scene: Scene) -> None:
    token = json.loads((scene.data_dir / "run" / "gateway.json").read_bytes())["admin_token"]
    endpoint = scene.service.endpoint
    async with aiohttp.ClientSession() as http:

        async def status(method: str, path: str, headers: dict[str, str], **kw: Any) -> int:
            async with http.request(method, endpoint + path, headers=headers, **kw) as response:
                body = await response.json()
                if response.status != 200:
                    assert token not in json.dumps(body)
                return response.status

        refusals = [
            {},
            {ADMIN_HEADER: "wrong"},
            {ADMIN_HEADER: token[:-1]},
            {ADMIN_HEADER: CLIENT_KEY},  # a client key is not an admin token
            {"Authorization": f"Bearer {CLIENT_KEY}"},
            {"Authorization": f"Bearer {token}"},
            {ADMIN_HEADER: "tökén"},
        ]
        for headers in refusals:
            assert await status("GET", HEALTH_PATH, headers) == 401, headers
            assert await status("POST", RESET_PATH, headers, json={}) == 401, headers
        # The admin token is not a client API key either.
        for headers in ({"x-api-key": token}, {"Authorization": f"Bearer {token}"}):
            chat = {"model": "anthropic/claude-x", "messages": [{"role": "user", "content": "x"}]}
            async with http.post(
                f"{endpoint}/v1/chat/completions", headers=headers, json=chat
            ) as response:
                assert response.status == 401
                assert (await response.json())["error"]["code"] == "invalid_api_key"
        admin = {ADMIN_HEADER: token}
        assert await status("GET", HEALTH_PATH, admin) == 200
        for body in ({"connection": 1}, {"stats": "yes"}, {"zone": "x"}, [1]):
            assert await status("POST", RESET_PATH, admin, json=body) == 400, body
        both = {"provider": "openai", "connection": "a"}
        assert await status("POST", RESET_PATH, admin, json=both) == 400
        assert await status("POST", RESET_PATH, admin, data=b"{not json") == 400
        assert await status("POST", RESET_PATH, admin, data=b"") == 200  # empty: everything

    # The token is in the runtime file only: not in the request log nor any other file.
    await scene.service.flush_logs()
    rows = log_rows(scene.data_dir)
    # The fixture's nine requests and the two refused chats; no row for any admin call.
    assert len(rows) == 11 and [r["status"] for r in rows[-2:]] == [401, 401]
    for path, content in folder_files(scene.data_dir).items():
        if path.name != "gateway.json":
            assert token.encode() not in content, path.name


async def test_runtime_file_is_private_and_lives_as_long_as_the_gateway(data_dir: Path) -> None:
    import_toml(data_dir, f'[[api_keys]]\nname = "t"\nkey = "{CLIENT_KEY}"\n')
    service = await start_service(data_dir)
    path = data_dir / "run" / "gateway.json"
    try:
        info = json.loads(path.read_bytes())
        assert info == {
            "pid": os.getpid(),
            "host": "127.0.0.1",
            "port": service.port,
            "admin_token": info["admin_token"],
        }
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", info["admin_token"])  # 32 random bytes
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert [p.name for p in path.parent.iterdir()] == ["gateway.json"]  # no temporaries
    finally:
        await service.stop()
    assert not path.exists()

    # A fresh token per start; a stopping gateway leaves another run's file alone.
    service = await start_service(data_dir)
    try:
        second = json.loads(path.read_bytes())["admin_token"]
        assert second != info["admin_token"]
        write_run_file(data_dir, RunInfo(os.getpid(), "127.0.0.1", 1, "someone else's"))
    finally:
        await service.stop()
    assert json.loads(path.read_bytes())["admin_token"] == "someone else's"


def exited_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return int(child.stdout)


@pytest.mark.parametrize("case", ["no file", "stale pid", "refused"])
async def test_not_running_is_one_line_and_exit_1(
    case: str, data_dir: Path, isolated_home: Path, tmp_path: Path
) -> None:
    if case == "stale pid":
        write_run_file(data_dir, RunInfo(exited_pid(), "127.0.0.1", 9, "t"))
    elif case == "refused":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]  # closed again before the CLI connects
        write_run_file(data_dir, RunInfo(os.getpid(), "127.0.0.1", port, "t"))
    env = child_env(isolated_home)
    for args in (["health"], ["health", "--json"], ["health", "reset", "--connection", "a"]):
        run = await run_cli_async(
            [*args, "--data-dir", str(data_dir)], env=env, log_dir=tmp_path / "out"
        )
        assert (run.returncode, run.stdout, run.stderr) == (1, "", NOT_RUNNING), run.describe()


async def test_a_served_gateway_answers_and_its_file_goes_with_it(
    data_dir: Path, isolated_home: Path, tmp_path: Path
) -> None:
    env = child_env(isolated_home)
    log_dir = tmp_path / "out"
    args = ["serve", "--headless", "--data-dir", str(data_dir), "--port", "0"]
    with ServeProcess(args, env=env, log_dir=log_dir) as proc:
        endpoint = await proc.wait_for_endpoint()
        info = json.loads((data_dir / "run" / "gateway.json").read_bytes())
        assert (info["pid"], f"http://127.0.0.1:{info['port']}") == (proc.proc.pid, endpoint)
        run = await run_cli_async(["health", "--data-dir", str(data_dir)], env=env, log_dir=log_dir)
        assert (run.returncode, run.stdout, run.stderr) == (0, "No enabled connections.\n", "")
        proc.send_signal(signal.SIGTERM)
        assert await proc.wait_exit(15.0) == 0
    assert not (data_dir / "run" / "gateway.json").exists()
    run = await run_cli_async(["health", "--data-dir", str(data_dir)], env=env, log_dir=log_dir)
    assert (run.returncode, run.stderr) == (1, NOT_RUNNING)
